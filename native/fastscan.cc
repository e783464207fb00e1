// The aggregate-only fast path's field scanner, in native code, one call per chunk.
//
// It is a line-for-line port of src/events/fastCore.ts (scanScratch and its helpers), run over
// every line of a chunk at once: crossing into native code per line would cost more than the
// scan itself. For each line it reports where the core fields' values lie in the chunk, and the
// JavaScript side (src/events/nativeScan.ts) makes strings of the few values it needs.
//
// Contract (the same as fastCore.ts): a line reported as scanned is valid JSON text whose value
// is an object, and the spans give exactly the values JSON.parse(line) would (the last of
// duplicate keys wins; escaped values are handed back with their quotes so that JavaScript
// decodes them with JSON.parse). Anything it cannot vouch for is reported as not scanned, and
// the caller takes the JavaScript path. Its equality with fastCore.ts and JSON.parse is tested on
// every generated and fixture line, on hand-made edge cases and on random mutations
// (test/fastCore.test.ts). A line with the 2012 syslog prefix is read after it, as line.ts
// preprocessLine reads it.
//
// Beyond fastCore.ts it also reads, per line: the time as microseconds (a port of time.ts
// parseTimeMicros), a video event's four payload fields (chunkTasks.ts videoPayloadRow), and
// what module_id's rules read besides (`_id` / `module_id` present, the kind of `context`,
// `context.path`); test/nativeScan.test.ts and test/personDay-generated.test.ts check those.
//
// And for nearly every line it computes the line's facts itself (lineFacts): the course, names
// and addresses as a per-chunk string table, the base-event flags, the video record, and the rows
// of the compact tables (problem_check, show_answer, forum, transcript, enrollment) with module_id
// from ports of src/events/moduleId.ts's rules (objectEventModuleId). Each port names the
// JavaScript it follows; whatever a port cannot vouch for is left to JavaScript.
// test/personDay-generated.test.ts requires the facts to equal, byte for byte, those of the full
// parse + rewrite with this addon switched off.
//
// native/chunkFacts.cc builds the facts batches of the lines whose facts lineFacts computed
// (takeFacts), so that JavaScript handles only the rest. native/rewrite.cc, included at the end,
// is split's rewrite of whole lines (rewriteChunk), which also writes this scan's records (and
// builds those batches) when split runs with aggregates.
//
// Bytes >= 0x80 are accepted inside strings without checking UTF-8: the caller rejects lines
// that are not UTF-8 before it reads any result.

#include <node_api.h>
#include <zlib.h>  // Node exports its zlib to addons (native/gunzip.cc)
#include "vendor/libdeflate/libdeflate.h"  // built with the addon (scripts/build-native.mjs)

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <strings.h>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace {

constexpr int kMaxDepth = 256;
constexpr size_t kMaxBytes = 1 << 20;  // fastCore.ts MAX_CHARS: longer lines are left to JSON.parse
constexpr size_t kPad = 32;            // bytes after the line's NUL, so 16-byte loads stay inside

// Fields, in the order of the result record.
enum Field { F_TIME, F_USERNAME, F_EVENT_TYPE, F_EVENT_SOURCE, F_PAGE, F_IP, F_COURSE_ID, F_CTX_COURSE, F_CTX_USER, F_EVENT, F_CTX_PATH, N_FIELDS };
// Value kinds (must match src/events/nativeScan.ts).
enum Kind { V_ABSENT = 0, V_NULL = 1, V_ASCII = 2, V_UTF8 = 3, V_ESCAPED = 4, V_NUMBER = 5, V_TEXT = 6, V_OTHER = 7, V_CONST = 8 };
// Result record of one line: start, end, scanned (0/1), then kind, start, end of each field,
// then whether the time was parsed (0/1) and, 8-byte aligned, its microseconds as a double.
constexpr int kTimeState = 3 + 3 * N_FIELDS;  // 36
constexpr int kTimeValue = kTimeState + 2;     // 38: 152 bytes into the record (37 pads)
// Video events: whether the payload's four fields were read (0/1), their kinds, their spans
// (strings, in the side buffer), their values (numbers, as doubles).
enum VideoKey { VK_ID, VK_CURRENT_TIME, VK_NEW_TIME, VK_SPEED, N_VIDEO_KEYS };
constexpr int kVideoState = kTimeValue + 2;                // 40
constexpr int kVideoKinds = kVideoState + 1;               // 41..44
constexpr int kVideoSpans = kVideoKinds + N_VIDEO_KEYS + 1;  // 46..53 (45 pads)
constexpr int kVideoValues = kVideoSpans + 2 * N_VIDEO_KEYS;  // 54..61, 8-byte aligned
// What module_id's rules read besides the fields above: whether the line has `_id` and
// `module_id` keys, and whether `context` is absent (0), an object (1) or something else (2).
// (context.path is field F_CTX_PATH; a path of another type is V_OTHER.)
constexpr int kHasId = kVideoValues + 2 * N_VIDEO_KEYS;    // 62
constexpr int kHasModuleId = kHasId + 1;                    // 63
constexpr int kContextKind = kHasModuleId + 1;              // 64
// The line's facts, when the native code computed them all (a plain line: see lineFacts). Strings
// are indices into the chunk's string table (-1: null); position and speed are doubles (NaN: none).
constexpr int kFactsState = kContextKind + 2;              // 66: 1 when the facts below are set
constexpr int kFactsCourse = kFactsState + 1;              // 67: the raw context.course_id or the guessed id; -1: no course
constexpr int kFactsUser = kFactsCourse + 1;               // 68: username (-1 unless a string)
constexpr int kFactsNamed = kFactsUser + 1;                // 69: 1 when username is a non-empty string
constexpr int kFactsIp = kFactsNamed + 1;                  // 70: ip (-1 unless a string)
constexpr int kFactsFlags = kFactsIp + 1;                  // 71: base event flags, -1 when not a base event
constexpr int kFactsVideoType = kFactsFlags + 1;           // 72: 0 play, 1 pause, 2 stop, 3 seek; -1 not a video event
constexpr int kFactsVideoId = kFactsVideoType + 1;         // 73: the parsed video id (-1: null)
constexpr int kFactsPosition = kFactsVideoId + 1;          // 74..75, 8-byte aligned
constexpr int kFactsSpeed = kFactsPosition + 2;            // 76..77
// For a line whose facts are left to JavaScript (kFactsState 0): for a problem_check event, 1
// when the native code read the payload object's members that chunkTasks.ts
// problemCheckPayloadRow and module_id read (none of its keys touched by R17, none escaped); then
// each one's value span in the chunk (-1, -1: absent), in ProblemCheckKey order. Forum events: 2,
// and the spans of the members forumPayloadRow and module_id read, in ForumKey order
// (readPayloadMembers reads both).
enum ProblemCheckKey { PK_ANSWERS, PK_ATTEMPTS, PK_SUCCESS, PK_GRADE, PK_MAX_GRADE, PK_ID, PK_PROBLEM_ID, PK_NEW, PK_POST, N_PROBLEM_KEYS };
constexpr int kProblemState = kFactsSpeed + 2;             // 78
constexpr int kProblemSpans = kProblemState + 1;           // 79..96
constexpr int kStride = kProblemSpans + 2 * N_PROBLEM_KEYS + 1;  // 98 int32: records stay 8-byte aligned
// When lineFacts also computed the row a compact table gets from the line (see PayloadFacts), the
// state is one of these and the same slots hold the row: up to 6 strings (string-table indices,
// -1: null), then up to 3 numbers (doubles, NaN: null).
//   3 problem_check: module_id, student_answers, success; attempts, grade, max_grade
//   4 show_answer: module_id
//   5 transcript download (no value); 6 transcript language: the language
//   7 forum: forum_action, thread_id, subject, target_user_id, search_query, event_GET
//   8 enrollment: mode, event_type; user_id
constexpr int kProblemCheckFacts = 3, kShowAnswerFacts = 4, kTranscriptDownload = 5, kTranscriptLanguage = 6, kForumFacts = 7, kEnrollmentFacts = 8;
constexpr int kPayloadStrings = kProblemSpans;             // 79..84
constexpr int kPayloadNumbers = kPayloadStrings + 7;       // 86..91, 8-byte aligned
constexpr int kPayloadMaxStrings = 6, kPayloadMaxNumbers = 3;
// Which members readPayloadMembers read.
constexpr int kProblemMembers = 1, kForumMembers = 2, kEnrollmentMembers = 3;

struct Span {
  int32_t kind, start, end;
};

// The commonest event sources and named event types: a value equal to one of these is reported
// as V_CONST with its index, and JavaScript uses one string made once (the `constants` export)
// instead of making a string per line (most lines carry one of them).
const char* const kConstants[] = {
    "browser", "server", "mobile", "play_video", "load_video", "pause_video", "problem_check", "seq_next", "seq_goto", "seek_video",
    "page_close", "speed_change_video", "seq_prev", "show_transcript", "stop_video", "hide_transcript", "problem_graded",
    "problem_show", "problem_save", "problem_reset", "show_answer", "showanswer", "save_problem_check", "edx.video.played",
    "edx.video.paused", "edx.video.stopped", "edx.video.position.changed", "edx.video.loaded", "edx.ui.lms.link_clicked",
    "edx.ui.lms.sequence.next_selected", "edx.ui.lms.sequence.previous_selected", "edx.ui.lms.sequence.tab_selected",
    "edx.ui.lms.outline.selected", "textbook.pdf.page.navigated", "edx.forum.thread.created", "edx.forum.response.created",
    "edx.forum.comment.created", "edx.forum.searched", "edx.course.enrollment.activated", "edx.course.enrollment.deactivated",
    "edx.course.enrollment.mode_changed",
};
constexpr int kNumConstants = sizeof kConstants / sizeof kConstants[0];

// A plain ASCII value of one of the fields named: V_CONST and its index when it is a constant.
size_t constantLength(int k) {
  static const std::array<size_t, kNumConstants> lengths = [] {
    std::array<size_t, kNumConstants> a{};
    for (int i = 0; i < kNumConstants; i++) a[i] = strlen(kConstants[i]);
    return a;
  }();
  return lengths[k];
}

// The constants of each length (lengths from 64 up have none).
struct ConstantsByLength {
  std::array<std::array<int8_t, 8>, 64> of{};
  ConstantsByLength() {
    for (auto& list : of) list.fill(-1);
    for (int k = 0; k < kNumConstants; k++) {
      auto& list = of[strlen(kConstants[k])];
      size_t i = 0;
      while (i < list.size() && list[i] >= 0) i++;
      // (6 at most share a length today; one left out would only be read as plain bytes)
      if (i < list.size()) list[i] = static_cast<int8_t>(k);
    }
  }
};
const ConstantsByLength constantsByLength;

void markConstant(const uint8_t* b, Span& v) {
  if (v.kind != V_ASCII) return;
  const size_t n = v.end - v.start;
  if (n >= 64) return;
  for (const int8_t k : constantsByLength.of[n]) {
    if (k < 0) return;
    if (memcmp(kConstants[k], b + v.start, n) == 0) {
      v = {V_CONST, k, k};
      return;
    }
  }
}

// A growable byte buffer whose appends are inlined (std::string's are calls, and a rewritten row
// is built of about a hundred of them). Only what the writers here use.
struct Buf {
  char* p;
  size_t n = 0, cap = 256;
  Buf() : p(static_cast<char*>(malloc(256))) {}
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { free(p); }
  __attribute__((noinline)) void grow(size_t need) {
    while (cap < need) cap *= 2;
    p = static_cast<char*>(realloc(p, cap));
    if (p == nullptr) abort();
  }
  Buf& append(const char* s, size_t k) {
    if (n + k > cap) grow(n + k);
    memcpy(p + n, s, k);
    n += k;
    return *this;
  }
  void append(size_t count, char c) {
    if (n + count > cap) grow(n + count);
    memset(p + n, c, count);
    n += count;
  }
  Buf& operator+=(char c) {
    if (n + 1 > cap) grow(n + 1);
    p[n++] = c;
    return *this;
  }
  Buf& operator+=(const char* s) { return append(s, strlen(s)); }
  Buf& operator+=(const std::string& s) { return append(s.data(), s.size()); }
  size_t size() const { return n; }
  const char* data() const { return p; }
  void clear() { n = 0; }
  void resize(size_t k) { n = k; }  // only to cut back
};

// Each worker thread has its own scratch line (a NUL after the line, then padding).
thread_local std::vector<uint8_t> scratch;

inline bool isHex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

inline size_t ws(const uint8_t* b, size_t i) {
  uint8_t c = b[i];
  while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = b[++i];
  return i;
}

// Whether p[0, n) is all ASCII, eight bytes at a time.
inline bool asciiBytes(const uint8_t* p, size_t n) {
  uint64_t high = 0;
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t w;
    memcpy(&w, p + k, 8);
    high |= w;
  }
  for (; k < n; k++) high |= p[k];
  return (high & 0x8080808080808080ULL) == 0;
}

// asciiBytes of text in a scratch buffer padded by kPad (a line's, a payload's): it may read up
// to 15 bytes past p + n. Sixteen bytes at a time, and no byte-by-byte tail (measured: the tail
// loop made asciiBytes ~0.1 µs of every line's fused scan, whose string fields are short).
inline bool asciiPadded(const uint8_t* p, size_t n) {
#if defined(__SSE2__)
  size_t k = 0;
  for (; k + 16 <= n; k += 16)
    if (_mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k))) != 0) return false;
  if (k == n) return true;
  const int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)));
  return (high & ((1 << (n - k)) - 1)) == 0;
#else
  return asciiBytes(p, n);
#endif
}

#if defined(__SSE2__)
// Of the 16 bytes at p, those a JSON string cannot hold as they are — '"', '\\' and control
// characters — as a bit mask (bit k: p[k]).
inline int stringSpecials16(const uint8_t* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                   _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x));  // x <= 0x1f, unsigned
  return _mm_movemask_epi8(hit);
}
#endif

// JSON.stringify of a string whose UTF-8 bytes (no lone surrogate) are s[0, n): runs of bytes
// that need no escape are copied whole (found 16 bytes at a time where SSE2 is there).
template <class Out>
void appendJsString(const uint8_t* s, size_t n, Out& out) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  size_t from = 0;
  size_t i = 0;
  for (;;) {
#if defined(__SSE2__)
    while (i + 16 <= n) {
      const int m = stringSpecials16(s + i);
      if (m != 0) {
        i += __builtin_ctz(static_cast<unsigned>(m));
        break;
      }
      i += 16;
    }
#endif
    while (i < n && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') i++;
    if (i >= n) break;
    const uint8_t c = s[i];
    out.append(reinterpret_cast<const char*>(s + from), i - from);
    from = ++i;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      continue;
    }
    const char* shortForm = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\f' ? "\\f" : c == '\r' ? "\\r" : nullptr;
    if (shortForm != nullptr) {
      out += shortForm;
    } else {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out.append(reinterpret_cast<const char*>(s + from), n - from);
  out += '"';
}
template <class Str, class Out>
inline void appendJsString(const Str& s, Out& out) {
  appendJsString(reinterpret_cast<const uint8_t*>(s.data()), s.size(), out);
}

// A string; i is just after its opening quote. Returns the index after the closing quote or
// SIZE_MAX; sets esc when it held an escape.
size_t scanString(const uint8_t* b, size_t i, bool& esc) {
  esc = false;
  for (;;) {
#if defined(__SSE2__)
    int m;
    while ((m = stringSpecials16(b + i)) == 0) i += 16;
    i += __builtin_ctz(static_cast<unsigned>(m));
#else
    while (b[i] != '"' && b[i] != '\\' && b[i] >= 0x20) i++;
#endif
    uint8_t c = b[i];
    if (c == '"') return i + 1;
    if (c != '\\') return SIZE_MAX;  // a control character, or the NUL at the end of the line
    c = b[i + 1];
    if (c == 'u') {
      if (!(isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]))) return SIZE_MAX;
      i += 6;
    } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
      i += 2;
    } else {
      return SIZE_MAX;
    }
    esc = true;
  }
}

inline bool digit(uint8_t c) { return c >= '0' && c <= '9'; }

size_t scanNumber(const uint8_t* b, size_t i) {
  uint8_t c = b[i];
  if (c == '-') c = b[++i];
  if (c == '0') {
    c = b[++i];
  } else if (c >= '1' && c <= '9') {
    do c = b[++i];
    while (digit(c));
  } else {
    return SIZE_MAX;
  }
  if (c == '.') {
    c = b[++i];
    if (!digit(c)) return SIZE_MAX;
    do c = b[++i];
    while (digit(c));
  }
  if (c == 'e' || c == 'E') {
    c = b[++i];
    if (c == '+' || c == '-') c = b[++i];
    if (!digit(c)) return SIZE_MAX;
    do c = b[++i];
    while (digit(c));
  }
  return i;
}

// ---------------------------------------------------------------- time

