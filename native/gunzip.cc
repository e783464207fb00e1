// Included by fastscan.cc (inside its anonymous namespace).
//
// A streaming gunzip that writes into a buffer the caller gives (src/logs/byteSources.ts): the
// reader of split fills its reused chunk buffers with it, so reading a log allocates no new
// buffer per megabyte. Every Buffer Node's zlib stream allocates is external memory to V8, and
// the main thread ran ~40 full garbage collections per 1M-event day for the reader's and the
// results' buffers (docs/benchmarks.md). It calls the zlib that Node itself exports to addons
// (the same code as node:zlib) and, like node:zlib, reads concatenated members and skips zero
// padding after a member; unlike node:zlib, it also reads a member that follows such padding
// (node:zlib stops there). Also here: copyBytes, the memmove for the same buffers.
//
// The member's CRC-32 is computed with libdeflate's (PCLMUL) rather than zlib's: Node's zlib
// computes it with its table code here, a quarter of the gunzip's time on an AMD EPYC
// (docs/benchmarks.md). zlib is told not to (inflateValidate) and the trailer, the last 8 bytes
// zlib consumed when a member ends, is checked here, CRC and length, with zlib's messages.
// (zlib then no longer checks a header's optional CRC-16, FHCRC; the data's CRC still covers
// every byte read.)

// gunzipNew() → a handle (an external) owning a z_stream, freed with the handle
// gunzipIntoAsync(handle, input: Uint8Array, out: Uint8Array) → a promise of [status, bytes of
//   input used, bytes written, message?]: it stops when `out` is full or the input is used up. Status 1: all the
//   input is used and the last member has ended (the end of the file may come now); 0: inside a
//   member; -1: corrupt data, zlib's message 4th.

struct GunzipState {
  z_stream z;
  bool ended = false;  // a member ended; what follows must be another member or zero padding
  uint32_t crc = 0;    // of the member's bytes so far
  uint32_t size = 0;   // the member's bytes so far, modulo 2^32 (gzip's ISIZE)
  uint8_t last[8] = {};  // the last 8 input bytes zlib consumed: the trailer when a member ends
};

// Keeps the last 8 bytes of `consumed` (what one inflate call consumed) in s.last.
void keepLastConsumed(GunzipState& s, const uint8_t* consumed, size_t n) {
  if (n >= 8) {
    memcpy(s.last, consumed + n - 8, 8);
  } else if (n > 0) {
    memmove(s.last, s.last + n, 8 - n);
    memcpy(s.last + 8 - n, consumed, n);
  }
}

uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void finalizeGunzip(napi_env, void* data, void*) {
  auto* s = static_cast<GunzipState*>(data);
  inflateEnd(&s->z);
  delete s;
}

napi_value GunzipNew(napi_env env, napi_callback_info) {
  auto* s = new GunzipState();
  memset(&s->z, 0, sizeof(s->z));
  napi_value result;
  if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK || inflateValidate(&s->z, 0) != Z_OK) {
    inflateEnd(&s->z);
    delete s;
    napi_throw_error(env, nullptr, "gunzip: inflateInit2 failed");
    return nullptr;
  }
  napi_create_external(env, s, finalizeGunzip, nullptr, &result);
  return result;
}

// One call's work: inflate `in` into `out` until `out` is full or `in` is used up.
struct GunzipCall {
  GunzipState* state;
  uint8_t* in;
  size_t inLen;
  uint8_t* out;
  size_t outLen;
  int status = 0;
  size_t used = 0;
  size_t made = 0;
  const char* error = nullptr;
};

