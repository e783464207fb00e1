// Included by fastscan.cc (inside its anonymous namespace).
//
// gzipMembers(src: Uint8Array, offsets: Int32Array, level: number, out: Uint8Array,
//   outOffsets: Int32Array) → bytes written, or minus the bytes `out` needs (nothing written then)
// gzips block i = src[offsets[i] .. offsets[i+1]] as a member of its own into out, member i
// ending at outOffsets[i+1] (outOffsets[0] = 0). It is split's output compressor
// (src/logs/chunkTasks.ts compressBlocks): libdeflate (native/vendor/libdeflate) at level 1
// compresses split's rows ~1.27× as fast as zlib, and ~4% smaller (docs/benchmarks.md).
// The header's mtime is 0, so the bytes depend only on the block and the level.

struct DeflateCompressors {
  libdeflate_compressor* byLevel[13] = {};
  ~DeflateCompressors() {
    for (auto* c : byLevel)
      if (c != nullptr) libdeflate_free_compressor(c);
  }
};
thread_local DeflateCompressors deflateCompressors;

napi_value GzipMembers(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  size_t srcLen, nOffsets, outLen, nOutOffsets;
  void* src;
  void* offsets;
  void* out;
  void* outOffsets;
  int32_t level = -1;
  if (argc < 5 || !typedArrayOf(env, argv[0], napi_uint8_array, src, srcLen) || !typedArrayOf(env, argv[1], napi_int32_array, offsets, nOffsets) ||
      napi_get_value_int32(env, argv[2], &level) != napi_ok || !typedArrayOf(env, argv[3], napi_uint8_array, out, outLen) ||
      !typedArrayOf(env, argv[4], napi_int32_array, outOffsets, nOutOffsets) || level < 0 || level > 12 || nOffsets == 0 || nOutOffsets < nOffsets) {
    napi_throw_type_error(env, nullptr, "gzipMembers(src: Uint8Array, offsets: Int32Array, level: 0-12, out: Uint8Array, outOffsets: Int32Array)");
    return nullptr;
  }
  const auto* in = static_cast<const uint8_t*>(src);
  const auto* off = static_cast<const int32_t*>(offsets);
  const size_t blocks = nOffsets - 1;
  for (size_t i = 0; i < blocks; i++) {
    if (off[i] < 0 || off[i] > off[i + 1] || static_cast<size_t>(off[i + 1]) > srcLen) {
      napi_throw_range_error(env, nullptr, "gzipMembers: offsets out of order or beyond src");
      return nullptr;
    }
  }
  libdeflate_compressor*& c = deflateCompressors.byLevel[level];
  if (c == nullptr) c = libdeflate_alloc_compressor(level);
  if (c == nullptr) {
    napi_throw_error(env, nullptr, "gzipMembers: out of memory");
    return nullptr;
  }
  size_t need = 0;
  for (size_t i = 0; i < blocks; i++) need += libdeflate_gzip_compress_bound(c, off[i + 1] - off[i]);
  napi_value result;
  if (need > outLen || need > INT32_MAX) {
    napi_create_double(env, -static_cast<double>(need), &result);
    return result;
  }
  auto* o = static_cast<uint8_t*>(out);
  auto* oo = static_cast<int32_t*>(outOffsets);
  size_t at = 0;
  oo[0] = 0;
  for (size_t i = 0; i < blocks; i++) {
    const size_t n = off[i + 1] - off[i];
    const size_t made = libdeflate_gzip_compress(c, in + off[i], n, o + at, libdeflate_gzip_compress_bound(c, n));
    if (made == 0) {  // cannot happen with the bound's room
      napi_throw_error(env, nullptr, "gzipMembers: compressed data larger than its bound");
      return nullptr;
    }
    at += made;
    oo[i + 1] = static_cast<int32_t>(at);
  }
  napi_create_double(env, static_cast<double>(at), &result);
  return result;
}