// A port of src/events/time.ts parseTimeMicros, for a time string of plain ASCII bytes (no
// escapes): the same accepted forms and the same double arithmetic, so the same number (NaN for
// a time it refuses). Reads only s[0, n).
int digitsAt(const uint8_t* s, size_t i, int n) {
  int v = 0;
  for (int k = 0; k < n; k++) {
    const int c = s[i + k] - '0';
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  const int64_t yy = m <= 2 ? y - 1 : y;
  const int64_t era = floorDiv(yy, 400);
  const int64_t yoe = yy - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool isValidDate(int y, int m, int d) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= (m == 2 && leap ? 29 : kDays[m - 1]);
}

double parseTimeMicros(const uint8_t* s, size_t n) {
  const double nan = __builtin_nan("");
  if (n < 19) return nan;
  const int y = digitsAt(s, 0, 4);
  if (y < 0 || s[4] != '-') return nan;
  const int mo = digitsAt(s, 5, 2);
  if (mo < 0 || s[7] != '-') return nan;
  const int d = digitsAt(s, 8, 2);
  if (d < 0 || (s[10] != 'T' && s[10] != ' ')) return nan;
  const int h = digitsAt(s, 11, 2);
  if (h < 0 || s[13] != ':') return nan;
  const int mi = digitsAt(s, 14, 2);
  if (mi < 0 || s[16] != ':') return nan;
  const int se = digitsAt(s, 17, 2);
  if (se < 0 || h > 23 || mi > 59 || se > 59 || !isValidDate(y, mo, d)) return nan;
  size_t i = 19;
  int64_t frac = 0;
  if (i < n && s[i] == '.') {
    i++;
    int k = 0;
    while (i < n) {
      const int c = s[i] - '0';
      if (c < 0 || c > 9) break;
      if (k < 6) frac = frac * 10 + c;
      k++;
      i++;
    }
    if (k > 9) return nan;
    for (int p = k < 6 ? k : 6; p < 6; p++) frac *= 10;
  }
  int offsetMin = 0;
  if (i < n) {
    const uint8_t c = s[i];
    if (c == 'Z' && i + 1 == n) {
      i++;
    } else if (c == '+' || c == '-') {
      int oh, om;
      if (i + 6 == n && s[i + 3] == ':') {
        oh = digitsAt(s, i + 1, 2);
        om = digitsAt(s, i + 4, 2);
      } else if (i + 5 == n) {
        oh = digitsAt(s, i + 1, 2);
        om = digitsAt(s, i + 3, 2);
      } else {
        return nan;
      }
      if (oh < 0 || om < 0 || oh > 23 || om > 59) return nan;
      offsetMin = (c == '-' ? -1 : 1) * (oh * 60 + om);
      i = n;
    } else {
      return nan;
    }
  }
  if (i != n) return nan;
  const int64_t secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - static_cast<int64_t>(offsetMin) * 60;
  // the same two IEEE operations as JavaScript's secs * 1_000_000 + frac (exact integers before)
  return static_cast<double>(secs) * 1000000.0 + static_cast<double>(frac);
}

// ---------------------------------------------------------------- key names

constexpr int K_NONE = -1, K_CONTEXT = 100, K_ID = 101, K_MODULE_ID = 102;

// A key's name as JSON.parse decodes it, when every code unit is ASCII (the names looked for are
// ASCII, so a key with any other unit matches none). a is the opening quote, e just after the
// closing one; the string is valid.
bool decodeAsciiKey(const uint8_t* b, size_t a, size_t e, char* out, size_t cap, size_t& len) {
  len = 0;
  for (size_t i = a + 1; i + 1 < e;) {
    uint8_t c = b[i];
    unsigned unit;
    if (c == '\\') {
      const uint8_t k = b[i + 1];
      if (k == 'u') {
        unit = 0;
        for (int j = 2; j < 6; j++) {
          const uint8_t h = b[i + j];
          unit = unit * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        i += 6;
      } else {
        unit = k == 'b' ? '\b' : k == 'f' ? '\f' : k == 'n' ? '\n' : k == 'r' ? '\r' : k == 't' ? '\t' : k;
        i += 2;
      }
    } else {
      unit = c;
      i++;
    }
    if (unit >= 0x80 || len == cap) return false;
    out[len++] = static_cast<char>(unit);
  }
  return true;
}

int topKey(const char* k, size_t n) {
  switch (n) {
    case 2: return memcmp(k, "ip", 2) == 0 ? F_IP : K_NONE;
    case 3: return memcmp(k, "_id", 3) == 0 ? K_ID : K_NONE;
    case 4: return memcmp(k, "time", 4) == 0 ? F_TIME : memcmp(k, "page", 4) == 0 ? F_PAGE : K_NONE;
    case 5: return memcmp(k, "event", 5) == 0 ? F_EVENT : K_NONE;
    case 7: return memcmp(k, "context", 7) == 0 ? K_CONTEXT : K_NONE;
    case 8: return memcmp(k, "username", 8) == 0 ? F_USERNAME : K_NONE;
    case 9: return memcmp(k, "course_id", 9) == 0 ? F_COURSE_ID : memcmp(k, "module_id", 9) == 0 ? K_MODULE_ID : K_NONE;
    case 10: return memcmp(k, "event_type", 10) == 0 ? F_EVENT_TYPE : K_NONE;
    case 12: return memcmp(k, "event_source", 12) == 0 ? F_EVENT_SOURCE : K_NONE;
    default: return K_NONE;
  }
}

int ctxKey(const char* k, size_t n) {
  if (n == 9) return memcmp(k, "course_id", 9) == 0 ? F_CTX_COURSE : K_NONE;
  if (n == 7) return memcmp(k, "user_id", 7) == 0 ? F_CTX_USER : K_NONE;
  if (n == 4) return memcmp(k, "path", 4) == 0 ? F_CTX_PATH : K_NONE;
  return K_NONE;
}

// No key is looked for (skipping).
int noKey(const char*, size_t) { return K_NONE; }

// A key of a problem_check payload: its ProblemCheckKey, K_NONE, or K_TOUCHED when R17 would
// rename it or find it funny (rephrase.ts keyIsFunny / keyNeedsRename).
constexpr int K_TOUCHED = 103, K_ESCAPED = 104;
inline bool touchedByR17(const char* k, size_t n) {
  return n == 0 || (k[0] >= '0' && k[0] <= '9') || (n >= 4 && memcmp(k, "i4x-", 4) == 0) || (n >= 7 && memcmp(k, "xblock.", 7) == 0) ||
         memchr(k, '-', n) != nullptr || memchr(k, '.', n) != nullptr;
}
int problemKey(const char* k, size_t n) {
  if (touchedByR17(k, n)) return K_TOUCHED;
  switch (n) {
    case 2: return memcmp(k, "id", 2) == 0 ? PK_ID : K_NONE;
    case 3: return memcmp(k, "new", 3) == 0 ? PK_NEW : K_NONE;
    case 4: return memcmp(k, "POST", 4) == 0 ? PK_POST : K_NONE;
    case 5: return memcmp(k, "grade", 5) == 0 ? PK_GRADE : K_NONE;
    case 7: return memcmp(k, "answers", 7) == 0 ? PK_ANSWERS : memcmp(k, "success", 7) == 0 ? PK_SUCCESS : K_NONE;
    case 8: return memcmp(k, "attempts", 8) == 0 ? PK_ATTEMPTS : K_NONE;
    case 9: return memcmp(k, "max_grade", 9) == 0 ? PK_MAX_GRADE : K_NONE;
    case 10: return memcmp(k, "problem_id", 10) == 0 ? PK_PROBLEM_ID : K_NONE;
    default: return K_NONE;
  }
}

// A key of an enrollment event's payload (the full event_struct of R6): user_id, mode, K_NONE, or
// K_TOUCHED when R17 would rename it or find it funny.
enum EnrollmentKey { EK_USER_ID, EK_MODE, N_ENROLLMENT_KEYS };
int enrollmentKey(const char* k, size_t n) {
  if (touchedByR17(k, n)) return K_TOUCHED;
  if (n == 7 && memcmp(k, "user_id", 7) == 0) return EK_USER_ID;
  if (n == 4 && memcmp(k, "mode", 4) == 0) return EK_MODE;
  return K_NONE;
}

// The key whose quoted text is b[a, e): which field it names, decoding escapes when it has any.
template <int (*Match)(const char*, size_t)>
int keyOf(const uint8_t* b, size_t a, size_t e, bool esc) {
  if constexpr (Match == noKey) return K_NONE;
  if constexpr (Match == problemKey || Match == enrollmentKey) {
    if (esc) return K_ESCAPED;  // whether R17 touches it is left to JavaScript
  }
  if (!esc) return Match(reinterpret_cast<const char*>(b + a + 1), e - a - 2);
  char name[16];
  size_t n;
  return decodeAsciiKey(b, a, e, name, sizeof name, n) ? Match(name, n) : K_NONE;
}

// ---------------------------------------------------------------- walking and skipping values

// The members of an object; i is just after its '{'. For each member, walkMembers' onMember(ka,
// ke, esc, i) gets the key's quoted text b[ka, ke) (esc: it holds an escape) and walkObject's
// onMember(key, i) the key as Match names it (K_NONE for the others); i is at the value's first
// byte, and onMember returns the index just after the value, or SIZE_MAX to give up. Both return
// the index after the '}', or SIZE_MAX when the object is invalid or onMember gave up.
template <typename OnMember>
inline size_t walkMembers(const uint8_t* b, size_t i, OnMember&& onMember) {
  uint8_t c = b[i];
  if (c <= 32) c = b[i = ws(b, i)];
  if (c == '}') return i + 1;
  for (;;) {
    if (c != '"') return SIZE_MAX;
    const size_t kStart = i;
    bool esc;
    i = scanString(b, i + 1, esc);
    if (i == SIZE_MAX) return SIZE_MAX;
    const size_t kEnd = i;
    if (b[i] != ':') {
      i = ws(b, i);
      if (b[i] != ':') return SIZE_MAX;
    }
    c = b[++i];
    if (c <= 32) i = ws(b, i);
    i = onMember(kStart, kEnd, esc, i);
    if (i == SIZE_MAX) return SIZE_MAX;
    c = b[i];
    if (c <= 32) c = b[i = ws(b, i)];
    if (c == ',') {
      c = b[++i];
      if (c <= 32) c = b[i = ws(b, i)];
    } else if (c == '}') {
      return i + 1;
    } else {
      return SIZE_MAX;
    }
  }
}

template <int (*Match)(const char*, size_t), typename OnMember>
inline size_t walkObject(const uint8_t* b, size_t i, OnMember&& onMember) {
  return walkMembers(b, i, [&](size_t ka, size_t ke, bool esc, size_t at) { return onMember(keyOf<Match>(b, ka, ke, esc), at); });
}

size_t skipValue(const uint8_t* b, size_t i, int depth);

size_t skipObject(const uint8_t* b, size_t i, int depth) {
  if (depth > kMaxDepth) return SIZE_MAX;
  return walkObject<noKey>(b, i, [&](int, size_t at) { return skipValue(b, at, depth); });
}

size_t skipArray(const uint8_t* b, size_t i, int depth) {
  if (depth > kMaxDepth) return SIZE_MAX;
  uint8_t c = b[i];
  if (c <= 32) c = b[i = ws(b, i)];
  if (c == ']') return i + 1;
  for (;;) {
    i = skipValue(b, i, depth);
    if (i == SIZE_MAX) return SIZE_MAX;
    c = b[i];
    if (c <= 32) c = b[i = ws(b, i)];
    if (c == ',') {
      c = b[++i];
      if (c <= 32) i = ws(b, i);
    } else if (c == ']') {
      return i + 1;
    } else {
      return SIZE_MAX;
    }
  }
}

size_t skipValue(const uint8_t* b, size_t i, int depth) {
  const uint8_t c = b[i];
  bool esc;
  if (c == '"') return scanString(b, i + 1, esc);
  if (c == '{') return skipObject(b, i + 1, depth + 1);
  if (c == '-' || digit(c)) return scanNumber(b, i);
  if (c == '[') return skipArray(b, i + 1, depth + 1);
  if (c == 'n') return b[i + 1] == 'u' && b[i + 2] == 'l' && b[i + 3] == 'l' ? i + 4 : SIZE_MAX;
  if (c == 't') return b[i + 1] == 'r' && b[i + 2] == 'u' && b[i + 3] == 'e' ? i + 4 : SIZE_MAX;
  if (c == 'f') return b[i + 1] == 'a' && b[i + 2] == 'l' && b[i + 3] == 's' && b[i + 4] == 'e' ? i + 5 : SIZE_MAX;
  return SIZE_MAX;
}

// ---------------------------------------------------------------- needed values

// A value that must be a JSON string or null; false when it is of another type or invalid.
bool readStringOrNull(const uint8_t* b, size_t i, Span& out, size_t& end) {
  if (b[i] == '"') {
    bool esc;
    const size_t e = scanString(b, i + 1, esc);
    if (e == SIZE_MAX) return false;
    end = e;
    if (esc) {
      out = {V_ESCAPED, static_cast<int32_t>(i), static_cast<int32_t>(e)};  // with its quotes
    } else {
      const bool ascii = asciiPadded(b + i + 1, e - i - 2);
      out = {ascii ? V_ASCII : V_UTF8, static_cast<int32_t>(i + 1), static_cast<int32_t>(e - 1)};
    }
    return true;
  }
  if (b[i] == 'n' && b[i + 1] == 'u' && b[i + 2] == 'l' && b[i + 3] == 'l') {
    end = i + 4;
    out = {V_NULL, 0, 0};
    return true;
  }
  return false;
}


// readStringOrNull as a member value: the index after it, or SIZE_MAX.
inline size_t stringOrNullAt(const uint8_t* b, size_t i, Span& out) {
  size_t end;
  return readStringOrNull(b, i, out, end) ? end : SIZE_MAX;
}

// The context object; i is just after its '{'. Sets its three fields (absent unless present);
// returns the index after the '}', or SIZE_MAX when invalid or a needed value has another type.
size_t scanContext(const uint8_t* b, size_t i, Span& course, Span& user, Span& path) {
  course = {V_ABSENT, 0, 0};
  user = {V_ABSENT, 0, 0};
  path = {V_ABSENT, 0, 0};
  return walkObject<ctxKey>(b, i, [&](int key, size_t at) -> size_t {
    if (key == K_NONE) return skipValue(b, at, 2);
    if (key == F_CTX_COURSE) return stringOrNullAt(b, at, course);
    if (key == F_CTX_PATH) {
      // read for module_id only: a path of another type is noted, never a reason to give up
      size_t e = stringOrNullAt(b, at, path);
      if (e == SIZE_MAX) {
        e = skipValue(b, at, 2);
        path = {V_OTHER, static_cast<int32_t>(at), static_cast<int32_t>(e)};
      }
      return e;
    }
    // user_id: a number or a string / null
    if (b[at] == '-' || digit(b[at])) {
      const size_t e = scanNumber(b, at);
      user = {V_NUMBER, static_cast<int32_t>(at), static_cast<int32_t>(e)};
      return e;
    }
    return stringOrNullAt(b, at, user);
  });
}

// One line in the scratch buffer (nb bytes, NUL after them). Spans are relative to its start.
struct LineFlags {
  bool hasId, hasModuleId;
  int contextKind;
};

bool scanLine(const uint8_t* b, size_t nb, Span* f, LineFlags& flags) {
  for (int k = 0; k < N_FIELDS; k++) f[k] = {V_ABSENT, 0, 0};
  flags = {false, false, 0};
  size_t i = ws(b, 0);
  if (b[i] != '{') return false;
  i = walkObject<topKey>(b, i + 1, [&](int key, size_t at) -> size_t {
    if (key == K_NONE || key == K_ID || key == K_MODULE_ID) {
      if (key == K_ID) flags.hasId = true;
      if (key == K_MODULE_ID) flags.hasModuleId = true;
      return skipValue(b, at, 1);
    }
    if (key == F_EVENT) {
      const size_t e = skipValue(b, at, 1);
      f[F_EVENT] = {V_TEXT, static_cast<int32_t>(at), static_cast<int32_t>(e)};
      return e;
    }
    if (key == K_CONTEXT) {
      if (b[at] == '{') {
        flags.contextKind = 1;
        return scanContext(b, at + 1, f[F_CTX_COURSE], f[F_CTX_USER], f[F_CTX_PATH]);
      }
      // not an object: context.course_id / user_id / path are undefined (the last `context` wins)
      f[F_CTX_COURSE] = {V_ABSENT, 0, 0};
      f[F_CTX_USER] = {V_ABSENT, 0, 0};
      f[F_CTX_PATH] = {V_ABSENT, 0, 0};
      flags.contextKind = 2;
      return skipValue(b, at, 1);
    }
    return stringOrNullAt(b, at, f[key]);
  });
  // nothing but whitespace after the closing '}' (the NUL at nb ends the line)
  return i != SIZE_MAX && ws(b, i) == nb;
}

// ---------------------------------------------------------------- video payloads

// The four fields the video facts read from a video event's payload (src/logs/chunkTasks.ts
// videoPayloadRow): the payload is the `event` value, or the JSON text a string `event` holds;
// it must be an object; `id` a string or null; `currentTime`, `new_time`, `speed` numbers, null,
// or strings of the form -?\d{1,15}(\.\d{1,15})?. Anything else — and anything this code does not
// vouch for (escapes inside the payload's strings, a lone surrogate) — is left to JavaScript.

struct VideoValue {
  int32_t kind;  // V_ABSENT, V_NULL, V_ASCII / V_UTF8 (a string: span into the side buffer), V_NUMBER
  int32_t start, end;
  double number;
};

thread_local std::vector<uint8_t> payloadScratch;

bool isVideoType(const uint8_t* b, const Span& t) {
  const char* k;
  size_t n;
  if (t.kind == V_CONST) {
    k = kConstants[t.start];
    n = strlen(k);
  } else if (t.kind == V_ASCII) {
    k = reinterpret_cast<const char*>(b + t.start);
    n = t.end - t.start;
  } else {
    return false;
  }
  return (n == 10 && memcmp(k, "play_video", 10) == 0) || (n == 11 && memcmp(k, "pause_video", 11) == 0) ||
         (n == 10 && memcmp(k, "stop_video", 10) == 0) || (n == 10 && memcmp(k, "seek_video", 10) == 0);
}

int videoKey(const char* k, size_t n) {
  if (n == 2 && memcmp(k, "id", 2) == 0) return VK_ID;
  if (n == 11 && memcmp(k, "currentTime", 11) == 0) return VK_CURRENT_TIME;
  if (n == 8 && memcmp(k, "new_time", 8) == 0) return VK_NEW_TIME;
  if (n == 5 && memcmp(k, "speed", 5) == 0) return VK_SPEED;
  return K_NONE;
}

// -?\d{1,15}(\.\d{1,15})? over all of b[a, e)
bool isPlainDecimal(const uint8_t* b, size_t a, size_t e) {
  size_t i = a;
  if (i < e && b[i] == '-') i++;
  size_t d = i;
  while (i < e && digit(b[i])) i++;
  if (i - d < 1 || i - d > 15) return false;
  if (i == e) return true;
  if (b[i] != '.') return false;
  d = ++i;
  while (i < e && digit(b[i])) i++;
  return i == e && i - d >= 1 && i - d <= 15;
}

// Decodes the body of a valid JSON string b[a, e) (between its quotes) into UTF-8 in `out`,
// followed by a NUL and padding, and sets its length; false for a lone surrogate (not UTF-8).
bool decodeJsonString(const uint8_t* b, size_t a, size_t e, std::vector<uint8_t>& out, size_t& length) {
  if (out.size() < (e - a) + 1 + kPad) out.resize((e - a) + 1 + kPad + ((e - a) >> 1));
  uint8_t* o = out.data();
  size_t n = 0;
  for (size_t i = a; i < e;) {
    const uint8_t c = b[i];
    if (c != '\\') {
      o[n++] = c;
      i++;
      continue;
    }
    const uint8_t k = b[i + 1];
    if (k != 'u') {
      o[n++] = k == 'b' ? '\b' : k == 'f' ? '\f' : k == 'n' ? '\n' : k == 'r' ? '\r' : k == 't' ? '\t' : k;
      i += 2;
      continue;
    }
    auto hex4 = [&](size_t at) {
      unsigned u = 0;
      for (int j = 0; j < 4; j++) {
        const uint8_t h = b[at + j];
        u = u * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      return u;
    };
    unsigned cp = hex4(i + 2);
    i += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff) return false;
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (!(i + 6 <= e && b[i] == '\\' && b[i + 1] == 'u')) return false;
      const unsigned lo = hex4(i + 2);
      if (lo < 0xdc00 || lo > 0xdfff) return false;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      i += 6;
    }
    if (cp < 0x80) {
      o[n++] = static_cast<uint8_t>(cp);
    } else if (cp < 0x800) {
      o[n++] = static_cast<uint8_t>(0xc0 | (cp >> 6));
      o[n++] = static_cast<uint8_t>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      o[n++] = static_cast<uint8_t>(0xe0 | (cp >> 12));
      o[n++] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3f));
      o[n++] = static_cast<uint8_t>(0x80 | (cp & 0x3f));
    } else {
      o[n++] = static_cast<uint8_t>(0xf0 | (cp >> 18));
      o[n++] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3f));
      o[n++] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3f));
      o[n++] = static_cast<uint8_t>(0x80 | (cp & 0x3f));
    }
  }
  memset(o + n, 0, 1 + kPad);
  length = n;
  return true;
}