void runGunzip(GunzipCall& c) {
  GunzipState* s = c.state;
  z_stream& z = s->z;
  z.next_in = c.in;
  z.avail_in = static_cast<uInt>(c.inLen);
  z.next_out = c.out;
  z.avail_out = static_cast<uInt>(c.outLen);
  while (z.avail_out > 0) {
    if (s->ended) {
      // node:zlib: zero bytes after a member are padding; anything else starts a new member
      while (z.avail_in > 0 && *z.next_in == 0) z.next_in++, z.avail_in--;
      if (z.avail_in == 0) break;
      inflateReset(&z);  // keeps inflateValidate's setting
      s->ended = false;
      s->crc = 0;
      s->size = 0;
    }
    if (z.avail_in == 0) break;
    const uint8_t* const inBefore = z.next_in;
    uint8_t* const outBefore = z.next_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    const size_t made = static_cast<size_t>(z.next_out - outBefore);
    s->crc = libdeflate_crc32(s->crc, outBefore, made);
    s->size += static_cast<uint32_t>(made);
    keepLastConsumed(*s, inBefore, static_cast<size_t>(z.next_in - inBefore));
    if (rc == Z_STREAM_END) {
      const char* bad = le32(s->last) != s->crc ? "incorrect data check" : le32(s->last + 4) != s->size ? "incorrect length check" : nullptr;
      if (bad != nullptr) {
        c.status = -1;
        c.error = bad;
        break;
      }
      s->ended = true;
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: out full or input used up
    if (rc != Z_OK) {
      c.status = -1;
      c.error = z.msg != nullptr ? z.msg : "zlib error";
      break;
    }
  }
  if (c.status == 0 && s->ended && z.avail_in == 0) c.status = 1;
  c.used = c.inLen - z.avail_in;
  c.made = c.outLen - z.avail_out;
}

napi_value gunzipResult(napi_env env, const GunzipCall& c) {
  napi_value result, v;
  napi_create_array_with_length(env, c.error ? 4 : 3, &result);
  napi_create_int32(env, c.status, &v);
  napi_set_element(env, result, 0, v);
  napi_create_uint32(env, static_cast<uint32_t>(c.used), &v);
  napi_set_element(env, result, 1, v);
  napi_create_uint32(env, static_cast<uint32_t>(c.made), &v);
  napi_set_element(env, result, 2, v);
  if (c.error) {
    napi_create_string_utf8(env, c.error, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, result, 3, v);
  }
  return result;
}

// Reads the (handle, input, out) arguments into `c`; false (a TypeError thrown) when they are wrong.
bool gunzipArguments(napi_env env, napi_callback_info info, GunzipCall& c, napi_value* argv) {
  size_t argc = 3;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* handle = nullptr;
  void* in;
  void* out;
  if (argc < 3 || napi_get_value_external(env, argv[0], &handle) != napi_ok || !typedArrayOf(env, argv[1], napi_uint8_array, in, c.inLen) ||
      !typedArrayOf(env, argv[2], napi_uint8_array, out, c.outLen) || c.inLen > UINT32_MAX || c.outLen > UINT32_MAX) {
    napi_throw_type_error(env, nullptr, "gunzipIntoAsync(handle, input: Uint8Array, out: Uint8Array)");
    return false;
  }
  c.state = static_cast<GunzipState*>(handle);
  c.in = static_cast<uint8_t*>(in);
  c.out = static_cast<uint8_t*>(out);
  return true;
}

// gunzipIntoAsync(handle, input, out) runs one GunzipCall on a thread of libuv's pool (where
// node:zlib's stream gunzips too) and resolves a promise with gunzipResult's array; the handle,
// input and out stay referenced until it is done, and must not be used (nor `out` read) meanwhile.
struct GunzipJob {
  GunzipCall call;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3];
};

void executeGunzipJob(napi_env, void* data) {
  runGunzip(static_cast<GunzipJob*>(data)->call);
}

void completeGunzipJob(napi_env env, napi_status status, void* data) {
  auto* job = static_cast<GunzipJob*>(data);
  napi_value result = gunzipResult(env, job->call);
  if (status == napi_ok) napi_resolve_deferred(env, job->deferred, result);
  else {
    napi_value message, error;
    napi_create_string_utf8(env, "gunzip cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, nullptr, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  for (napi_ref ref : job->refs) napi_delete_reference(env, ref);
  napi_delete_async_work(env, job->work);
  delete job;
}

napi_value GunzipIntoAsync(napi_env env, napi_callback_info info) {
  auto* job = new GunzipJob();
  napi_value argv[3];
  if (!gunzipArguments(env, info, job->call, argv)) {
    delete job;
    return nullptr;
  }
  for (int k = 0; k < 3; k++) napi_create_reference(env, argv[k], 1, &job->refs[k]);
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "edx2bq.gunzip", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, nullptr, name, executeGunzipJob, completeGunzipJob, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

// copyBytes(target: Uint8Array, targetStart: number, source: Uint8Array): memmove. JavaScript
// copies to or from a SharedArrayBuffer byte by byte with relaxed atomics when the two
// offsets are not aligned alike (~3.4 GB/s, against ~10+ for memmove): split copies every row
// out of and into its ring buffers (src/bufferCopy.ts).
napi_value CopyBytes(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  size_t targetLen, sourceLen;
  void* target;
  void* source;
  int64_t start = -1;
  if (argc < 3 || !typedArrayOf(env, argv[0], napi_uint8_array, target, targetLen) || napi_get_value_int64(env, argv[1], &start) != napi_ok ||
      !typedArrayOf(env, argv[2], napi_uint8_array, source, sourceLen)) {
    napi_throw_type_error(env, nullptr, "copyBytes(target: Uint8Array, targetStart: number, source: Uint8Array)");
    return nullptr;
  }
  if (start < 0 || static_cast<uint64_t>(start) > targetLen || sourceLen > targetLen - static_cast<size_t>(start)) {
    napi_throw_range_error(env, nullptr, "copyBytes: source does not fit in target at targetStart");
    return nullptr;
  }
  if (sourceLen > 0) memmove(static_cast<uint8_t*>(target) + start, source, sourceLen);
  return nullptr;
}