// The payload object b[0, n) (NUL after it): its four fields, the id's bytes appended to `side`
// at *sideAt (which has room for n more bytes). False when not vouched for.
bool scanVideoPayload(const uint8_t* b, size_t n, VideoValue* v, uint8_t* side, size_t& sideAt) {
  for (int k = 0; k < N_VIDEO_KEYS; k++) v[k] = {V_ABSENT, 0, 0, 0};
  size_t i = ws(b, 0);
  if (b[i] != '{') return false;
  i = walkObject<videoKey>(b, i + 1, [&](int key, size_t at) -> size_t {
    if (key == K_NONE) return skipValue(b, at, 1);
    const uint8_t c = b[at];
    if (c == 'n') {
      if (!(b[at + 1] == 'u' && b[at + 2] == 'l' && b[at + 3] == 'l')) return SIZE_MAX;
      v[key] = {V_NULL, 0, 0, 0};
      return at + 4;
    }
    if (c == '"') {
      bool esc;
      const size_t e = scanString(b, at + 1, esc);
      if (e == SIZE_MAX || esc) return SIZE_MAX;
      if (key != VK_ID && !isPlainDecimal(b, at + 1, e - 1)) return SIZE_MAX;
      const bool ascii = asciiPadded(b + at + 1, e - at - 2);
      const size_t len = e - 1 - (at + 1);
      memcpy(side + sideAt, b + at + 1, len);
      v[key] = {ascii ? V_ASCII : V_UTF8, static_cast<int32_t>(sideAt), static_cast<int32_t>(sideAt + len), 0};
      sideAt += len;
      return e;
    }
    if (key != VK_ID && (c == '-' || digit(c))) {
      const size_t e = scanNumber(b, at);
      if (e == SIZE_MAX) return SIZE_MAX;
      double d;
      const auto r = std::from_chars(reinterpret_cast<const char*>(b + at), reinterpret_cast<const char*>(b + e), d);
      // out of range: JSON.parse gives ±Infinity or ±0; not worth matching here
      if (r.ec != std::errc() || r.ptr != reinterpret_cast<const char*>(b + e)) return SIZE_MAX;
      // -0 is left to JavaScript (chunkTasks.ts videoPayloadRow: the full path decides it)
      if (d == 0 && std::signbit(d)) return SIZE_MAX;
      v[key] = {V_NUMBER, 0, 0, d};
      return e;
    }
    return SIZE_MAX;  // an id that is not a string, or an object, array or boolean
  });
  return i != SIZE_MAX && ws(b, i) == n;
}

// The video payload of the line in `b` (the line scratch) whose fields are `f`: true and the
// values set when vouched for.
bool readVideoPayload(const uint8_t* b, const Span* f, VideoValue* v, uint8_t* side, size_t sideCap, size_t& sideAt) {
  const Span& ev = f[F_EVENT];
  if (ev.kind != V_TEXT || !isVideoType(b, f[F_EVENT_TYPE])) return false;
  const size_t len = ev.end - ev.start;
  if (sideAt + len > sideCap) return false;
  const size_t mark = sideAt;
  bool ok;
  if (b[ev.start] == '{') {
    // the object itself: scan a copy of it (the scanner wants a NUL and padding after its text)
    if (payloadScratch.size() < len + 1 + kPad) payloadScratch.resize(len + 1 + kPad + (len >> 1));
    memcpy(payloadScratch.data(), b + ev.start, len);
    memset(payloadScratch.data() + len, 0, 1 + kPad);
    ok = scanVideoPayload(payloadScratch.data(), len, v, side, sideAt);
  } else if (b[ev.start] == '"') {
    // a string holding the payload's JSON text (browser events)
    size_t n;
    if (!decodeJsonString(b, ev.start + 1, ev.end - 1, payloadScratch, n)) return false;
    ok = scanVideoPayload(payloadScratch.data(), n, v, side, sideAt);
  } else {
    return false;
  }
  if (!ok) sideAt = mark;
  return ok;
}

// ---------------------------------------------------------------- facts of plain lines

// The string table of one chunk: each distinct string (bytes of the chunk or of the side buffer)
// once. Entry i is table[1 + 4i ..]: source (0 chunk, 1 side), start, end, 1 when ASCII;
// table[0] counts the entries. JavaScript makes a string of an entry when it first needs it.
struct StringTable {
  int32_t* out = nullptr;
  size_t cap = 0;  // entries
  int32_t n = 0;
  const uint8_t* chunk = nullptr;
  const uint8_t* side = nullptr;
  // open addressing: slot → entry index + 1 (0: empty), and the entries' hashes
  std::vector<int32_t> slots;
  std::vector<uint64_t> hashes;
  size_t mask = 0;

  void reset(int32_t* table, size_t entries, const uint8_t* chunkBytes, const uint8_t* sideBytes) {
    out = table;
    cap = entries;
    n = 0;
    chunk = chunkBytes;
    side = sideBytes;
    // sized for the strings a chunk has (it grows when half full), not for the most it could
    // have (9 a line): that table, mostly empty, was cleared for every chunk
    slots.assign(4096, 0);
    if (hashes.size() < entries) hashes.resize(entries);
    mask = slots.size() - 1;
  }

  void grow() {
    slots.assign(2 * slots.size(), 0);
    mask = slots.size() - 1;
    for (int32_t e = 0; e < n; e++) {
      size_t slot = hashes[e] & mask;
      while (slots[slot] != 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
  }

  static uint64_t hashOf(const uint8_t* p, size_t len) {
    // FNV-1a over 8-byte words, then a final mix: these strings are short (names, addresses)
    uint64_t h = 0xcbf29ce484222325ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      h = (h ^ w) * 0x100000001b3ull;
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, len - i);
    h = (h ^ tail) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
  }

  // The index of the bytes at [start, end) of the chunk (source 0) or the side buffer (1); -1
  // when the table is full.
  int32_t intern(int source, size_t start, size_t end) {
    const uint8_t* base = source == 0 ? chunk : side;
    const size_t len = end - start;
    const uint64_t h = hashOf(base + start, len);
    if (2 * static_cast<size_t>(n + 1) > slots.size()) grow();
    for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
      const int32_t e = slots[slot];
      if (e == 0) {
        if (static_cast<size_t>(n) >= cap) return -1;
        const bool ascii = asciiBytes(base + start, len);
        int32_t* entry = out + 1 + 4 * n;
        entry[0] = source;
        entry[1] = static_cast<int32_t>(start);
        entry[2] = static_cast<int32_t>(end);
        entry[3] = ascii ? 1 : 0;
        hashes[n] = h;
        slots[slot] = n + 1;
        return n++;
      }
      const int32_t* entry = out + 1 + 4 * (e - 1);
      if (hashes[e - 1] == h && static_cast<size_t>(entry[2] - entry[1]) == len &&
          memcmp((entry[0] == 0 ? chunk : side) + entry[1], base + start, len) == 0)
        return e - 1;
    }
  }
};

thread_local StringTable strings;

// The bytes of a string field (a constant, or plain bytes of the line in `b`); false for null,
// absent or escaped values.
bool fieldBytes(const uint8_t* b, const Span& v, const char*& k, size_t& n) {
  if (v.kind == V_CONST) {
    k = kConstants[v.start];
    n = constantLength(v.start);
    return true;
  }
  if (v.kind == V_ASCII || v.kind == V_UTF8) {
    k = reinterpret_cast<const char*>(b + v.start);
    n = v.end - v.start;
    return true;
  }
  return false;
}

// The first occurrence of lit[0, m) in s[0, n), or nullptr: glibc's memmem prepares a search
// table on every call, which costs more than the search itself on these short texts (URL event
// types are searched a dozen times a line); memchr to the first byte, then compare.
inline const char* findText(const char* s, size_t n, const char* lit, size_t m) {
  if (m == 0) return s;
  if (n < m) return nullptr;
  const char first = lit[0];
  const char* end = s + (n - m) + 1;  // a match starts before this
  for (const char* p = s; p < end;) {
    p = static_cast<const char*>(memchr(p, first, end - p));
    if (p == nullptr) return nullptr;
    if (memcmp(p + 1, lit + 1, m - 1) == 0) return p;
    p++;
  }
  return nullptr;
}

inline bool is(const char* k, size_t n, const char* lit) {
  const size_t m = strlen(lit);
  return n == m && memcmp(k, lit, m) == 0;
}
inline bool startsWith(const char* k, size_t n, const char* lit) {
  const size_t m = strlen(lit);
  return n >= m && memcmp(k, lit, m) == 0;
}
inline bool contains(const char* k, size_t n, const char* lit) {
  const size_t m = strlen(lit);
  return findText(k, n, lit, m) != nullptr;
}
// JavaScript's (and RE2's) \w without the u flag: ASCII letters, digits, underscore.
inline bool word(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c) || c == '_'; }

// src/aggregate/eventRows.ts isForumType
bool isForumType(const char* t, size_t n) {
  if (startsWith(t, n, "edx.forum.")) return true;
  // every substring holds "forum" or "/discussion/": one cheap pre-test for the common case
  if (!contains(t, n, "forum") && !contains(t, n, "/discussion/")) return false;
  static const char* const kSubstrings[] = {"/discussion/forum", "/discussion/threads", "/discussion/comments", "list-forum-", "list_forum_",
                                            "add-forum-", "add_forum_", "remove-forum-", "remove_forum_", "update_forum_"};
  for (const char* s : kSubstrings)
    if (contains(t, n, s)) return true;
  return false;
}

// The base-event flag bits of src/aggregate/pcdayEvent.ts (PCDAY_FLAG, TASK_FLAG).
enum : int32_t {
  PF_PROGCHECK = 1 << 0, PF_SHOW_ANSWER = 1 << 1, PF_VIDEO = 1 << 2, PF_PROBLEM_CHECK = 1 << 3, PF_FORUM = 1 << 4,
  PF_TRANSCRIPT = 1 << 5, PF_SEQ_GOTO = 1 << 6, PF_SEEK_VIDEO = 1 << 7, PF_PAUSE_VIDEO = 1 << 8,
  TF_VIDEO = 1 << 9, TF_PROBLEM = 2 << 9, TF_FORUM = 4 << 9, TF_TEXT = 8 << 9,
};

// pcdayEvent.ts computeTaskFlags: /\w_(?:video|transcript)/, /problem_\w/, the forum and text tests.
int32_t taskFlags(const char* t, size_t n) {
  int32_t f = 0;
  const uint8_t* u = reinterpret_cast<const uint8_t*>(t);
  for (const void* at = memchr(t, '_', n); at != nullptr;) {
    const size_t i = static_cast<const char*>(at) - t;
    if (i > 0 && word(u[i - 1]) && (startsWith(t + i, n - i, "_video") || startsWith(t + i, n - i, "_transcript"))) {
      f |= TF_VIDEO;
      break;
    }
    at = i + 1 < n ? memchr(t + i + 1, '_', n - i - 1) : nullptr;
  }
  for (const char* from = t; from < t + n;) {
    const void* at = findText(from, t + n - from, "problem_", 8);
    if (at == nullptr) break;
    const size_t i = static_cast<const char*>(at) - t;
    if (i + 8 < n && word(u[i + 8])) {
      f |= TF_PROBLEM;
      break;
    }
    from = t + i + 1;
  }
  if (startsWith(t, n, "edx.forum.") ||
      (contains(t, n, "/discussion/") && (contains(t, n, "/discussion/forum") || contains(t, n, "/discussion/threads") || contains(t, n, "/discussion/comments"))))
    f |= TF_FORUM;
  if (startsWith(t, n, "textbook.") || contains(t, n, "/wiki/")) f |= TF_TEXT;
  return f;
}

// What lineFacts needs of an event type, apart from the course and the source.
struct TypeFacts {
  int32_t videoType = -1;      // 0 play, 1 pause, 2 stop, 3 seek (the four §7.2 video types)
  bool otherKind = false;      // eventRows.ts eventKind is not 0 whatever the source (and not a video type)
  bool problemCheck = false;   // problem_check / save_problem_check: eventKind is not 0 for the source "server"
  bool showAnswer = false;     // show_answer / showanswer (also otherKind)
  bool transcriptOnly = false; // eventKind is exactly the transcript kind: link_clicked, or a translation URL of no other kind
  bool forum = false;          // eventRows.ts isForumType
  bool forumOnly = false;      // eventKind is exactly the forum kind, and R6 gives the short event_struct
  bool enrollmentKnown = false;  // one of the four enrollment types R6 gives the full event_struct (KNOWN)
  bool xblock = false;         // holds "/xblock/": never a base event
  bool url = false;            // starts with '/': its counters depend on the course
  int32_t flags = 0;           // pcdayEvent.ts baseEventFlags, less a URL type's counters
};

TypeFacts typeFacts(const char* t, size_t n) {
  TypeFacts r;
  // each substring test once: URL types are not constants, so this runs on their every line
  const bool forum = isForumType(t, n);
  const bool enrollment = contains(t, n, "edx.course.enrollment");
  const bool translation = contains(t, n, "/transcript/translation/");
  const bool linkClicked = is(t, n, "edx.ui.lms.link_clicked");
  r.videoType = is(t, n, "play_video") ? 0 : is(t, n, "pause_video") ? 1 : is(t, n, "stop_video") ? 2 : is(t, n, "seek_video") ? 3 : -1;
  r.problemCheck = is(t, n, "problem_check") || is(t, n, "save_problem_check");
  r.showAnswer = is(t, n, "show_answer") || is(t, n, "showanswer");
  r.forum = forum;
  r.forumOnly = forum && !enrollment && !translation && !contains(t, n, "problem_");
  r.enrollmentKnown = is(t, n, "edx.course.enrollment.activated") || is(t, n, "edx.course.enrollment.deactivated") ||
                      is(t, n, "edx.course.enrollment.mode_changed") || is(t, n, "edx.course.enrollment.upgrade.succeeded");
  r.transcriptOnly = linkClicked || (translation && !forum && !enrollment && r.videoType < 0 && !r.problemCheck && !r.showAnswer);
  r.otherKind = r.videoType < 0 && !r.problemCheck && (r.showAnswer || linkClicked || forum || enrollment || translation);
  r.xblock = contains(t, n, "/xblock/");
  r.url = n > 0 && t[0] == '/';
  int32_t f = taskFlags(t, n);
  if (r.showAnswer) f |= PF_SHOW_ANSWER;
  else if (r.videoType == 0) f |= PF_VIDEO;
  else if (is(t, n, "problem_check")) f |= PF_PROBLEM_CHECK;
  else if (is(t, n, "show_transcript")) f |= PF_TRANSCRIPT;
  else if (is(t, n, "seq_goto")) f |= PF_SEQ_GOTO;
  else if (r.videoType == 3) f |= PF_SEEK_VIDEO;
  else if (r.videoType == 1) f |= PF_PAUSE_VIDEO;
  r.flags = f;
  return r;
}

// The constants' type facts, worked out once per thread (most lines carry one).
thread_local TypeFacts constantFacts[kNumConstants];
thread_local bool constantFactsReady = false;

const TypeFacts& constantTypeFacts(int k) {
  if (!constantFactsReady) {
    for (int i = 0; i < kNumConstants; i++) constantFacts[i] = typeFacts(kConstants[i], strlen(kConstants[i]));
    constantFactsReady = true;
  }
  return constantFacts[k];
}

// The URL prefixes of one course (pcdayEvent.ts courseUrlPrefixes of ids.ts slashCourseId of the
// raw id): `/courses/<slash id>/` and, for a three-part id, `/courses/course-v1:ORG+NUM+RUN/`.
struct CoursePrefixes {
  std::string raw, slash, opaque;
  bool hasOpaque = false;
};

// ids.ts slashCourseId: `course-v1:ORG+NUM+RUN` (OPAQUE_COURSE_KEY, parts free of `+` and `/`) → ORG/NUM/RUN;
// any other id as it is.
void slashCourseId(const char* s, size_t n, std::string& out) {
  out.assign(s, n);
  if (!startsWith(s, n, "course-v1:")) return;
  size_t part[3][2];
  size_t i = 10;
  for (int k = 0; k < 3; k++) {
    const size_t a = i;
    while (i < n && s[i] != '+' && s[i] != '/') i++;
    if (i == a) return;
    part[k][0] = a;
    part[k][1] = i;
    if (k < 2) {
      if (i >= n || s[i] != '+') return;
      i++;
    }
  }
  if (i != n) return;
  out.assign(s + part[0][0], part[0][1] - part[0][0]).append("/").append(s + part[1][0], part[1][1] - part[1][0]).append("/").append(s + part[2][0], part[2][1] - part[2][0]);
}

void coursePrefixes(const char* id, size_t n, CoursePrefixes& p) {
  p.raw.assign(id, n);
  std::string slashId;
  slashCourseId(id, n, slashId);
  p.slash = "/courses/" + slashId + "/";
  size_t slashes = 0;
  for (char c : slashId) slashes += c == '/';
  p.hasOpaque = slashes == 2;
  if (p.hasOpaque) {
    std::string plus = slashId;
    for (char& c : plus)
      if (c == '/') c = '+';
    p.opaque = "/courses/course-v1:" + plus + "/";
  }
}

// The prefixes of the courses last used (a chunk holds lines of a few dozen courses, in no
// order: one remembered course made lineFacts rebuild the prefixes on most URL lines).
struct PrefixCache {
  std::vector<CoursePrefixes> entries;
  size_t last = 0, next = 0;
  static constexpr size_t kSize = 64;

  const CoursePrefixes& of(std::string_view raw) {
    if (last < entries.size() && entries[last].raw == raw) return entries[last];
    for (size_t i = 0; i < entries.size(); i++)
      if (entries[i].raw == raw) return entries[last = i];
    if (entries.size() < kSize) {
      entries.emplace_back();
      last = entries.size() - 1;
    } else {
      last = next;
      next = (next + 1) % kSize;
    }
    coursePrefixes(raw.data(), raw.size(), entries[last]);
    return entries[last];
  }
};

bool underCourse(const char* t, size_t n, const CoursePrefixes& c, const char* rest) {
  const std::string_view tv(t, n);
  const size_t r = strlen(rest);
  auto under = [&](const std::string& prefix) {
    return tv.size() >= prefix.size() + r && tv.compare(0, prefix.size(), prefix) == 0 && memcmp(t + prefix.size(), rest, r) == 0;
  };
  return under(c.slash) || (c.hasOpaque && under(c.opaque));
}

// The counters of a URL-shaped type (pcdayEvent.ts urlCounterFlags): `^/courses/<id>/progress`, `^/courses/<id>/discussion/`.
int32_t urlCounterFlags(const char* t, size_t n, const CoursePrefixes& course) {
  if (underCourse(t, n, course, "progress")) return PF_PROGCHECK;
  if (underCourse(t, n, course, "discussion/")) return PF_FORUM;
  return 0;
}

// eventRows.ts parseVideoId of a string id in the side buffer at [a, e): the id's span in `side`
// (written there again when a '.' has to become '_'), or false when JavaScript must decide (white
// space or non-ASCII at either end, which String.prototype.trim may strip; no room left).
bool parseVideoId(uint8_t* side, size_t a, size_t e, size_t cap, size_t& sideAt, size_t& outA, size_t& outE) {
  if (e > a && (side[a] <= 0x20 || side[a] >= 0x7f || side[e - 1] <= 0x20 || side[e - 1] >= 0x7f)) return false;
  const char* s = reinterpret_cast<const char*>(side + a);
  const size_t n = e - a;
  size_t from = 0;  // the id is s[from, n)
  if (startsWith(s, n, "block-v1:")) {
    for (size_t i = n; i-- > 0;) {
      if (i + 7 <= n && memcmp(s + i, "+block@", 7) == 0) {
        from = i + 7;
        break;
      }
    }
  } else if (startsWith(s, n, "i4x://")) {
    // parts = s.slice(6).split('/'); parts[3] when there are at least 4
    size_t part = 0, start = 6, i = 6;
    size_t pa = 0, pe = 0;
    bool found = false;
    for (;; i++) {
      if (i == n || s[i] == '/') {
        if (part == 3) {
          pa = start;
          pe = i;
          found = true;
          break;
        }
        if (i == n) break;
        part++;
        start = i + 1;
      }
    }
    if (found) {
      outA = a + pa;
      outE = a + pe;
      from = SIZE_MAX;
    }
  } else if (startsWith(s, n, "i4x-")) {
    const char* dash = static_cast<const char*>(memchr(s + 4, '-', n - 4));
    bool matched = false;
    if (dash != nullptr) {
      const size_t numAt = static_cast<size_t>(dash - s) + 1;  // NUM starts here; the marker is looked for after its first character
      for (size_t p = numAt + 1; p < n; p++) {
        if (startsWith(s + p, n - p, "-video-")) {
          from = p + 7;
          matched = true;
          break;
        }
        if (startsWith(s + p, n - p, "-videoalpha-")) {
          from = p + 12;
          matched = true;
          break;
        }
      }
    }
    if (!matched) {
      const void* last = memrchr(s, '-', n);
      from = static_cast<const char*>(last) - s + 1;
    }
  }
  if (from != SIZE_MAX) {
    outA = a + from;
    outE = e;
  }
  if (memchr(side + outA, '.', outE - outA) == nullptr) return true;
  const size_t len = outE - outA;
  if (sideAt + len > cap) return false;
  memmove(side + sideAt, side + outA, len);
  for (size_t k = sideAt; k < sideAt + len; k++)
    if (side[k] == '.') side[k] = '_';
  outA = sideAt;
  outE = sideAt + len;
  sideAt += len;
  return true;
}

// courseId.ts fromMatch of its two alternatives at s[p..] (just after a "/courses/"):
// `course-v1:A+B+C/` (tried first) or `A/B/C/`; the slash id goes to `id`.
bool courseAt(const char* s, size_t n, size_t p, std::string& id) {
  auto run = [&](size_t& i, bool stopAtPlus) {
    const size_t a = i;
    while (i < n && s[i] != '/' && !(stopAtPlus && s[i] == '+')) i++;
    return i > a;
  };
  if (startsWith(s + p, n - p, "course-v1:")) {
    size_t i = p + 10;
    const size_t a1 = i;
    if (run(i, true) && i < n && s[i] == '+') {
      const size_t e1 = i++, a2 = i;
      if (run(i, true) && i < n && s[i] == '+') {
        const size_t e2 = i++, a3 = i;
        if (run(i, true) && i < n && s[i] == '/') {
          id.assign(s + a1, e1 - a1).append("/").append(s + a2, e2 - a2).append("/").append(s + a3, i - a3);
          return true;
        }
      }
    }
  }
  size_t i = p;
  size_t a[3], e[3];
  for (int k = 0; k < 3; k++) {
    a[k] = i;
    if (!run(i, false) || i >= n) return false;  // a segment, then its '/'
    e[k] = i++;
  }
  id.assign(s + a[0], e[0] - a[0]).append("/").append(s + a[1], e[1] - a[1]).append("/").append(s + a[2], e[2] - a[2]);
  return true;
}

// courseId.ts courseIdInUrl: the first `/courses/` where either alternative matches.
bool courseInUrl(const char* s, size_t n, std::string& id) {
  for (const char* from = s; from < s + n;) {
    const void* at = findText(from, s + n - from, "/courses/", 9);
    if (at == nullptr) return false;
    const size_t q = static_cast<const char*>(at) - s;
    if (courseAt(s, n, q + 9, id)) return true;
    from = s + q + 1;
  }
  return false;
}

// courseId.ts COURSE_IN_PAGE: ^https*://[^/]+/courses/ and then either alternative.
bool courseInPage(const char* s, size_t n, std::string& id) {
  if (!startsWith(s, n, "http")) return false;
  size_t i = 4;
  while (i < n && s[i] == 's') i++;
  if (!startsWith(s + i, n - i, "://")) return false;
  i += 3;
  const size_t host = i;
  while (i < n && s[i] != '/') i++;
  if (i == host || !startsWith(s + i, n - i, "/courses/")) return false;
  return courseAt(s, n, i + 9, id);
}

thread_local std::vector<uint8_t> decodeScratch;
thread_local std::string guessedCourse;

// ---------------------------------------------------------------- problem_check and show_answer rows

// Text positions as moduleId.ts uses them: -1 for "not found", as String.prototype.indexOf. The
// rules below look only for ASCII bytes, and UTF-8 never puts an ASCII byte inside a multi-byte
// character, so byte positions give the same matches and groups as UTF-16 ones.
struct Text {
  const char* s;
  long n;
  long indexOf(char c, long from) const {
    if (from < 0) from = 0;
    if (from >= n) return -1;
    const void* p = memchr(s + from, c, n - from);
    return p == nullptr ? -1 : static_cast<const char*>(p) - s;
  }
  long indexOf(const char* lit, long from) const {
    const long m = static_cast<long>(strlen(lit));
    if (from < 0) from = 0;
    if (from + m > n) return -1;
    const void* p = findText(s + from, n - from, lit, m);
    return p == nullptr ? -1 : static_cast<const char*>(p) - s;
  }
  // String.prototype.lastIndexOf(lit, from): the last occurrence starting at or before `from`
  // (a negative `from` counts as 0)
  long lastIndexOf(const char* lit, long from) const {
    const long m = static_cast<long>(strlen(lit));
    if (from < 0) from = 0;
    for (long i = std::min(from, n - m); i >= 0; i--)
      if (memcmp(s + i, lit, m) == 0) return i;
    return -1;
  }
  bool startsWith(const char* lit, long at) const {
    const long m = static_cast<long>(strlen(lit));
    return at >= 0 && at + m <= n && memcmp(s + at, lit, m) == 0;
  }
  void append(std::string& out, long a, long e) const { out.append(s + a, e - a); }
};

// `out` := the ranges [from, to) of `t` joined by '/' (a module_id's ORG/COURSE/TYPE/ID)
void joinRanges(const Text& t, std::string& out, std::initializer_list<std::pair<long, long>> parts) {
  out.clear();
  bool first = true;
  for (const auto& [from, to] : parts) {
    if (!first) out += '/';
    first = false;
    t.append(out, from, to);
  }
}

// moduleId.ts orgCourseAt
enum { OC_STOP = -1, OC_NEXT = 0, OC_FOUND = 1 };
int orgCourseAt(const Text& t, long p, long lastI1, long& i1, long& i2) {
  if (lastI1 >= p) {
    i1 = lastI1;
    return OC_NEXT;
  }
  i1 = t.indexOf('+', p);
  if (i1 < 0) return OC_STOP;
  if (i1 == p) return OC_NEXT;
  i2 = t.indexOf('+', i1 + 1);
  if (i2 < 0) return OC_STOP;
  if (i2 == i1 + 1) return OC_NEXT;
  return OC_FOUND;
}

// The `ORG+COURSE+` candidates after `prefix` (of length `len`), from the one at index `c` on
// (-1: none), as moduleId.ts's opaque-key matchers walk them with orgCourseAt: onCandidate(p, i1,
// i2) — p where ORG starts, i1 and i2 the `+` after ORG and after COURSE — returns 1 (matched),
// 0 (try the next candidate) or -1 (no match at all). True when one matched.
template <typename OnCandidate>
bool orgCourseCandidates(const Text& t, const char* prefix, long len, long c, OnCandidate&& onCandidate) {
  long lastI1 = -1;
  for (; c >= 0; c = t.indexOf(prefix, c + 1)) {
    const long p = c + len;
    long i1 = -1, i2 = -1;
    const int found = orgCourseAt(t, p, lastI1, i1, i2);
    if (found == OC_STOP) return false;
    lastI1 = i1;
    if (found == OC_NEXT) continue;
    const int r = onCandidate(p, i1, i2);
    if (r != 0) return r > 0;
  }
  return false;
}

// moduleId.ts scanXblockV1 (okre1 for A1 / A2, okre3 for A5 / A6): true and `out` set when okre1
// matches; `any` gets the okre3 result found on the way (empty when none).
bool scanXblockV1(const Text& t, long c, std::string& out, std::string& any) {
  any.clear();
  long q = -2;
  return orgCourseCandidates(t, "/courses/course-v1:", 19, c, [&](long p, long i1, long i2) -> int {
    const long i3 = t.indexOf('+', i2 + 1);
    if (i3 < 0) return -1;
    const long from = i2 + 2;
    if (q == -2 || (q >= 0 && q < from)) q = t.indexOf("/xblock/block-v1:", from);
    if (q < 0) return -1;
    if (q + 17 >= i3) return 0;
    const long i4 = t.indexOf('+', i3 + 1);
    if (i4 < 0) return -1;
    if (i4 == i3 + 1) return 0;
    const long i5 = t.indexOf('+', i4 + 1);
    if (i5 < 0) return -1;
    if (i5 == i4 + 1 || !t.startsWith("+type@", i5)) return 0;
    const long i6 = t.indexOf('+', i5 + 6);
    if (i6 < 0) return -1;
    if (i6 == i5 + 6 || !t.startsWith("+block@", i6)) return 0;
    const long j = i6 + 7;
    const long k = t.indexOf('/', j);
    const long end = k < 0 ? t.n : k;
    if (end == j) return 0;
    const bool handler = k >= 0 && t.startsWith("/handler", k);
    if (!any.empty() && !handler) return 0;
    std::string id;
    joinRanges(t, id, {{p, i1}, {i1 + 1, i2}, {i5 + 6, i6}, {j, end}});
    if (any.empty()) any = id;
    if (handler) {
      out = id;
      return 1;
    }
    return k < 0 ? -1 : 0;
  });
}

// moduleId.ts xblockI4xTail: TYPE's and ID's ranges, or false.
bool xblockI4xTail(const Text& t, long Q, std::pair<long, long>& type, std::pair<long, long>& id) {
  const long slash = t.indexOf('/', Q);
  const long segEnd = slash < 0 ? t.n : slash;
  for (long b = t.lastIndexOf(";_", segEnd - 2); b >= Q + 4; b = t.lastIndexOf(";_", b - 1)) {
    const long m = t.indexOf(';', b + 2);
    if (m <= b + 2 || m + 1 >= t.n || t.s[m + 1] != '_') continue;
    const long k = m + 2 <= segEnd ? slash : t.indexOf('/', m + 2);
    if (k <= m + 2 || !t.startsWith("/handler/", k)) continue;
    if (t.lastIndexOf(";_", b - 3) < Q + 1) return false;
    type = {b + 2, m};
    id = {m + 2, k};
    return true;
  }
  return false;
}

// moduleId.ts matchXblockI4x (cidre10: B10, B11)
bool matchXblockI4x(const Text& t, std::string& out) {
  if (!t.startsWith("/courses/", 0) || t.indexOf("/xblock/i4x:;_;_", 0) < 0) return false;
  const long s1 = t.indexOf('/', 9);
  if (s1 <= 9) return false;
  const long s2 = t.indexOf('/', s1 + 1);
  if (s2 <= s1 + 1) return false;
  long runEnd = t.indexOf('+', s2 + 1);
  if (runEnd < 0) runEnd = t.n;
  if (runEnd - 16 < s2 + 2) return false;
  for (long q = t.lastIndexOf("/xblock/i4x:;_;_", runEnd - 16); q >= s2 + 2; q = t.lastIndexOf("/xblock/i4x:;_;_", q - 1)) {
    std::pair<long, long> type, id;
    if (xblockI4xTail(t, q + 16, type, id)) {
      joinRanges(t, out, {{9, s1}, {s1 + 1, s2}, type, id});
      return true;
    }
  }
  return false;
}

// moduleId.ts CIDRE3, /i4x:\/\/([^/]+\/[^/]+\/[^/]+\/[^/]+)/: the group, leftmost match.
bool matchCidre3(const Text& t, std::string& out) {
  for (long p = t.indexOf("i4x://", 0); p >= 0; p = t.indexOf("i4x://", p + 1)) {
    long i = p + 6;
    bool ok = true;
    for (int seg = 0; seg < 3 && ok; seg++) {
      const long e = t.indexOf('/', i);
      ok = e > i;
      i = e + 1;
    }
    if (!ok || i >= t.n || t.s[i] == '/') continue;
    const long e = t.indexOf('/', i);
    out.assign(t.s + p + 6, (e < 0 ? t.n : e) - (p + 6));
    return true;
  }
  return false;
}

// Python truthiness of the JSON value b[a, e) (valid, no surrounding white space): 1 true, 0
// false, -1 when this code cannot tell (a number it cannot read).
int pyTruthy(const uint8_t* b, size_t a, size_t e) {
  switch (b[a]) {
    case 'n':
    case 'f': return 0;
    case 't': return 1;
    case '"': return e - a > 2 ? 1 : 0;
    case '[':
    case '{': return b[ws(b, a + 1)] == (b[a] == '[' ? ']' : '}') ? 0 : 1;
    default: {
      double d;
      const auto r = std::from_chars(reinterpret_cast<const char*>(b + a), reinterpret_cast<const char*>(b + e), d);
      if (r.ec != std::errc() || r.ptr != reinterpret_cast<const char*>(b + e)) return -1;
      return d != 0 ? 1 : 0;
    }
  }
}

// moduleId.ts matchBlockV1 (okre4: A8a, A9)
bool matchBlockV1(const Text& t, std::string& out) {
  return orgCourseCandidates(t, "block-v1:", 9, t.indexOf("block-v1:", 0), [&](long p, long i1, long i2) -> int {
    const long i3 = t.indexOf('+', i2 + 1);
    if (i3 < 0) return -1;
    if (i3 == i2 + 1 || !t.startsWith("+type@", i3)) return 0;
    const long i4 = t.indexOf('+', i3 + 6);
    if (i4 < 0) return -1;
    if (i4 == i3 + 6 || !t.startsWith("+block@", i4)) return 0;
    const long j = i4 + 7;
    long k = t.indexOf('/', j);
    if (k < 0) k = t.n;
    if (k == j) return 0;
    joinRanges(t, out, {{p, i1}, {i1 + 1, i2}, {i3 + 6, i4}, {j, k}});
    return 1;
  });
}

// moduleId.ts matchI4xDash (okre5a: A8b)
bool matchI4xDash(const Text& t, std::string& out) {
  const long n = t.n;
  long examinedTo = -1;
  for (long s = t.indexOf("i4x-", 0); s >= 0; s = t.indexOf("i4x-", s + 1)) {
    const long p = s + 4;
    const long d1 = t.indexOf('-', p);
    if (d1 < 0) return false;
    if (d1 == p || d1 < examinedTo) continue;
    long runEnd = t.indexOf('+', d1 + 1);
    if (runEnd < 0) runEnd = n;
    examinedTo = runEnd;
    long c = t.lastIndexOf("-", runEnd - 1);
    if (c < d1 + 2) continue;
    long next = t.indexOf('-', c + 1);
    while (c >= d1 + 2) {
      if (next > c + 1 && next + 1 < n && t.s[next + 1] != '-') {
        long idEnd = t.indexOf('-', next + 1);
        if (idEnd < 0) idEnd = n;
        joinRanges(t, out, {{p, d1}, {d1 + 1, c}, {c + 1, next}, {next + 1, idEnd}});
        return true;
      }
      next = c;
      c = t.lastIndexOf("-", c - 1);
    }
  }
  return false;
}

// moduleId.ts CIDRE4 (B18), /i4x-([^-]+)-([^-]+)-video-([^ ]+)/: `ORG/COURSE/video/ID`.
bool matchCidre4(const Text& t, std::string& out) {
  for (long s = t.indexOf("i4x-", 0); s >= 0; s = t.indexOf("i4x-", s + 1)) {
    const long d1 = t.indexOf('-', s + 4);
    if (d1 <= s + 4) continue;
    const long d2 = t.indexOf('-', d1 + 1);
    if (d2 <= d1 + 1 || !t.startsWith("-video-", d2)) continue;
    long e = t.indexOf(' ', d2 + 7);
    if (e < 0) e = t.n;
    if (e == d2 + 7) continue;
    joinRanges(t, out, {{s + 4, d1}, {d1 + 1, d2}});
    out += "/video/";
    t.append(out, d2 + 7, e);
    return true;
  }
  return false;
}

// moduleId.ts fidre5..8 (B3..B6, anchored): `/courses/A/B/RUN/discussion/…` forum URLs.
bool matchForumUrl(const Text& t, std::string& out) {
  if (!t.startsWith("/courses/", 0)) return false;
  const long s1 = t.indexOf('/', 9);
  const long s2 = s1 < 0 ? -1 : t.indexOf('/', s1 + 1);
  const long s3 = s2 < 0 ? -1 : t.indexOf('/', s2 + 1);
  if (s3 < 0 || !t.startsWith("/discussion/", s3) || s1 == 9 || s2 == s1 + 1 || s3 == s2 + 1) return false;
  auto segEnd = [&](long from) {
    const long e = t.indexOf('/', from);
    return e < 0 ? t.n : e;
  };
  auto result = [&](long a, long e) {
    out.clear();
    t.append(out, 9, s2);
    out += "/forum/";
    if (a < 0) out += "new";
    else t.append(out, a, e);
    return true;
  };
  const long r = s3 + 12;
  if (t.startsWith("threads/", r)) {
    const long a = r + 8, e = segEnd(a);
    if (e > a) return result(a, e);  // fidre5
  }
  if (t.startsWith("forum/i4x", r)) {
    const long x = r + 9, xe = segEnd(x);
    if (xe > x && t.startsWith("/threads/", xe)) {
      const long a = xe + 9, e = segEnd(a);
      if (e > a) return result(a, e);  // fidre6
    }
  }
  if (t.startsWith("i4x", r)) {
    const long x = r + 3, xe = segEnd(x);
    if (xe > x && t.startsWith("/threads/create", xe)) return result(-1, -1);  // fidre7
  }
  if (t.startsWith("forum/", r)) {
    const long x = r + 6, xe = segEnd(x);
    if (xe > x && t.startsWith("/threads/", xe)) {
      const long a = xe + 9, e = segEnd(a);
      if (e > a) return result(a, e);  // fidre8
    }
  }
  return false;
}

// moduleId.ts prevSlash, finalSlash, lastSegmentStart, coursewareAtEnd (cidre6: B7, cidre8: B8)
long prevSlash(const Text& t, long i) {
  for (; i >= 0; i--)
    if (t.s[i] == '/') return i;
  return -1;
}
long finalSlash(const Text& t) {
  long e = t.n;
  if (e > 0 && t.s[e - 1] == '\n') e--;
  return e > 0 && t.s[e - 1] == '/' ? e - 1 : -1;
}
long lastSegmentStart(const Text& t, long f) {
  if (f <= 0) return -1;
  const long s = prevSlash(t, f - 1);
  return s == f - 1 ? -1 : s;
}
// The `/courses/A/B/RUN` that ends just before t[x], read backwards (three non-empty segments,
// "/courses" before them): `aFrom` is A's first character, `runSlash` the '/' before RUN.
bool courseRunBefore(const Text& t, long x, long& aFrom, long& runSlash) {
  const long sRun = prevSlash(t, x - 1);
  if (sRun < 0 || sRun == x - 1) return false;
  const long sB = prevSlash(t, sRun - 1);
  if (sB < 0 || sB == sRun - 1) return false;
  const long sA = prevSlash(t, sB - 1);
  if (sA < 8 || sA == sB - 1 || !t.startsWith("/courses", sA - 8)) return false;
  aFrom = sA + 1;
  runSlash = sRun;
  return true;
}

bool coursewareAtEnd(const Text& t, long f, long sLast, int segments, const char* label, const char* trail, std::string& out) {
  long s = sLast;
  if (segments == 2) {
    const long sCh = prevSlash(t, s - 1);
    if (sCh < 0 || sCh == s - 1) return false;
    s = sCh;
  }
  const long sCw = s - 11;
  long aFrom, sRun;
  if (sCw < 0 || !t.startsWith("/courseware", sCw) || !courseRunBefore(t, sCw, aFrom, sRun)) return false;
  out.clear();
  t.append(out, aFrom, sRun);
  out += '/';
  out += label;
  out += '/';
  t.append(out, sLast + 1, f);
  out += trail;
  return true;
}

// moduleId.ts CIDRE9 (B9): `/courses/A/B/RUN/jump_to_id/X` and an optional `/` at the end.
bool matchJumpToId(const Text& t, std::string& out) {
  long e = t.n;
  if (e > 0 && t.s[e - 1] == '\n') e--;
  const long xEnd = e > 0 && t.s[e - 1] == '/' ? e - 1 : e;
  const long sX = prevSlash(t, xEnd - 1);
  if (sX < 0 || sX == xEnd - 1) return false;
  const long sJ = sX - 11;
  long aFrom, sRun;
  if (sJ < 0 || !t.startsWith("/jump_to_id/", sJ) || !courseRunBefore(t, sJ, aFrom, sRun)) return false;
  out.clear();
  t.append(out, aFrom, sRun);
  out += "/jump_to_id/";
  t.append(out, sX + 1, xEnd);
  return true;
}

inline bool isText(const Text& t, const char* lit) { return t.n == static_cast<long>(strlen(lit)) && memcmp(t.s, lit, t.n) == 0; }

// What rules A8c, B2a and B2b read besides (the rewrite has them; the facts code passes none and
// leaves those rules to JavaScript): `page`, as pageKind 0 absent, 1 a string, 2 a value Python
// finds false (null, false, 0, [], {}), 3 any other; and the span of event.new (-1: absent).
struct PageAndNew {
  int pageKind;
  Text page;
  int32_t newA, newE;
};

// The candidates of moduleId.ts's opaque-key page matchers (okre2: matchCourseV1Bc, okre5:
// matchCourseV1Courseware): for each `/courses/course-v1:ORG+COURSE+` with ORG and COURSE
// non-empty, atRun(i2, runEnd) — i2 the `+` after COURSE, runEnd the end of RUN's `+`-free run —
// returns 1 (matched: `out` := `ORG/COURSE/`), 0 (try the next candidate) or -1 (no match at all).
template <typename AtRun>
bool courseV1Candidates(const Text& t, std::string& out, AtRun&& atRun) {
  return orgCourseCandidates(t, "/courses/course-v1:", 19, t.indexOf("/courses/course-v1:", 0), [&](long p, long i1, long i2) -> int {
    long runEnd = t.indexOf('+', i2 + 1);
    if (runEnd < 0) runEnd = t.n;
    const int r = atRun(i2, runEnd);
    if (r > 0) out.assign(t.s + p, i1 - p).append("/").append(t.s + i1 + 1, i2 - i1 - 1).append("/");
    return r;
  });
}

// moduleId.ts matchCourseV1Courseware (okre5 on `page`, A8c): `ORG/COURSE/` or false.
bool matchCourseV1Courseware(const Text& t, std::string& out) {
  return courseV1Candidates(t, out, [&](long i2, long runEnd) {
    for (long q = t.indexOf("/courseware/", i2 + 2); q >= 0 && q < runEnd; q = t.indexOf("/courseware/", q + 1)) {
      const long k1 = t.indexOf('/', q + 12);
      if (k1 < 0) return -1;
      if (k1 == q + 12) continue;
      const long k2 = t.indexOf('/', k1 + 1);
      if (k2 < 0) return -1;
      if (k2 > k1 + 1) return 1;
    }
    return 0;
  });
}

// moduleId.ts matchCourseV1Bc (okre2, A3 on `page`): `ORG/COURSE/` or false.
bool matchCourseV1Bc(const Text& t, std::string& out) {
  return courseV1Candidates(t, out, [&](long i2, long runEnd) {
    for (long sl = t.indexOf('/', i2 + 2); sl >= 0 && sl + 1 < runEnd; sl = t.indexOf('/', sl + 1))
      if (t.s[sl + 1] == 'b' || t.s[sl + 1] == 'c') return 1;
    return 0;
  });
}

// moduleId.ts pyStr of event.new for B2a's position: 1 with `out` set for an ASCII string without
// escapes or an integer of at most 15 digits (Python prints both as JavaScript does); -1 for
// anything else (left to JavaScript).
int pyStrOfNew(const uint8_t* b, int32_t a, int32_t e, std::string& out) {
  if (b[a] == '"') {
    for (int32_t k = a + 1; k < e - 1; k++)
      if (b[k] == '\\' || b[k] >= 0x80) return -1;
    out.assign(reinterpret_cast<const char*>(b + a + 1), e - a - 2);
    return 1;
  }
  const int32_t d = a + (b[a] == '-' ? 1 : 0);
  if (e - d < 1 || e - d > 15 || (b[a] == '-' && b[d] == '0')) return -1;
  for (int32_t k = d; k < e; k++)
    if (!digit(b[k])) return -1;
  out.assign(reinterpret_cast<const char*>(b + a), e - a);
  return 1;
}

// B2b (page_close; `page` a string): cidre7 after '#'s, then cidre8, on the page
bool pageCloseRule(const Text& page, std::string& out) {
  long e = page.n;
  if (e > 0 && page.s[e - 1] == '\n') e--;
  while (e > 0 && page.s[e - 1] == '#') e--;
  long f = e > 0 && page.s[e - 1] == '/' ? e - 1 : -1;
  long sLast = lastSegmentStart(page, f);
  if (sLast >= 0 && coursewareAtEnd(page, f, sLast, 2, "sequential", "/", out)) return true;
  f = finalSlash(page);
  sLast = lastSegmentStart(page, f);
  return sLast >= 0 && coursewareAtEnd(page, f, sLast, 1, "chapter", "/", out);
}

// The rules every kind of event reaches the same way (moduleId.ts guessModuleId), shared by
// objectEventModuleId and the rewrite's stringEventModuleId.
struct TypeAndPath {
  const Text& type;
  const Text* path;  // context.path; nullptr when it is not a string (an error: no module_id)
  bool samePath;     // a server event's path is usually its type: the path rules would repeat the type's
  bool etHasSlash;
  TypeAndPath(const Text& t, const Text* p)
      : type(t), path(p), samePath(p != nullptr && p->n == t.n && memcmp(p->s, t.s, t.n) == 0), etHasSlash(t.indexOf('/', 0) >= 0) {}
};

// A1 on the type, then A2 on the path: 1 with `out` set, 0 when the path is not a string (no
// module_id), 2 to go on; a5 and a6 get the okre3 results that A5 and A6 take later.
int xblockRulesA1A2(const TypeAndPath& tp, std::string& out, std::string& a5, std::string& a6) {
  const long etCv1 = tp.type.indexOf("/courses/course-v1:", 0);
  if (etCv1 >= 0 && scanXblockV1(tp.type, etCv1, out, a5)) return 1;  // A1
  if (tp.path == nullptr) return 0;
  if (!tp.samePath) {
    const long c = tp.path->indexOf("/courses/course-v1:", 0);
    if (c >= 0 && scanXblockV1(*tp.path, c, out, a6)) return 1;  // A2
  }
  return 2;
}

// B3..B10 on the type (they all need a '/' in it), then B11 on the path: true with `out` set.
bool urlRulesB3toB11(const TypeAndPath& tp, std::string& out) {
  const Text& type = tp.type;
  if (tp.etHasSlash) {
    if (matchForumUrl(type, out)) return true;  // B3..B6
    const long f = finalSlash(type);
    const long sLast = lastSegmentStart(type, f);
    if (sLast >= 0) {
      if (coursewareAtEnd(type, f, sLast, 2, "sequential", "/", out)) return true;  // B7
      if (coursewareAtEnd(type, f, sLast, 1, "chapter", "", out)) return true;      // B8
    }
    if (type.indexOf("/jump_to_id/", 0) >= 0 && matchJumpToId(type, out)) return true;  // B9
    if (matchXblockI4x(type, out)) return true;                                          // B10
  }
  return !tp.samePath && matchXblockI4x(*tp.path, out);  // B11
}

// B13 on the type: 1 with `out` set, -1 for goto_position (its suffix is left to JavaScript), 0.
int cidre3RuleB13(const TypeAndPath& tp, std::string& out) {
  if (!(tp.etHasSlash && tp.type.indexOf("i4x://", 0) >= 0 && matchCidre3(tp.type, out))) return 0;
  return tp.type.indexOf("/goto_position", 0) >= 0 ? -1 : 1;
}

// module_id (moduleId.ts guessModuleId) of a line whose `event` is an object, without `_id` or
// `module_id` of its own: `type` the event type, `path` context.path (nullptr when it is not a
// string: an error, no module_id), `source` 0 absent, 1 "browser", 2 another value; `id` and
// `problem_id` the value spans of those members of `event` in `b` (-1: absent). Returns 1 with
// `out` set, 0 for no module_id, -1 when JavaScript must decide (an escaped id, the rules that
// read `page`, `new` or POST.position: A8c, B2a, B2b, B13's goto_position).
int objectEventModuleId(const Text& type, const Text* path, int source, const uint8_t* b, int32_t idA, int32_t idE, int32_t pidA, int32_t pidE,
                        std::string& out, const PageAndNew* pn = nullptr) {
  const TypeAndPath tp(type, path);
  std::string a5, a6;
  const int a1a2 = xblockRulesA1A2(tp, out, a5, a6);
  if (a1a2 != 2) return a1a2;
  // A3, A4 need a string or array event
  if (!a5.empty()) return out = a5, 1;  // A5
  if (!a6.empty()) return out = a6, 1;  // A6
  // A7 decodes only strings; A8 and B1 on event.id
  const bool b0 = isText(type, "add_resource") || isText(type, "delete_resource") || isText(type, "recommender_upvote");
  Text id{"", 0};
  const bool idString = idA >= 0 && b[idA] == '"';
  if (idA >= 0) {
    if (!idString) return 0;  // B0 or B1
    if (memchr(b + idA, '\\', idE - idA) != nullptr) return -1;
    id = Text{reinterpret_cast<const char*>(b + idA + 1), static_cast<long>(idE - idA - 2)};
    if (matchBlockV1(id, out)) return 1;  // A8a
    if (matchI4xDash(id, out)) return 1;  // A8b
    if (isText(type, "play_video") && id.indexOf('/', 0) < 0) {  // A8c reads page
      if (pn == nullptr) return -1;
      if (pn->pageKind == 3) return 0;  // pageOrEmpty raises: no module_id
      std::string orgCourse;
      if (matchCourseV1Courseware(pn->pageKind == 1 ? pn->page : Text{"", 0}, orgCourse)) return out = orgCourse + "video/", id.append(out, 0, id.n), 1;
    }
  }
  if (b0) return 0;
  if (source == 0) return 0;  // no event_source: an error
  if (source == 1 && (idString || isText(type, "page_close"))) {
    if (pn == nullptr) return -1;
    // B2a: event.id holding i4x://A/B/C/D; seq_goto and seq_next add str(event.new) when present
    std::string base;
    if (idString && id.indexOf("i4x://", 0) >= 0 && matchCidre3(id, base)) {
      if (!isText(type, "seq_goto") && !isText(type, "seq_next")) return out = base, 1;
      if (pn->newA >= 0) {
        std::string position;
        if (pyStrOfNew(b, pn->newA, pn->newE, position) < 0) return -1;
        return out = base + "/" + position, 1;
      }
    }
    if (isText(type, "page_close")) {  // B2b: a page that is missing or not a string raises
      if (pn->pageKind != 1) return 0;
      if (pageCloseRule(pn->page, out)) return 1;
    }
  }
  // B2d and B2e need a string or array event
  if (urlRulesB3toB11(tp, out)) return 1;
  // B12 needs a string event
  if (const int r = cidre3RuleB13(tp, out); r != 0) return r;
  // B15, B16 need a string event; B17 on a problem_id Python finds true (an error unless a string)
  if (pidA >= 0) {
    const int truthy = pyTruthy(b, pidA, pidE);
    if (truthy < 0) return -1;
    if (truthy == 1) {
      if (b[pidA] != '"') return 0;
      if (memchr(b + pidA, '\\', pidE - pidA) != nullptr) return -1;
      if (matchCidre3(Text{reinterpret_cast<const char*>(b + pidA + 1), static_cast<long>(pidE - pidA - 2)}, out)) return 1;
    }
  }
  if (idString && id.n > 0 && matchCidre4(id, out)) return 1;  // B18
  return 0;
}

// ---------------------------------------------------------------- numbers as JavaScript writes them

// Number::toString of a finite double (what JSON.stringify writes), appended to `out`.
template <class Out>
void appendJsNumber(double d, Out& out) {
  if (d == 0) {
    out += '0';  // also -0
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);  // shortest round trip
  const char* p = buf;
  if (*p == '-') {
    out += '-';
    p++;
  }
  char digits[32];
  int k = 0;
  for (; p < r.ptr && *p != 'e'; p++)
    if (*p != '.') digits[k++] = *p;
  int exp = 0;
  bool negExp = false;
  for (p++; p < r.ptr; p++) {
    if (*p == '-') negExp = true;
    else if (*p != '+') exp = exp * 10 + (*p - '0');
  }
  const int n = (negExp ? -exp : exp) + 1;  // ECMAScript's n: the decimal point's place
  if (k <= n && n <= 21) {
    out.append(digits, k);
    out.append(n - k, '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, n);
    out += '.';
    out.append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(-n, '0');
    out.append(digits, k);
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, k - 1);
    }
    out += 'e';
    out += n - 1 < 0 ? '-' : '+';
    out += std::to_string(n - 1 < 0 ? 1 - n : n - 1);
  }
}

// The double of a decimal text s[0, n) without a leading '+' (JSON.parse / Number); false when it
// is out of the double range (JavaScript would make it ±Infinity or 0: left to JavaScript).
bool parseDouble(const char* s, size_t n, double& d) {
  const auto r = std::from_chars(s, s + n, d);
  return r.ec == std::errc() && r.ptr == s + n;
}

// JSON.stringify(JSON.parse(token)) of the JSON number b[a, e); false: left to JavaScript.
// Whether the JSON number b[a, e) is written as Number::toString writes its double: no exponent,
// no trailing zero in the fraction, at most 15 significant digits (so the digits are the
// shortest that give the double back), not -0, and in the fixed-point range of toString
// (|x| < 1e21, and at most five zeros after the point before the first digit of a number < 1).
bool jsonNumberIsCanonical(const uint8_t* b, size_t a, size_t e) {
  size_t i = a + (b[a] == '-' ? 1 : 0);
  const size_t intStart = i;
  while (i < e && digit(b[i])) i++;
  const size_t intDigits = i - intStart;
  const bool zeroInt = intDigits == 1 && b[intStart] == '0';
  if (i == e) return intDigits <= 15 && !(zeroInt && b[a] == '-');
  if (b[i] != '.' || b[e - 1] == '0') return false;  // an exponent, or a trailing zero
  const size_t fracStart = ++i;
  while (i < e && digit(b[i])) i++;
  if (i != e) return false;
  size_t leadingZeros = 0;
  if (zeroInt)
    while (b[fracStart + leadingZeros] == '0') leadingZeros++;
  const size_t significant = (zeroInt ? 0 : intDigits) + (e - fracStart) - leadingZeros;
  return significant <= 15 && leadingZeros <= 5;
}

// JSON.stringify(JSON.parse(token)) of the JSON number b[a, e); false: left to JavaScript.
template <class Out>
bool appendJsonNumber(const uint8_t* b, size_t a, size_t e, Out& out) {
  if (jsonNumberIsCanonical(b, a, e)) {
    out.append(reinterpret_cast<const char*>(b + a), e - a);
    return true;
  }
  double d;
  if (!parseDouble(reinterpret_cast<const char*>(b + a), e - a, d)) return false;
  appendJsNumber(d, out);
  return true;
}

// JSON.stringify(JSON.parse(text)) of the valid JSON value at b[i..], appended to `out`: compact,
// strings and numbers as V8 writes them. Returns the index after the value, or SIZE_MAX where this
// code does not vouch for the result (a number out of the double range, an escaped, numeric or
// repeated object key: V8 puts integer keys first and keeps a repeated key's first place).
template <class Out>
size_t canonicalJson(const uint8_t* b, size_t i, Out& out, int depth) {
  i = ws(b, i);
  const uint8_t c = b[i];
  if (c == '{' || c == '[') {
    if (depth > 32) return SIZE_MAX;
    const bool object = c == '{';
    out += static_cast<char>(c);
    // the keys seen (repeats are refused): a few on the stack, the rest in a vector (a plain
    // array, left uninitialised: std::pair's constructor zeroed it on every call, ~1% of split)
    struct Key {
      size_t first, second;
    };
    Key few[16];
    size_t nFew = 0;
    std::vector<std::pair<size_t, size_t>> more;
    i = ws(b, i + 1);
    if (b[i] == (object ? '}' : ']')) {
      out += static_cast<char>(b[i]);
      return i + 1;
    }
    for (bool first = true;; first = false) {
      if (!first) out += ',';
      if (object) {
        i = ws(b, i);
        bool esc = false;
        const size_t e = scanString(b, i + 1, esc);
        if (e == SIZE_MAX || esc) return SIZE_MAX;
        bool numeric = e - i > 2;
        for (size_t k = i + 1; k + 1 < e; k++) numeric &= digit(b[k]);
        if (numeric) return SIZE_MAX;
        for (size_t k = 0; k < nFew; k++)
          if (few[k].second == e - i && memcmp(b + few[k].first, b + i, e - i) == 0) return SIZE_MAX;
        for (const auto& [ka, kn] : more)
          if (kn == e - i && memcmp(b + ka, b + i, kn) == 0) return SIZE_MAX;
        if (nFew < 16) few[nFew++] = {i, e - i};
        else more.emplace_back(i, e - i);
        out.append(reinterpret_cast<const char*>(b + i), e - i);
        out += ':';
        i = ws(b, e) + 1;  // the ':'
      }
      i = canonicalJson(b, i, out, depth + 1);
      if (i == SIZE_MAX) return SIZE_MAX;
      i = ws(b, i);
      if (b[i] == ',') {
        i++;
        continue;
      }
      out += static_cast<char>(b[i]);  // the closing bracket
      return i + 1;
    }
  }
  if (c == '"') {
    bool esc = false;
    const size_t e = scanString(b, i + 1, esc);
    if (e == SIZE_MAX) return SIZE_MAX;
    if (!esc) {
      out.append(reinterpret_cast<const char*>(b + i), e - i);
      return e;
    }
    out += '"';
    static const char kHex[] = "0123456789abcdef";
    auto hex4 = [&](size_t at) {
      unsigned u = 0;
      for (int j = 0; j < 4; j++) {
        const uint8_t h = b[at + j];
        u = u * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      return u;
    };
    auto unit = [&](unsigned u) {  // one code unit as V8's JSON.stringify writes it
      if (u == '"' || u == '\\') {
        out += '\\';
        out += static_cast<char>(u);
      } else if (u < 0x20 || (u >= 0xd800 && u <= 0xdfff)) {
        const char* shortForm = u == '\b' ? "\\b" : u == '\t' ? "\\t" : u == '\n' ? "\\n" : u == '\f' ? "\\f" : u == '\r' ? "\\r" : nullptr;
        if (shortForm != nullptr) {
          out += shortForm;
        } else {
          out += "\\u";
          for (int s = 12; s >= 0; s -= 4) out += kHex[(u >> s) & 15];
        }
      } else if (u < 0x80) {
        out += static_cast<char>(u);
      } else if (u < 0x800) {
        out += static_cast<char>(0xc0 | (u >> 6));
        out += static_cast<char>(0x80 | (u & 0x3f));
      } else {
        out += static_cast<char>(0xe0 | (u >> 12));
        out += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (u & 0x3f));
      }
    };
    for (size_t k = i + 1; k + 1 < e;) {
      if (b[k] != '\\') {
        out += static_cast<char>(b[k++]);
        continue;
      }
      const uint8_t x = b[k + 1];
      if (x != 'u') {
        unit(x == 'b' ? '\b' : x == 'f' ? '\f' : x == 'n' ? '\n' : x == 'r' ? '\r' : x == 't' ? '\t' : x);
        k += 2;
        continue;
      }
      const unsigned u = hex4(k + 2);
      k += 6;
      if (u >= 0xd800 && u <= 0xdbff && k + 6 < e + 1 && b[k] == '\\' && b[k + 1] == 'u') {
        const unsigned lo = hex4(k + 2);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          const unsigned cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
          out += static_cast<char>(0xf0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (cp & 0x3f));
          k += 6;
          continue;
        }
      }
      unit(u);
    }
    out += '"';
    return e;
  }
  if (c == 't' || c == 'f' || c == 'n') {
    const size_t len = c == 'f' ? 5 : 4;
    out.append(reinterpret_cast<const char*>(b + i), len);
    return i + len;
  }
  // a number: as Number::toString writes the double JSON.parse makes of it
  const size_t e = scanNumber(b, i);
  if (e == SIZE_MAX || !appendJsonNumber(b, i, e, out)) return SIZE_MAX;
  return e;
}

// What the compact tables get from a server problem_check or a show_answer line, computed by
// lineFacts (chunkTasks.ts problemCheckPayloadRow / showAnswerPayloadRow → eventRows.ts
// problemCheckRow / showAnswerRow). Strings are held here until lineFacts interns them.
// What the rewrite already worked out for a line it took (native/rewrite.cc), for its problem
// row: module_id as the row holds it (null: none; the rewrite's own string, valid until its next
// line), and the answers' JSON text when its full event_struct wrote them (R10).
struct KnownRow {
  const std::string* moduleId = nullptr;
  bool hasAnswers = false;
  std::string answers;
};

struct PayloadFacts {
  int kind = 0;  // 0 none, or the state (kProblemCheckFacts, …)
  bool has[kPayloadMaxStrings] = {};
  std::string text[kPayloadMaxStrings];
  double number[kPayloadMaxNumbers] = {};
  void clear() {
    kind = 0;
    for (bool& h : has) h = false;
    for (double& d : number) d = __builtin_nan("");
  }
  std::string& set(int k) {
    has[k] = true;
    text[k].clear();
    return text[k];
  }
};

// A number member that the JavaScript path keeps as it is (attempts: a safe integer; a grade: a
// finite number); NaN for null / absent. False when JavaScript must decide.
bool plainNumber(const uint8_t* b, int32_t a, int32_t e, bool integer, double& v) {
  v = __builtin_nan("");
  if (a < 0 || b[a] == 'n') return true;
  const uint8_t c = b[a];
  if (c != '-' && !digit(c)) return false;
  if (integer) {
    // digits only (JSON.parse gives the same integer), at most 15 of them: a safe integer
    size_t k = a + (c == '-' ? 1 : 0);
    const size_t from = k;
    while (static_cast<int32_t>(k) < e && digit(b[k])) k++;
    if (static_cast<int32_t>(k) != e || k == from || k - from > 15) return false;
  }
  const auto r = std::from_chars(reinterpret_cast<const char*>(b + a), reinterpret_cast<const char*>(b + e), v);
  return r.ec == std::errc() && r.ptr == reinterpret_cast<const char*>(b + e) && std::isfinite(v);
}

// objectEventModuleId of the line in `b` whose `event` is an object: -1 (JavaScript decides) when
// the line has `_id`, `module_id`, a context that is not an object, or a context.path that is
// escaped or not a string or null.
int lineModuleId(const uint8_t* b, const Span* f, const LineFlags& flags, const Text& type, int source, int32_t idA, int32_t idE, int32_t pidA,
                 int32_t pidE, std::string& out) {
  if (flags.hasId || flags.hasModuleId || flags.contextKind == 2) return -1;
  const Span& path = f[F_CTX_PATH];
  if (path.kind == V_ESCAPED || path.kind == V_OTHER) return -1;
  Text pathText{"", 0};
  if (path.kind == V_ASCII || path.kind == V_UTF8) pathText = {reinterpret_cast<const char*>(b + path.start), path.end - path.start};
  return objectEventModuleId(type, path.kind == V_NULL ? nullptr : &pathText, source, b, idA, idE, pidA, pidE, out);
}

// A member that must be a string (decoded into out.text[k]), null or absent (out.has[k] false);
// false for another type or a lone surrogate.
bool stringOrNullMember(const uint8_t* b, int32_t a, int32_t e, PayloadFacts& out, int k) {
  out.has[k] = false;
  if (a < 0 || b[a] == 'n') return true;
  if (b[a] != '"') return false;
  size_t len;
  if (!decodeJsonString(b, a + 1, e - 1, decodeScratch, len)) return false;
  out.set(k).assign(reinterpret_cast<const char*>(decodeScratch.data()), len);
  return true;
}

// The payload facts of the line in `b` whose event type is problem_check / save_problem_check
// (source "server") or show_answer / showanswer, from the members `spans` of its object `event`
// (readMembers<problemKey>). False when JavaScript must decide.
// With `known` (a line the rewrite took), module_id and the answers' text come from the rewrite:
// they are what its row, and so the JavaScript path's problemCheckRow, holds.
bool payloadFacts(const uint8_t* b, const Span* f, const LineFlags& flags, const int32_t* spans, bool problemCheck, const Text& type, int source,
                  PayloadFacts& out, const KnownRow* known) {
  if (known != nullptr) {
    out.has[0] = known->moduleId != nullptr;
    if (out.has[0]) out.text[0] = *known->moduleId;
  } else {
    const int m = lineModuleId(b, f, flags, type, source, spans[2 * PK_ID], spans[2 * PK_ID + 1], spans[2 * PK_PROBLEM_ID], spans[2 * PK_PROBLEM_ID + 1],
                               out.text[0]);
    if (m < 0) return false;
    out.has[0] = m == 1;
  }
  if (!problemCheck) {
    out.kind = kShowAnswerFacts;
    return true;
  }
  if (!plainNumber(b, spans[2 * PK_ATTEMPTS], spans[2 * PK_ATTEMPTS + 1], true, out.number[0]) ||
      !plainNumber(b, spans[2 * PK_GRADE], spans[2 * PK_GRADE + 1], false, out.number[1]) ||
      !plainNumber(b, spans[2 * PK_MAX_GRADE], spans[2 * PK_MAX_GRADE + 1], false, out.number[2]))
    return false;
  if (!stringOrNullMember(b, spans[2 * PK_SUCCESS], spans[2 * PK_SUCCESS + 1], out, 2)) return false;
  if (spans[2 * PK_ANSWERS] >= 0) {
    if (known != nullptr && known->hasAnswers) out.set(1) = known->answers;
    else if (canonicalJson(b, spans[2 * PK_ANSWERS], out.set(1), 0) == SIZE_MAX) return false;
  }
  out.kind = kProblemCheckFacts;
  return true;
}

thread_local std::vector<uint8_t> linkScratch;

constexpr int TK_TARGET_URL = 0;
int linkKey(const char* k, size_t n) { return n == 10 && memcmp(k, "target_url", 10) == 0 ? TK_TARGET_URL : K_NONE; }

// Whether the object at b[i] ('{') has a string target_url holding "handler/transcript/download"
// (the last of repeated keys, as JSON.parse keeps it): 1 or 0; -1 when JavaScript must decide.
// `end` is where the text must end (only white space after the object).
int linkTargetIsDownload(const uint8_t* b, size_t i, size_t end) {
  int32_t a = -1, e = -1;
  const size_t after = walkObject<linkKey>(b, i + 1, [&](int key, size_t at) -> size_t {
    const size_t v = skipValue(b, at, 2);
    if (key == TK_TARGET_URL && v != SIZE_MAX) {
      a = static_cast<int32_t>(at);
      e = static_cast<int32_t>(v);
    }
    return v;
  });
  if (after == SIZE_MAX || ws(b, after) != end) return -1;  // not JSON here (or too deep): JavaScript decides
  if (a < 0 || b[a] != '"') return 0;
  size_t n;
  if (!decodeJsonString(b, a + 1, e - 1, decodeScratch, n)) return -1;
  return memmem(decodeScratch.data(), n, "handler/transcript/download", 27) != nullptr ? 1 : 0;
}

// The transcript row (eventRows.ts transcriptRow) of a line whose type `t` is transcriptOnly, as
// the rewrite leaves it: link_clicked reads target_url from the `event` JSON text (a string
// holding an object's JSON text, or an object); a translation URL gives the text after the last
// `/handler/transcript/translation/`, cut at a `?` or `#`. False when JavaScript must decide.
bool transcriptFacts(const uint8_t* b, const Span* f, const char* t, size_t tn, PayloadFacts& out) {
  if (!is(t, tn, "edx.ui.lms.link_clicked")) {
    const Text type{t, static_cast<long>(tn)};
    const long at = type.lastIndexOf("/handler/transcript/translation/", type.n);
    out.kind = kTranscriptLanguage;
    if (at >= 0) {
      const long from = at + 32;
      long cut = from;
      while (cut < type.n && t[cut] != '?' && t[cut] != '#') cut++;
      out.set(0).assign(t + from, cut - from);
    }
    return true;
  }
  out.kind = 0;  // no row unless the target is a transcript download
  const Span& ev = f[F_EVENT];
  if (ev.kind != V_TEXT) return true;  // no event: "" (an absent one) holds no object
  int download = 0;
  if (b[ev.start] == '{') {
    download = linkTargetIsDownload(b, ev.start, ev.end);
  } else if (b[ev.start] == '"') {
    // R4 / R5: the string's content is the event text when it is JSON; only an object's holds a target
    size_t n;
    if (!decodeJsonString(b, ev.start + 1, ev.end - 1, linkScratch, n)) return false;
    const size_t i = ws(linkScratch.data(), 0);
    if (i < n && linkScratch[i] == '{') download = linkTargetIsDownload(linkScratch.data(), i, n);
  }
  if (download < 0) return false;
  if (download == 1) out.kind = kTranscriptDownload;
  return true;
}

// Forum events (eventRows.ts isForumType): the payload members chunkTasks.ts forumPayloadRow and
// module_id read, in ForumKey order.
enum ForumKey { FK_GET, FK_POST, FK_QUERY, FK_ID, FK_PROBLEM_ID, FK_NEW, N_FORUM_KEYS };
int forumKey(const char* k, size_t n) {
  switch (n) {
    case 2: return memcmp(k, "id", 2) == 0 ? FK_ID : K_NONE;
    case 3: return memcmp(k, "GET", 3) == 0 ? FK_GET : memcmp(k, "new", 3) == 0 ? FK_NEW : K_NONE;
    case 4: return memcmp(k, "POST", 4) == 0 ? FK_POST : K_NONE;
    case 5: return memcmp(k, "query", 5) == 0 ? FK_QUERY : K_NONE;
    case 10: return memcmp(k, "problem_id", 10) == 0 ? FK_PROBLEM_ID : K_NONE;
    default: return K_NONE;
  }
}


// ---------------------------------------------------------------- forum rows (eventRows.ts forumRow)

// The §8.1 URL tests, in their order; each needs `/courses/.*/discussion/` before it: ForumBody
// reads the text after a "/discussion/" at r. The patterns' `$` is the end of the text.
const char* const kForumActions[] = {
    "reply", "upvote", "unvote", "update", "delete", "close", "follow_thread", "unfollow_thread", "pin", "unpin", "downvote",
    "comment_reply", "comment_upvote", "comment_update", "comment_unvote", "comment_delete",
    "follow_user", "target_user", "read", "read_inline", "search", "enter_forum", "enter_forum",
};
constexpr int kNumForumActions = sizeof kForumActions / sizeof kForumActions[0];

// The first of the URL tests that matches the text after "discussion/" at r (kNumForumActions: none).
int forumPatternAt(const Text& t, long r) {
  auto segEnd = [&](long from) {
    const long e = t.indexOf('/', from);
    return e < 0 ? t.n : e;
  };
  auto suffixAfterSegment = [&](long a, const char* const* suffixes, int count) {
    const long e = t.indexOf('/', a);
    if (e <= a) return -1;  // no segment, or no '/' after it
    for (int k = 0; k < count; k++)
      if (t.startsWith(suffixes[k], e)) return k;
    return -1;
  };
  static const char* const kThreadSuffixes[] = {"/reply", "/upvote", "/unvote", "/update", "/delete", "/close", "/follow", "/unfollow", "/pin", "/unpin", "/downvote"};
  static const char* const kCommentSuffixes[] = {"/reply", "/upvote", "/update", "/unvote", "/delete"};
  if (t.startsWith("threads/", r)) {
    const int k = suffixAfterSegment(r + 8, kThreadSuffixes, 11);
    if (k >= 0) return k;
  }
  if (t.startsWith("comments/", r)) {
    const int k = suffixAfterSegment(r + 9, kCommentSuffixes, 5);
    if (k >= 0) return 11 + k;
  }
  if (t.startsWith("forum/users/", r)) {
    const long a = r + 12, e = segEnd(a);
    if (e > a && t.startsWith("/followed", e)) return 16;
    if (e > a && e == t.n) return 17;
  }
  if (t.startsWith("forum/", r)) {
    const long a = r + 6, e = segEnd(a);
    if (e > a && t.startsWith("/threads/", e) && e + 9 < t.n && t.s[e + 9] != '/') return 18;
    if (e > a && t.startsWith("/inline", e)) return 19;
    if (t.startsWith("search", a)) return 20;
    if (a == t.n) return 22;
  }
  if (r + 5 == t.n && t.startsWith("forum", r)) return 21;
  return kNumForumActions;
}

const char* const kForumNames[][2] = {
    {"edx.forum.thread.created", "created_thread"}, {"edx.forum.response.created", "created_response"},
    {"edx.forum.comment.created", "created_comment"}, {"edx.forum.searched", "searched"},
};

// The segment of `t` at [a, …) up to the next '/' (or the end), when it is not empty.
bool segmentAt(const Text& t, long a, std::string& out, bool needSlash) {
  long e = t.indexOf('/', a);
  if (e < 0) {
    if (needSlash) return false;
    e = t.n;
  }
  if (e == a) return false;
  out.assign(t.s + a, e - a);
  return true;
}

// eventRows.ts forumRow's columns for the forum type `t` (no line break in it), with the line's
// module_id (`moduleId` when `hasModuleId`), into out.text[0..3]: forum_action, thread_id,
// subject, target_user_id. The URL tests are `/courses/.*/…`: the '/' before what follows lies
// after the first "/courses/" (at i0 + 9 or later), and a capture takes the last such place.
void forumColumns(const Text& t, bool hasModuleId, const std::string& moduleId, PayloadFacts& out) {
  const long i0 = t.indexOf("/courses/", 0);
  // forum_action
  std::string& action = out.set(0);
  int best = kNumForumActions;
  if (i0 >= 0) {
    for (long p = t.indexOf("/discussion/", i0 + 9); p >= 0; p = t.indexOf("/discussion/", p + 1)) best = std::min(best, forumPatternAt(t, p + 12));
  }
  long api = -1;
  if (best < kNumForumActions) {
    action = kForumActions[best];
  } else if (i0 >= 0 && (api = t.lastIndexOf("/instructor/api/", t.n)) >= i0 + 9) {
    action.assign(t.s + api + 16, t.n - api - 16);
  } else {
    action.assign(t.s, t.n);
    for (const auto& [name, short_] : kForumNames)
      if (isText(t, name)) action = short_;
  }
  // thread_id
  out.has[1] = false;
  if (hasModuleId) {
    // MODULE_THREAD, /[^/]+\/[^/]+\/forum\/([^/]+)/, leftmost: only a segment's start can begin it
    const Text m{moduleId.data(), static_cast<long>(moduleId.size())};
    for (long s = 0; s >= 0 && s < m.n; s = m.indexOf('/', s) < 0 ? -1 : m.indexOf('/', s) + 1) {
      const long a = m.indexOf('/', s);
      if (a <= s) continue;
      const long b2 = m.indexOf('/', a + 1);
      if (b2 <= a + 1 || !m.startsWith("/forum/", b2)) continue;
      std::string id;
      if (segmentAt(m, b2 + 7, id, false)) {
        out.set(1) = id;
        break;
      }
    }
  } else if (i0 >= 0) {
    std::string seg;
    bool found = false;
    // URL_READ_THREAD: discussion/forum/S/threads/(T)
    for (long p = t.indexOf("/discussion/", i0 + 9); p >= 0; p = t.indexOf("/discussion/", p + 1)) {
      const long r = p + 12;
      if (!t.startsWith("forum/", r)) continue;
      const long e = t.indexOf('/', r + 6);
      std::string candidate;
      if (e > r + 6 && t.startsWith("/threads/", e) && segmentAt(t, e + 9, candidate, false)) {
        seg = candidate;
        found = true;
      }
    }
    if (!found) {
      // URL_THREAD_SLASH, then URL_THREAD: discussion/threads/(T)
      bool slash = false;
      for (long p = t.indexOf("/discussion/threads/", i0 + 9); p >= 0; p = t.indexOf("/discussion/threads/", p + 1)) {
        std::string candidate;
        if (segmentAt(t, p + 20, candidate, true)) slash = true;
      }
      if (slash) {
        for (long p = t.indexOf("/discussion/threads/", i0 + 9); p >= 0; p = t.indexOf("/discussion/threads/", p + 1)) {
          std::string candidate;
          if (segmentAt(t, p + 20, candidate, false)) {
            seg = candidate;
            found = true;
          }
        }
      } else {
        // URL_COMMENT: discussion/comments/(C)/
        for (long p = t.indexOf("/discussion/comments/", i0 + 9); p >= 0; p = t.indexOf("/discussion/comments/", p + 1)) {
          std::string candidate;
          if (segmentAt(t, p + 21, candidate, true)) {
            seg = candidate;
            found = true;
          }
        }
      }
    }
    if (found) out.set(1) = seg;
  }
  // subject: forum/(S)/ ; target_user_id: forum/users/(U)
  out.has[2] = out.has[3] = false;
  if (i0 >= 0) {
    std::string seg;
    for (long p = t.indexOf("/forum/", i0 + 9); p >= 0; p = t.indexOf("/forum/", p + 1)) {
      std::string candidate;
      if (segmentAt(t, p + 7, candidate, true)) {
        seg = candidate;
        out.has[2] = true;
      }
    }
    if (out.has[2]) out.text[2] = seg;
    for (long p = t.indexOf("/forum/users/", i0 + 9); p >= 0; p = t.indexOf("/forum/users/", p + 1)) {
      std::string candidate;
      if (segmentAt(t, p + 13, candidate, false)) {
        seg = candidate;
        out.has[3] = true;
      }
    }
    if (out.has[3]) out.text[3] = seg;
  }
}

// The forum row of the line in `b` whose type `t` is forumOnly and whose object `event` has the
// members `spans` (readMembers<forumKey>). False when JavaScript must decide.
bool forumFacts(const uint8_t* b, const Span* f, const LineFlags& flags, const int32_t* spans, const Text& type, int source, bool userIsString,
                PayloadFacts& out) {
  // `.` in the URL tests stops at line breaks; a plain JSON string can hold U+2028 and U+2029
  // unescaped (\n and \r only escaped, which lineFacts leaves to JavaScript): left to JavaScript
  for (long i = 0; i + 2 < type.n; i++) {
    if (static_cast<uint8_t>(type.s[i]) == 0xe2 && static_cast<uint8_t>(type.s[i + 1]) == 0x80 &&
        (static_cast<uint8_t>(type.s[i + 2]) == 0xa8 || static_cast<uint8_t>(type.s[i + 2]) == 0xa9))
      return false;
  }
  std::string moduleId;
  const int m = lineModuleId(b, f, flags, type, source, spans[2 * FK_ID], spans[2 * FK_ID + 1], spans[2 * FK_PROBLEM_ID], spans[2 * FK_PROBLEM_ID + 1],
                             moduleId);
  if (m < 0) return false;
  // search_query: a string or null (else JavaScript decides); event_GET: the JSON text of GET
  if (!stringOrNullMember(b, spans[2 * FK_QUERY], spans[2 * FK_QUERY + 1], out, 4)) return false;
  std::string& get = out.set(5);
  if (spans[2 * FK_GET] < 0) get = "null";
  else if (canonicalJson(b, spans[2 * FK_GET], get, 0) == SIZE_MAX) return false;
  if (!userIsString) {
    out.clear();  // forumRow needs a string username: no row
    return true;
  }
  forumColumns(type, m == 1, moduleId, out);
  out.kind = kForumFacts;
  return true;
}

// eventRows.ts enrollmentRow of a line whose type `t` is enrollmentKnown and whose object `event`
// has the members `spans` (readMembers<enrollmentKey>, so R17 touches none of its keys): user_id
// from the payload, else context.user_id (integers as R19 keeps them), mode (a string, null or
// absent); the flags are the type's, which JavaScript compares. False when JavaScript must decide.
bool enrollmentFacts(const uint8_t* b, const Span* f, const int32_t* spans, const char* t, size_t tn, PayloadFacts& out) {
  double userId;
  if (!plainNumber(b, spans[2 * EK_USER_ID], spans[2 * EK_USER_ID + 1], true, userId)) return false;
  if (userId != userId) {
    // null or absent in the payload: the actor's, from context
    const Span& cu = f[F_CTX_USER];
    if (cu.kind == V_NUMBER) {
      if (!plainNumber(b, cu.start, cu.end, true, userId)) return false;
    } else if (cu.kind != V_ABSENT && cu.kind != V_NULL) {
      return false;  // a string: R19's conversion is left to JavaScript
    }
  }
  out.number[0] = userId;
  if (!stringOrNullMember(b, spans[2 * EK_MODE], spans[2 * EK_MODE + 1], out, 0)) return false;
  out.set(1).assign(t, tn);
  out.kind = kEnrollmentFacts;
  return true;
}

thread_local PayloadFacts payload;

// The facts of a scanned line (fields `f` relative to the line at chunk offset `s`, in the
// scratch copy `b`), written into its record, when the native code can give exactly what the
// JavaScript pass (chunkTasks.ts fastFields → facts.ts addEventFacts) would: a parsed time, the
// course from context.course_id alone, plain string values, and an event no compact table
// reads except a video event whose payload was read. False otherwise (JavaScript reads the line).
bool lineFacts(const uint8_t* b, size_t s, const Span* f, int32_t* rec, const VideoValue* video, bool videoRead, uint8_t* side,
               size_t sideCap, size_t& sideAt, PrefixCache& prefixes, const LineFlags& flags, const TypeFacts& tf, int membersKind,
               const int32_t* members, const KnownRow* known) {
  if (rec[kTimeState] != 1) return false;
  double timeUs;
  memcpy(&timeUs, rec + kTimeValue, sizeof timeUs);
  if (timeUs != timeUs) return false;  // NaN: a time parseTimeMicros refuses
  auto isString = [](const Span& v) { return v.kind == V_ASCII || v.kind == V_UTF8; };
  // the course (courseId.ts resolveCourseId): no top-level course_id (or null / ""), then a
  // non-empty context.course_id, else the guess from page (browser events) or event_type
  const Span& top = f[F_COURSE_ID];
  if (!(top.kind == V_ABSENT || top.kind == V_NULL || (top.kind == V_ASCII && top.end == top.start))) return false;
  const Span& cc = f[F_CTX_COURSE];
  const Span& type = f[F_EVENT_TYPE];
  const Span& src = f[F_EVENT_SOURCE];
  // the type's and the source's text (a constant or bytes of the line), when they are strings
  const char* t = nullptr;
  size_t tn = 0;
  const bool hasType = fieldBytes(b, type, t, tn);
  const char* sb = nullptr;
  size_t sn = 0;
  const bool hasSource = fieldBytes(b, src, sb, sn);
  int courseSource = 0;  // where the course's bytes are: 0 the line, 1 guessedCourse; -1 no course
  if (isString(cc) && cc.end > cc.start) {
    courseSource = 0;
  } else if (cc.kind == V_ESCAPED) {
    return false;
  } else {
    if (!hasSource && src.kind != V_NULL && src.kind != V_ABSENT) return false;  // escaped
    courseSource = -1;
    if (src.kind == V_ABSENT) {
      // no source: no course
    } else if (hasSource && is(sb, sn, "browser")) {
      const Span& page = f[F_PAGE];
      if (page.kind == V_ESCAPED) return false;
      if (isString(page) && courseInPage(reinterpret_cast<const char*>(b + page.start), page.end - page.start, guessedCourse)) courseSource = 1;
    } else {
      if (type.kind == V_ESCAPED) return false;
      if (hasType && courseInUrl(t, tn, guessedCourse)) courseSource = 1;
    }
  }
  if (courseSource < 0) {
    // no course: the line is only counted as an unknown-course event
    rec[kFactsCourse] = -1;
    return true;
  }
  const Span& user = f[F_USERNAME];
  const Span& ip = f[F_IP];
  auto plain = [&](const Span& v) { return v.kind == V_ABSENT || v.kind == V_NULL || v.kind == V_ESCAPED || isString(v); };
  if (!plain(user) || !plain(ip) || !(type.kind == V_ABSENT || type.kind == V_NULL || type.kind == V_CONST || isString(type))) return false;
  if (tf.otherKind && !(tf.showAnswer && membersKind == kProblemMembers) && !tf.transcriptOnly && !(tf.forumOnly && membersKind == kForumMembers) &&
      !(tf.enrollmentKnown && membersKind == kEnrollmentMembers))
    return false;
  if (tf.videoType >= 0 && !videoRead) return false;
  // eventKind is not 0 for the source "server"; an escaped source is left to JavaScript
  const bool serverProblemCheck = tf.problemCheck && (hasSource ? is(sb, sn, "server") : src.kind != V_NULL && src.kind != V_ABSENT);
  payload.clear();
  // the row of a compact table too, for these kinds (members were read for them)
  const int sourceKind = src.kind == V_ABSENT ? 0 : hasSource && is(sb, sn, "browser") ? 1 : 2;
  if (serverProblemCheck || tf.showAnswer) {
    if (membersKind != kProblemMembers || src.kind == V_ESCAPED) return false;
    if (!payloadFacts(b, f, flags, members, serverProblemCheck, Text{t, static_cast<long>(tn)}, sourceKind, payload, known)) return false;
  }
  if (tf.transcriptOnly && !transcriptFacts(b, f, t, tn, payload)) return false;
  if (tf.enrollmentKnown && !enrollmentFacts(b, f, members, t, tn, payload)) return false;
  if (tf.forumOnly) {
    if (src.kind == V_ESCAPED) return false;
    if (!forumFacts(b, f, flags, members, Text{t, static_cast<long>(tn)}, sourceKind, user.kind != V_ABSENT && user.kind != V_NULL, payload)) return false;
  }
  const int32_t videoType = tf.videoType;
  int32_t typeFlags = tf.flags;
  const std::string_view courseBytes = courseSource == 0 ? std::string_view(reinterpret_cast<const char*>(b + cc.start), cc.end - cc.start)
                                                          : std::string_view(guessedCourse);
  if (tf.url) typeFlags |= urlCounterFlags(t, tn, prefixes.of(courseBytes));

  // everything below can still fail only for want of room; nothing is written before it is known
  int32_t videoId = -1;
  double position = __builtin_nan(""), speed = __builtin_nan("");
  const size_t sideMark = sideAt;
  if (videoType >= 0) {
    const VideoValue& id = video[VK_ID];
    if (id.kind == V_ASCII || id.kind == V_UTF8) {
      size_t a = 0, e = 0;
      if (!parseVideoId(side, id.start, id.end, sideCap, sideAt, a, e)) return false;
      if (e > a) {
        videoId = strings.intern(1, a, e);
        if (videoId < 0) return (sideAt = sideMark), false;
      }
    }
    auto number = [&](const VideoValue& v) {
      if (v.kind == V_NUMBER) return v.number;
      if (v.kind == V_ASCII) {
        double d = __builtin_nan("");
        std::from_chars(reinterpret_cast<const char*>(side + v.start), reinterpret_cast<const char*>(side + v.end), d);
        return d;
      }
      return __builtin_nan("");
    };
    position = number(video[videoType == 3 ? VK_NEW_TIME : VK_CURRENT_TIME]);
    speed = number(video[VK_SPEED]);
  }
  // bytes that are not a span of the chunk are interned from a copy in the side buffer
  auto internCopy = [&](const uint8_t* p, size_t n) -> int32_t {
    if (sideAt + n > sideCap) return -1;
    memcpy(side + sideAt, p, n);
    const int32_t before = strings.n;
    const int32_t k = strings.intern(1, sideAt, sideAt + n);
    if (strings.n > before) sideAt += n;  // a new entry keeps its copy
    return k;
  };
  // a string value's index (-1 for null / absent) and its length; false to leave the line to JavaScript
  auto internValue = [&](const Span& v, int32_t& idx, size_t& len) -> bool {
    idx = -1;
    len = 0;
    if (isString(v)) {
      len = v.end - v.start;
      idx = strings.intern(0, s + v.start, s + v.end);
      return idx >= 0;
    }
    if (v.kind == V_ESCAPED) {
      // decoded as JSON.parse decodes it; a lone surrogate (not UTF-8) is left to JavaScript
      if (!decodeJsonString(b, v.start + 1, v.end - 1, decodeScratch, len)) return false;
      idx = internCopy(decodeScratch.data(), len);
      return idx >= 0;
    }
    return true;
  };
  const int32_t courseIdx = courseSource == 0 ? strings.intern(0, s + cc.start, s + cc.end)
                                              : internCopy(reinterpret_cast<const uint8_t*>(guessedCourse.data()), guessedCourse.size());
  int32_t userIdx, ipIdx;
  size_t userLen, ipLen;
  if (courseIdx < 0 || !internValue(user, userIdx, userLen) || !internValue(ip, ipIdx, ipLen)) return false;
  if (payload.kind != 0) {
    int32_t idx[kPayloadMaxStrings];
    for (int k = 0; k < kPayloadMaxStrings; k++) {
      idx[k] = payload.has[k] ? internCopy(reinterpret_cast<const uint8_t*>(payload.text[k].data()), payload.text[k].size()) : -1;
      if (payload.has[k] && idx[k] < 0) return false;
    }
    rec[kProblemState] = payload.kind;
    for (int k = 0; k < kPayloadMaxStrings; k++) rec[kPayloadStrings + k] = idx[k];
    memcpy(rec + kPayloadNumbers, payload.number, sizeof payload.number);
  }
  const bool named = userIdx >= 0 && userLen > 0;
  const bool base = named && !tf.xblock;
  rec[kFactsCourse] = courseIdx;
  rec[kFactsUser] = userIdx;
  rec[kFactsNamed] = named ? 1 : 0;
  rec[kFactsIp] = ipIdx;
  rec[kFactsFlags] = base ? typeFlags : -1;
  rec[kFactsVideoType] = videoType;
  rec[kFactsVideoId] = videoId;
  memcpy(rec + kFactsPosition, &position, sizeof position);
  memcpy(rec + kFactsSpeed, &speed, sizeof speed);
  return true;
}

// The members of the object `event` of the line in `b` that Match names: spans[2k], spans[2k+1] =
// the value span of member k (relative to b; -1 when absent; the last of duplicate keys wins, as
// in JSON.parse). False when `event` is not an object, or Match gives up on a key (K_TOUCHED,
// K_ESCAPED).
template <int (*Match)(const char*, size_t)>
bool readMembers(const uint8_t* b, const Span& ev, int32_t* spans, int keys) {
  if (ev.kind != V_TEXT || b[ev.start] != '{') return false;
  for (int k = 0; k < 2 * keys; k++) spans[k] = -1;
  const size_t e = walkObject<Match>(b, ev.start + 1, [&](int key, size_t at) -> size_t {
    if (key == K_TOUCHED || key == K_ESCAPED) return SIZE_MAX;
    const size_t end = skipValue(b, at, 2);
    if (key != K_NONE && end != SIZE_MAX) {
      spans[2 * key] = static_cast<int32_t>(at);
      spans[2 * key + 1] = static_cast<int32_t>(end);
    }
    return end;
  });
  return e == static_cast<size_t>(ev.end);
}

// The type facts of the event types last seen that are not constants (URLs, mostly: pages are
// visited again and again, and typeFacts searches each for a dozen substrings).
struct TypeFactsCache {
  static constexpr size_t kSlots = 16384, kMaxEntries = kSlots / 2, kMaxLength = 512;
  struct Entry {
    std::string type;
    uint64_t hash = 0;
    TypeFacts facts;
  };
  std::vector<Entry> entries;
  std::vector<int32_t> slots = std::vector<int32_t>(kSlots, 0);  // entry index + 1; 0: empty

  const TypeFacts& of(const char* t, size_t n, TypeFacts& scratch) {
    if (n > kMaxLength) return scratch = typeFacts(t, n);
    const uint64_t h = StringTable::hashOf(reinterpret_cast<const uint8_t*>(t), n);
    size_t slot = h & (kSlots - 1);
    for (;; slot = (slot + 1) & (kSlots - 1)) {
      const int32_t e = slots[slot];
      if (e == 0) break;
      const Entry& x = entries[e - 1];
      if (x.hash == h && x.type.size() == n && memcmp(x.type.data(), t, n) == 0) return x.facts;
    }
    if (entries.size() >= kMaxEntries) {
      // full: start again (the slots of the entries dropped are emptied too)
      entries.clear();
      std::fill(slots.begin(), slots.end(), 0);
      slot = h & (kSlots - 1);
    }
    entries.push_back({std::string(t, n), h, typeFacts(t, n)});
    slots[slot] = static_cast<int32_t>(entries.size());
    return entries.back().facts;
  }
};
thread_local TypeFactsCache typeFactsCache;

// The type facts of a scanned line's event type (none for a null, absent or escaped type).
TypeFacts lineTypeFacts(const uint8_t* b, const Span* f) {
  const Span& type = f[F_EVENT_TYPE];
  if (type.kind == V_CONST) return constantTypeFacts(type.start);
  const char* t;
  size_t tn;
  TypeFacts scratch;
  return fieldBytes(b, type, t, tn) ? typeFactsCache.of(t, tn, scratch) : TypeFacts{};
}

// The members of the object `event` that the rows read: a problem_check or show_answer event's
// (kProblemMembers, in ProblemCheckKey order), a full-struct enrollment event's
// (kEnrollmentMembers), a forum event's (kForumMembers, ForumKey order); 0 when none were read.
int readPayloadMembers(const uint8_t* b, const Span* f, const TypeFacts& tf, int32_t* spans) {
  const Span& ev = f[F_EVENT];
  if (tf.problemCheck || tf.showAnswer) return readMembers<problemKey>(b, ev, spans, N_PROBLEM_KEYS) ? kProblemMembers : 0;
  if (tf.enrollmentKnown) return readMembers<enrollmentKey>(b, ev, spans, N_ENROLLMENT_KEYS) ? kEnrollmentMembers : 0;
  if (tf.forum) return readMembers<forumKey>(b, ev, spans, N_FORUM_KEYS) ? kForumMembers : 0;
  return 0;
}

thread_local PrefixCache coursePrefixCache;

// line.ts preprocessLine's syslog fix (spec §1.2): a line that does not start with '{' (after
// trim) and has "localhost {" within its first 27 characters loses its first 26. Returns how
// many bytes of the line to skip before the object, or 0 (no prefix, or one this code does not
// vouch for: non-ASCII text in it, where UTF-16 units and bytes differ, or that trim may drop).
size_t syslogPrefix(const uint8_t* p, size_t n) {
  size_t lead = 0;
  while (lead < n && (p[lead] == ' ' || p[lead] == '\t' || p[lead] == '\r' || p[lead] == '\v' || p[lead] == '\f')) lead++;
  if (lead >= n || p[lead] == '{' || n - lead < 27) return 0;
  for (size_t k = lead; k < lead + 27; k++)
    if (p[k] >= 0x80) return 0;
  const char* at = findText(reinterpret_cast<const char*>(p + lead), 27, "localhost {", 11);
  return at != nullptr ? lead + 26 : 0;
}

// Line [s, e) of a chunk copied into `line` as the scanners read it: from after a syslog prefix,
// if it has one, with a NUL and padding after it. Returns where the copy starts in the chunk.
size_t lineToScratch(const uint8_t* chunk, size_t s, size_t e, std::vector<uint8_t>& line) {
  const size_t base = s + syslogPrefix(chunk + s, e - s);
  const size_t ob = e - base;
  if (line.size() < ob + 1 + kPad) line.resize(ob + 1 + kPad + (ob >> 1));
  memcpy(line.data(), chunk + base, ob);
  memset(line.data() + ob, 0, 1 + kPad);
  return base;
}

// The record of one line (ScanChunk's per-line work, shared with the rewrite's fused scan): the
// line is in `b` (the scratch: its object's bytes, which start at `base` in the chunk), and `ok`
// says whether its fields `f` and `flags` were read.
struct LineScan {
  int32_t* out;
  uint8_t* side;
  size_t sideCap, sideAt;
  VideoValue video[N_VIDEO_KEYS] = {};

  // (`knownTime`: the line's time, already parsed from field F_TIME, or null; `known`: what the
  // rewrite worked out for the line's row, or null)
  void record(size_t index, size_t s, size_t e, size_t base, const uint8_t* b, bool ok, Span* f, const LineFlags& flags, const double* knownTime = nullptr,
              const KnownRow* known = nullptr) {
    int32_t* rec = out + index * kStride;
    rec[0] = static_cast<int32_t>(s);
    rec[1] = static_cast<int32_t>(e);
    if (ok) {
      markConstant(b, f[F_EVENT_SOURCE]);
      markConstant(b, f[F_EVENT_TYPE]);
    }
    rec[2] = ok ? 1 : 0;
    rec[kTimeState] = 0;
    rec[kHasId] = ok && flags.hasId;
    rec[kHasModuleId] = ok && flags.hasModuleId;
    rec[kContextKind] = ok ? flags.contextKind : 0;
    if (ok) {
      for (int k = 0; k < N_FIELDS; k++) {
        int32_t* r = rec + 3 + 3 * k;
        const bool constant = f[k].kind == V_CONST;  // an index, not a span of the chunk
        r[0] = f[k].kind;
        r[1] = f[k].start + (constant ? 0 : static_cast<int32_t>(base));
        r[2] = f[k].end + (constant ? 0 : static_cast<int32_t>(base));
      }
      const Span& t = f[F_TIME];
      if (t.kind == V_ASCII) {
        const double us = knownTime != nullptr ? *knownTime : parseTimeMicros(b + t.start, t.end - t.start);
        memcpy(rec + kTimeValue, &us, sizeof us);
        rec[kTimeState] = 1;
      }
    }
    rec[kVideoState] = 0;
    const bool videoRead = ok && readVideoPayload(b, f, video, side, sideCap, sideAt);
    if (videoRead) {
      rec[kVideoState] = 1;
      for (int k = 0; k < N_VIDEO_KEYS; k++) {
        rec[kVideoKinds + k] = video[k].kind;
        rec[kVideoSpans + 2 * k] = video[k].start;
        rec[kVideoSpans + 2 * k + 1] = video[k].end;
        memcpy(rec + kVideoValues + 2 * k, &video[k].number, sizeof(double));
      }
    }
    rec[kProblemState] = 0;
    const TypeFacts tf = ok ? lineTypeFacts(b, f) : TypeFacts{};
    int32_t members[2 * N_PROBLEM_KEYS];
    const int membersKind = ok ? readPayloadMembers(b, f, tf, members) : 0;
    rec[kFactsState] = ok && lineFacts(b, base, f, rec, video, videoRead, side, sideCap, sideAt, coursePrefixCache, flags, tf, membersKind, members, known) ? 1 : 0;
    if (ok && rec[kFactsState] == 0) {
      // JavaScript reads the line: it gets a problem_check's or a forum event's members (state 1, 2)
      rec[kProblemState] = 0;
      int spans = 0;
      if (membersKind == kProblemMembers && tf.problemCheck) {
        rec[kProblemState] = 1;
        spans = 2 * N_PROBLEM_KEYS;
      } else if (membersKind == kForumMembers) {
        rec[kProblemState] = 2;
        spans = 2 * N_FORUM_KEYS;
      }
      for (int k = 0; k < spans; k++) rec[kProblemSpans + k] = members[k] >= 0 ? members[k] + static_cast<int32_t>(base) : -1;
    }
  }
};

// The arguments of the addon's functions.

// The optional boolean argument `k` of a call (false when absent).
bool boolArgument(napi_env env, napi_callback_info info, size_t k) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool v = false;
  if (argc > k) napi_get_value_bool(env, argv[k], &v);
  return v;
}

// Whether `v` is a typed array of `type`: then its data and length.
bool typedArrayOf(napi_env env, napi_value v, napi_typedarray_type type, void*& data, size_t& length) {
  napi_typedarray_type t;
  return v != nullptr && napi_get_typedarray_info(env, v, &t, &length, &data, nullptr, nullptr) == napi_ok && t == type;
}

// Arguments 0 .. count-1 of a call, typed arrays of `types`: their data and lengths. False when
// the call has fewer, or one is not of its type.
bool typedArrays(napi_env env, napi_callback_info info, size_t count, const napi_typedarray_type* types, void** data, size_t* lengths) {
  napi_value argv[8];
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < count) return false;
  for (size_t k = 0; k < count; k++) {
    if (!typedArrayOf(env, argv[k], types[k], data[k], lengths[k])) return false;
  }
  return true;
}

#include "chunkFacts.cc"

// scanChunk(chunk: Uint8Array, out: Int32Array, side: Uint8Array, table: Int32Array[,
// buildFacts: boolean]) → the number of lines, or minus the number of lines when `out` or `table` is too small for them (nothing
// written then: `out` needs kStride int32 a line, `table` 1 + 16 a line). Lines are cut as
// src/logs/lines.ts forEachLine cuts them. `table` receives the chunk's string table (StringTable).
// With buildFacts (only for a chunk that is UTF-8), the facts of the lines whose facts lineFacts
// computed are also built here, for takeFacts (chunkFacts.cc).
constexpr size_t kTableIntsPerLine = 36;  // at most 9 strings a line (course, username, ip, a video id or a compact-table row's 6), 4 int32 each
napi_value ScanChunk(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type types[4] = {napi_uint8_array, napi_int32_array, napi_uint8_array, napi_int32_array};
  void* d[4];
  size_t len[4];
  if (!typedArrays(env, info, 4, types, d, len)) {
    napi_throw_type_error(env, nullptr, "scanChunk(chunk: Uint8Array, out: Int32Array, side: Uint8Array, table: Int32Array)");
    return nullptr;
  }
  const size_t n1 = len[0], n2 = len[1], n3 = len[2], n4 = len[3];
  void* const d4 = d[3];
  const uint8_t* chunk = static_cast<const uint8_t*>(d[0]);
  int32_t* out = static_cast<int32_t*>(d[1]);
  uint8_t* side = static_cast<uint8_t*>(d[2]);
  napi_value result;
  if (n1 > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "chunk larger than 2 GB");
    return nullptr;
  }

  size_t lines = 0;
  for (size_t s = 0; s < n1;) {
    const void* nl = memchr(chunk + s, '\n', n1 - s);
    const size_t e = nl ? static_cast<const uint8_t*>(nl) - chunk : n1;
    lines++;
    s = e + 1;
  }
  if (lines * kStride > n2 || 1 + lines * kTableIntsPerLine > n4) {
    napi_create_int32(env, -static_cast<int32_t>(lines), &result);
    return result;
  }

  strings.reset(static_cast<int32_t*>(d4), lines * kTableIntsPerLine / 4, chunk, side);
  LineScan scan{out, side, n3, 0};
  ChunkFacts& facts = chunkFacts;
  const bool buildFacts = boolArgument(env, info, 4);
  if (buildFacts) facts.reset();
  else facts.on = false;
  Span f[N_FIELDS];
  LineFlags flags;
  size_t index = 0;
  for (size_t s = 0; s < n1; index++) {
    const void* nl = memchr(chunk + s, '\n', n1 - s);
    const size_t e = nl ? static_cast<const uint8_t*>(nl) - chunk : n1;
    const size_t nb = e - s;
    bool ok = false;
    // the object's first byte in the chunk: after a syslog prefix, if the line has one
    size_t base = s;
    if (nb <= kMaxBytes) {
      base = lineToScratch(chunk, s, e, scratch);
      ok = scanLine(scratch.data(), e - base, f, flags);
    }
    scan.record(index, s, e, base, scratch.data(), ok, f, flags);
    if (buildFacts) buildLineFacts(facts, out + index * kStride);
    s = e + 1;
  }
  strings.out[0] = strings.n;
  napi_create_int32(env, static_cast<int32_t>(lines), &result);
  return result;
}

#include "rewrite.cc"
#include "gunzip.cc"
#include "gzipMembers.cc"

}  // namespace

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"scanChunk", ScanChunk},       {"rewriteChunk", RewriteChunk},         {"groupRows", GroupRows},
      {"takeFacts", TakeFacts},       {"gunzipNew", GunzipNew},               {"gunzipIntoAsync", GunzipIntoAsync},
      {"copyBytes", CopyBytes},       {"gzipMembers", GzipMembers},
  };
  for (const auto& f : functions) {
    napi_value fn;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn);
    napi_set_named_property(env, exports, f.name, fn);
  }
  napi_value stride;
  napi_create_int32(env, kStride, &stride);
  napi_set_named_property(env, exports, "stride", stride);
  napi_value constants;
  napi_create_array_with_length(env, kNumConstants, &constants);
  for (int k = 0; k < kNumConstants; k++) {
    napi_value v;
    napi_create_string_latin1(env, kConstants[k], NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, constants, k, v);
  }
  napi_set_named_property(env, exports, "constants", constants);
  return exports;
}
