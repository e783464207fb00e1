// The rewrite of `split` (src/events/line.ts processLine → JSON.stringify of rephrase.ts's row),
// in native code, for the lines whose shape it knows. Included by fastscan.cc, inside its
// namespace: it uses the scanner's readers and the ports of module_id's rules.
//
// Contract: for a line it rewrites, the bytes written are exactly JSON.stringify(processLine(line).row)
// and the course is processLine's; any line it cannot vouch for is left to JavaScript (the whole
// line: nothing is shared). It gives up on, among others: escaped or R17-touched keys (a key
// holding '-' or '.', starting with a digit, `i4x-` or `xblock.`), repeated keys, `_id`, `mongoid`,
// `module_id`, a top-level `course_id` or `event_struct`, a context that is not an object, an
// event that is neither an object nor a string, module_id's B2d and B13's goto_position suffix,
// text that may be JSON nested deeper than the scanner reads, and values that R19 would have to
// coerce from a string with escapes.
// test/nativeRewrite.test.ts requires its output to equal the JavaScript rewrite, byte for byte,
// on every generated and fixture line and on hand-made cases.
//
// Steps (rephrase.ts's rules): read every object the rules look into (top level, context,
// context.module, the payload and its `state`); park what R13 moves into the mongoid container,
// in R13's order; then write the row in key order, coercing each value to its schema type (R19)
// and parking unknown keys (R19) as the JavaScript traversal meets them; last, the container.

// Whether the valid JSON string b[va, ve) (quotes included) is already written as JSON.stringify
// writes its value: every escape one it would write (\" \\ \b \f \n \r \t, or \u00xx in lower
// case for the other control characters).
bool stringTokenIsCanonical(const uint8_t* b, size_t va, size_t ve) {
  for (size_t i = va + 1; i + 1 < ve;) {
    const void* p = memchr(b + i, '\\', ve - 1 - i);
    if (p == nullptr) return true;
    i = static_cast<const uint8_t*>(p) - b;
    const uint8_t c = b[i + 1];
    if (c == '"' || c == '\\' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
      i += 2;
      continue;
    }
    if (c != 'u' || b[i + 2] != '0' || b[i + 3] != '0') return false;
    const uint8_t h = b[i + 4], l = b[i + 5];
    if (!(h == '0' || h == '1') || !((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) return false;
    const int u = (h - '0') * 16 + (l <= '9' ? l - '0' : l - 'a' + 10);
    if (u == '\b' || u == '\f' || u == '\n' || u == '\r' || u == '\t') return false;
    i += 6;
  }
  return true;
}

// ---------------------------------------------------------------- objects read whole

// One member of an object: its key's quoted text b[ka, ke), its value b[va, ve), and what kind
// of key it is for the reader that read it.
struct Member {
  uint32_t ka, ke, va, ve;
  int kind;
  bool plainString;  // the value is a string without escapes: its JSON text is its bytes
};

// A key R17 leaves alone, and that this code reads as it is: no escape, not `__proto__`.
inline bool plainKey(const uint8_t* b, size_t ka, size_t ke, bool esc) {
  const char* k = reinterpret_cast<const char*>(b + ka + 1);
  const size_t n = ke - ka - 2;
  return !esc && !touchedByR17(k, n) && !(n == 9 && memcmp(k, "__proto__", 9) == 0);
}

// The members of the object whose '{' is at b[i], with Classify(name, length) → kind; `end` is
// the index after its '}'. False when the object is invalid or deeper than kMaxDepth, or has a
// key that is not plain or is repeated (JSON.parse keeps a repeated key's first place).
template <int (*Classify)(const char*, size_t)>
bool readObject(const uint8_t* b, size_t i, int depth, std::vector<Member>& ms, size_t& end) {
  ms.clear();
  end = walkMembers(b, i + 1, [&](size_t ka, size_t ke, bool esc, size_t at) -> size_t {
    if (!plainKey(b, ka, ke, esc)) return SIZE_MAX;
    for (const Member& o : ms)
      if (o.ke - o.ka == ke - ka && memcmp(b + o.ka, b + ka, ke - ka) == 0) return SIZE_MAX;
    bool valueEscaped = true;
    const size_t ve = b[at] == '"' ? scanString(b, at + 1, valueEscaped) : skipValue(b, at, depth);
    if (ve == SIZE_MAX) return SIZE_MAX;
    ms.push_back({static_cast<uint32_t>(ka), static_cast<uint32_t>(ke), static_cast<uint32_t>(at), static_cast<uint32_t>(ve),
                  Classify(reinterpret_cast<const char*>(b + ka + 1), ke - ka - 2), !valueEscaped});
    return ve;
  });
  return end != SIZE_MAX;
}

// Whether every object key inside the valid value at b[i] is plain (R17 runs before R19 parks a
// value or writes an object as text, and would have renamed such keys).
bool r17Clean(const uint8_t* b, size_t i, int depth) {
  if (depth > 32) return false;
  const uint8_t c = b[i];
  if (c == '{') {
    return walkMembers(b, i + 1, [&](size_t ka, size_t ke, bool esc, size_t at) -> size_t {
             if (!plainKey(b, ka, ke, esc) || !r17Clean(b, at, depth + 1)) return SIZE_MAX;
             return skipValue(b, at, depth + 1);
           }) != SIZE_MAX;
  }
  if (c == '[') {
    size_t j = ws(b, i + 1);
    if (b[j] == ']') return true;
    for (;;) {
      if (!r17Clean(b, j, depth + 1)) return false;
      j = ws(b, skipValue(b, j, depth + 1));
      if (b[j] != ',') return true;
      j = ws(b, j + 1);
    }
  }
  return true;
}

// ---------------------------------------------------------------- key kinds

// A name and its length, for lookups that compare lengths first.
struct Name {
  const char* s;
  size_t n;
};
template <size_t N>
constexpr Name name(const char (&lit)[N]) {
  return Name{lit, N - 1};
}
inline bool is(const char* k, size_t n, const Name& x) { return n == x.n && memcmp(k, x.s, n) == 0; }

template <size_t C>
bool isOneOf(const char* k, size_t n, const Name (&names)[C], int& at) {
  for (size_t j = 0; j < C; j++)
    if (is(k, n, names[j])) return at = static_cast<int>(j), true;
  return false;
}

constexpr int RK_OTHER = 0;
// top level
enum TopKind {
  TK_TIME = 1, TK_SCALAR, TK_CONTEXT, TK_EVENT, TK_R13, TK_GIVE_UP,
};
// rephrase.ts R13_TOP, in its order
constexpr Name kR13Top[] = {name("referer"), name("accept_language"), name("nonInteraction"), name("label"), name("roles"), name("environment"), name("minion_id")};
constexpr int kNumR13Top = 7;

// The scan field (fastscan.cc Field) a top-level or context key is, in the kind's bits 8 and up
// (0: none), so the fused scan need not look the names up again.
constexpr int field(int f) { return (f + 1) << 8; }
inline int scanFieldOf(int kind) { return (kind >> 8) - 1; }

int topKind(const char* k, size_t n) {
  auto is = [&](const char* lit) { return memcmp(k, lit, n) == 0; };  // n is lit's length in each case
  switch (n) {
    case 2: return is("ip") ? TK_SCALAR | field(F_IP) : RK_OTHER;
    case 3: return is("_id") ? TK_GIVE_UP : RK_OTHER;
    case 4: return is("time") ? TK_TIME | field(F_TIME) : is("page") ? TK_SCALAR | field(F_PAGE) : is("host") || is("name") ? TK_SCALAR : RK_OTHER;
    case 5: return is("event") ? TK_EVENT | field(F_EVENT) : is("agent") || is("vname") ? TK_SCALAR : is("label") ? TK_R13 + 3 * 16 : is("roles") ? TK_R13 + 4 * 16 : RK_OTHER;
    case 6: return is("datafn") ? TK_SCALAR : RK_OTHER;
    case 7: return is("context") ? TK_CONTEXT : is("session") ? TK_SCALAR : is("referer") ? TK_R13 : is("mongoid") ? TK_GIVE_UP : RK_OTHER;
    case 8: return is("username") ? TK_SCALAR | field(F_USERNAME) : is("event_js") ? TK_GIVE_UP : RK_OTHER;
    case 9: return is("course_id") || is("module_id") ? TK_GIVE_UP : is("minion_id") ? TK_R13 + 6 * 16 : RK_OTHER;
    case 10: return is("event_type") ? TK_SCALAR | field(F_EVENT_TYPE) : RK_OTHER;
    case 11: return is("environment") ? TK_R13 + 5 * 16 : RK_OTHER;
    case 12: return is("event_source") ? TK_SCALAR | field(F_EVENT_SOURCE) : is("event_struct") ? TK_GIVE_UP : RK_OTHER;
    case 14: return is("nonInteraction") ? TK_R13 + 2 * 16 : RK_OTHER;
    case 15: return is("accept_language") ? TK_R13 + 1 * 16 : RK_OTHER;
    default: return RK_OTHER;
  }
}

// context (rephrase.ts R11, R12, R13's label, R15; schema.ts CONTEXT_SCHEMA)
enum CtxKind { CK_COURSE_ID = 1, CK_TAGS, CK_USER_ID, CK_SCALAR, CK_AGENT, CK_MOVED, CK_MODULE, CK_LABEL };
constexpr Name kR12ContextMoved[] = {name("application"), name("client"), name("received_at"), name("component"), name("open_in_browser_url"), name("asides")};
constexpr Name kR12ModuleMoved[] = {name("usage_key"), name("original_usage_version"), name("original_usage_key")};
int ctxKind(const char* k, size_t n) {
  static constexpr Name scalars[] = {name("org_id"), name("username"), name("ip"), name("host"), name("session"), name("path")};
  int at;
  if (n == 9 && memcmp(k, "course_id", 9) == 0) return CK_COURSE_ID | field(F_CTX_COURSE);
  if (n == 16 && memcmp(k, "course_user_tags", 16) == 0) return CK_TAGS;
  if (n == 7 && memcmp(k, "user_id", 7) == 0) return CK_USER_ID | field(F_CTX_USER);
  if (n == 4 && memcmp(k, "path", 4) == 0) return CK_SCALAR | field(F_CTX_PATH);
  if (n == 5 && memcmp(k, "agent", 5) == 0) return CK_AGENT;
  if (n == 6 && memcmp(k, "module", 6) == 0) return CK_MODULE;
  if (n == 5 && memcmp(k, "label", 5) == 0) return CK_LABEL;
  if (isOneOf(k, n, scalars, at)) return CK_SCALAR;
  if (isOneOf(k, n, kR12ContextMoved, at)) return CK_MOVED + at * 16;
  return RK_OTHER;
}
enum ModKind { MK_DISPLAY_NAME = 1, MK_MOVED };
int moduleKind(const char* k, size_t n) {
  int at;
  if (n == 12 && memcmp(k, "display_name", 12) == 0) return MK_DISPLAY_NAME;
  if (isOneOf(k, n, kR12ModuleMoved, at)) return MK_MOVED + at * 16;
  return RK_OTHER;
}

// event_struct (R8, R9, R10, R13, R16; schema.ts EVENT_STRUCT_SCHEMA): a kind, or a scalar
// field's type letter in the upper bits
enum EsKind { EK_GET_POST = 1, EK_STATE, EK_TEXT, EK_R13, EK_NEW_SPEED, EK_RECORD, EK_SCALAR };
constexpr Name kR13Es[] = {name("requested_skip_interval"), name("submitted_answer"), name("num_attempts"), name("task_id"),
                           name("content"),                 name("widget_placement"), name("tab_count"),    name("current_tab"),
                           name("target_tab"),              name("duration"),         name("play_medium")};
constexpr int kNumR13Es = 11;
// EVENT_STRUCT_SCHEMA's scalar fields and their types (S string, I integer, F float, B boolean);
// test/nativeRewrite.test.ts checks this list against schema.ts
constexpr const char* kEsScalars[] = {
    "POST:S", "GET:S", "course_id:S", "user_id:I", "mode:S", "data:S", "code:S", "id:S", "currentTime:F", "new:I", "old:I", "problem:S",
    "type:S", "new_time:F", "old_time:F", "problem_id:S", "answers:S", "submission:S", "success:S", "grade:F", "correct_map:S",
    "attempts:I", "max_grade:F", "current_time:F", "old_speed:F", "new_speed:F", "speed:F", "failure:S", "course:S", "total_results:I",
    "query:S", "corrected_text:S", "page:I", "child_id:S", "group_id:I", "partition_name:S", "partition_id:I", "group_name:S",
    "old_state:S", "new_state:S", "status:S", "is_user_staff:S", "chapter:S", "direction:S", "name:S", "amount:F", "chapter_title:S",
    "caseSensitive:S", "findPrevious:S", "highlightAll:S", "item_id:S", "submission_returned_uuid:S", "requesting_student_id:S",
    "saved_response:S", "created_at:S", "attempt_number:I", "submission_uuid:S", "submitted_at:S", "corrections:S",
    "options_selected:S", "scorer_id:S", "feedback:S", "score_type:S", "parts:S", "scored_at:S", "feedback_text:S", "options:S",
    "thumbnail_title:S", "location:S", "permutation:S", "url:S", "descriptionText:S", "description:S", "title:S", "aws_secret_key:S",
    "uploadedFileDir:S", "aws_access_key:S", "bucketName:S", "downvotes:I", "upvotes:I", "uploadedFileName:S", "error:S",
    "newVotes:I", "oldVotes:I", "old_description:S", "old_title:S", "old_url:S", "old_descriptionText:S", "toggle:S", "reason:S",
    "isProblematic:S", "oldReason:S", "category:I", "selection:S", "element:S"};
constexpr Name kR10Text[] = {name("correct_map"), name("answers"),     name("submission"),       name("old_state"),
                             name("new_state"),   name("permutation"), name("options_selected"), name("corrections")};

// A "name:T" table as (name, length, type), made once.
struct TypedName {
  Name name;
  char type;
};
template <size_t C>
std::vector<TypedName> typedNames(const char* const (&table)[C]) {
  std::vector<TypedName> out;
  for (const char* f : table) {
    const char* colon = strchr(f, ':');
    out.push_back({Name{f, static_cast<size_t>(colon - f)}, colon[1]});
  }
  return out;
}
char scalarType(const char* k, size_t n, const std::vector<TypedName>& table) {
  for (const TypedName& t : table)
    if (is(k, n, t.name)) return t.type;
  return 0;
}

int esKind(const char* k, size_t n) {
  int at;
  if ((n == 3 && memcmp(k, "GET", 3) == 0) || (n == 4 && memcmp(k, "POST", 4) == 0)) return EK_GET_POST;
  if (n == 5 && memcmp(k, "state", 5) == 0) return EK_STATE;
  if (isOneOf(k, n, kR10Text, at)) return EK_TEXT;
  if (isOneOf(k, n, kR13Es, at)) return EK_R13 + at * 16;
  if (n == 9 && memcmp(k, "new_speed", 9) == 0) return EK_NEW_SPEED;
  if (n == 6 && (memcmp(k, "answer", 6) == 0 || memcmp(k, "rubric", 6) == 0)) return EK_RECORD;
  static const std::vector<TypedName> scalars = typedNames(kEsScalars);
  const char t = scalarType(k, n, scalars);
  return t != 0 ? EK_SCALAR + (t << 8) : RK_OTHER;
}

// event_struct.state (R9, R13's has_saved_answers; schema.ts STATE)
enum StateKind { SK_TEXT = 1, SK_SAVED, SK_SCALAR };
constexpr const char* kStateScalars[] = {"student_answers:S", "seed:I", "done:B", "correct_map:S", "input_state:S"};
int stateKind(const char* k, size_t n) {
  static constexpr Name text[] = {name("input_state"), name("correct_map"), name("student_answers")};
  int at;
  if (isOneOf(k, n, text, at)) return SK_TEXT;
  if (n == 17 && memcmp(k, "has_saved_answers", 17) == 0) return SK_SAVED;
  static const std::vector<TypedName> scalars = typedNames(kStateScalars);
  const char t = scalarType(k, n, scalars);
  return t != 0 ? SK_SCALAR + (t << 8) : RK_OTHER;
}

inline bool keyIs(const uint8_t* b, const Member& m, const Name& x) { return m.ke - m.ka - 2 == x.n && memcmp(b + m.ka + 1, x.s, x.n) == 0; }
const Member* memberNamed(const uint8_t* b, const std::vector<Member>& ms, const Name& x) {
  for (const Member& m : ms)
    if (keyIs(b, m, x)) return &m;
  return nullptr;
}

// ---------------------------------------------------------------- the mongoid container (R13, R19)

// rephrase.ts park(): the container's root and the four levels a value can be parked in, each an
// ordered list of (key, JSON text) or (key, level).
enum Level { L_ROOT, L_CONTEXT, L_ES, L_ES_STATE, L_CTX_MODULE, N_LEVELS };
struct Container {
  // an entry's key and JSON text are spans of `pool` (one arena a line: no allocation per entry)
  struct Entry {
    uint32_t key, keyLength, text, textLength;
    int child;  // a level, or -1 for a value
  };
  Buf pool;
  std::vector<Entry> level[N_LEVELS];
  bool exists[N_LEVELS];
  void clear() {
    pool.clear();
    for (int l = 0; l < N_LEVELS; l++) level[l].clear(), exists[l] = false;
    exists[L_ROOT] = true;
  }
  bool has(int l, const char* k, size_t n) const {
    for (const Entry& e : level[l])
      if (e.keyLength == n && memcmp(pool.data() + e.key, k, n) == 0) return true;
    return false;
  }
  void add(int l, const char* k, size_t n, const char* t, size_t tn, int child) {
    const uint32_t at = static_cast<uint32_t>(pool.size());
    pool.append(k, n).append(t, tn);
    level[l].push_back({at, static_cast<uint32_t>(n), static_cast<uint32_t>(at + n), static_cast<uint32_t>(tn), child});
  }
  void ensure(int l) {
    if (exists[l]) return;
    const int parent = l == L_CONTEXT || l == L_ES ? L_ROOT : l == L_ES_STATE ? L_ES : L_CONTEXT;
    ensure(parent);
    // a level's name is never taken by a value: no parked key can be named so at that place
    const char* name = l == L_CONTEXT ? "context" : l == L_ES ? "event_struct" : l == L_ES_STATE ? "state" : "module";
    add(parent, name, strlen(name), "", 0, l);
    exists[l] = true;
  }
  // parks `text` (JSON) under `key` at level l: freeKey's `_2`, `_3`… when the name is taken
  void park(int l, const char* k, size_t n, const Buf& text) {
    ensure(l);
    if (!has(l, k, n)) return add(l, k, n, text.data(), text.size(), -1);
    for (int j = 2;; j++) {
      const std::string alt = std::string(k, n) + "_" + std::to_string(j);
      if (!has(l, alt.data(), alt.size())) return add(l, alt.data(), alt.size(), text.data(), text.size(), -1);
    }
  }
  void serialise(int l, Buf& out) const {
    out += '{';
    bool first = true;
    for (const Entry& e : level[l]) {
      if (!first) out += ',';
      first = false;
      appendJsString(reinterpret_cast<const uint8_t*>(pool.data() + e.key), e.keyLength, out);
      out += ':';
      if (e.child >= 0) serialise(e.child, out);
      else out.append(pool.data() + e.text, e.textLength);
    }
    out += '}';
  }
  // r13SerialiseMongoid: the placeholder levels, then the text
  void finish(Buf& out) {
    if (!exists[L_ES]) add(L_ROOT, "event_struct", 12, "{\"state\":{}}", 12, -1);
    else if (!has(L_ES, "state", 5)) add(L_ES, "state", 5, "{}", 2, -1);
    if (!exists[L_CONTEXT]) add(L_ROOT, "context", 7, "{}", 2, -1);
    serialise(L_ROOT, out);
  }
};

// ---------------------------------------------------------------- R19's coercions

enum { CO_OK, CO_PARK, CO_GIVE_UP };

// A string value's bytes between its quotes, when it has no escape and is ASCII (the coercions
// read these with JavaScript regular expressions whose \s also matches Unicode spaces).
bool asciiString(const uint8_t* b, size_t va, size_t ve, const char*& s, size_t& n) {
  s = reinterpret_cast<const char*>(b + va + 1);
  n = ve - va - 2;
  for (size_t k = 0; k < n; k++)
    if (s[k] == '\\' || static_cast<uint8_t>(s[k]) >= 0x80) return false;
  return true;
}
inline bool jsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
void trimSpaces(const char*& s, size_t& n) {
  while (n > 0 && jsSpace(s[0])) s++, n--;
  while (n > 0 && jsSpace(s[n - 1])) n--;
}
// rephrase.ts INTEGER_RE / DECIMAL_RE on a trimmed ASCII text; `digits` then excludes a leading '+'
bool integerText(const char* s, size_t n) {
  size_t k = s[0] == '+' || s[0] == '-' ? 1 : 0;
  if (k == n) return false;
  for (; k < n; k++)
    if (!digit(s[k])) return false;
  return true;
}
bool decimalText(const char* s, size_t n) {
  size_t k = n > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
  const size_t intAt = k;
  while (k < n && digit(s[k])) k++;
  const size_t intDigits = k - intAt;
  size_t fracDigits = 0;
  if (k < n && s[k] == '.') {
    k++;
    const size_t f = k;
    while (k < n && digit(s[k])) k++;
    fracDigits = k - f;
  }
  if (intDigits == 0 && fracDigits == 0) return false;
  if (k < n && (s[k] == 'e' || s[k] == 'E')) {
    k++;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    const size_t e = k;
    while (k < n && digit(s[k])) k++;
    if (k == e) return false;
  }
  return k == n;
}
// Number(s) of a text integerText or decimalText accepted; false when out of the double range
bool numberOfText(const char* s, size_t n, double& d) {
  if (s[0] == '+') s++, n--;
  return parseDouble(s, n, d);
}

constexpr double kInt64Limit = 9223372036854775808.0;  // 2^63

// finiteFloat(v) of rephrase.ts: 1 with d set, 0 for null, -1 when left to JavaScript.
int finiteFloatOf(const uint8_t* b, size_t va, size_t ve, double& d) {
  const uint8_t c = b[va];
  if (c == '-' || digit(c)) return parseDouble(reinterpret_cast<const char*>(b + va), ve - va, d) ? 1 : -1;
  if (c != '"') return 0;
  const char* s;
  size_t n;
  if (!asciiString(b, va, ve, s, n)) return -1;
  trimSpaces(s, n);
  if (!decimalText(s, n)) return 0;
  return numberOfText(s, n, d) ? 1 : -1;
}

// The JSON text JSON.stringify writes for the valid value b[va..]; false when left to JavaScript.
template <class Out>
bool canonicalText(const uint8_t* b, size_t va, Out& out) { return canonicalJson(b, va, out, 0) != SIZE_MAX; }

// R19: the value b[va, ve) in a field of type t, appended to `out` as JSON.stringify writes the
// coerced value; CO_PARK when R19 parks it instead (nothing appended), CO_GIVE_UP when this code
// does not vouch for the result.
int coerce(char t, const uint8_t* b, size_t va, size_t ve, bool plainString, Buf& out) {
  const uint8_t c = b[va];
  if (c == 'n') return out += "null", CO_OK;
  const bool number = c == '-' || digit(c);
  const bool boolean = c == 't' || c == 'f';
  const bool structured = c == '{' || c == '[';
  const char* s;
  size_t n;
  double d;
  switch (t) {
    case 'S':
      if (plainString) return out.append(reinterpret_cast<const char*>(b + va), ve - va), CO_OK;
      if (c == '"') return canonicalText(b, va, out) ? CO_OK : CO_GIVE_UP;
      if (boolean) return out += c == 't' ? "\"true\"" : "\"false\"", CO_OK;
      {
        std::string text;
        if (number ? !appendJsonNumber(b, va, ve, text) : !(r17Clean(b, va, 0) && canonicalText(b, va, text))) return CO_GIVE_UP;
        appendJsString(text, out);
      }
      return CO_OK;
    case 'I':
      if (boolean) return out += c == 't' ? '1' : '0', CO_OK;
      if (structured) return CO_PARK;
      if (number) {
        // a short integer as it is; else its double decides
        size_t k = va + (c == '-' ? 1 : 0);
        const size_t d0 = k;
        while (k < ve && digit(b[k])) k++;
        if (k == ve && k - d0 <= 15 && !(c == '-' && b[d0] == '0')) return out.append(reinterpret_cast<const char*>(b + va), ve - va), CO_OK;
        if (!parseDouble(reinterpret_cast<const char*>(b + va), ve - va, d)) return CO_GIVE_UP;
        if (d != std::trunc(d) || d >= kInt64Limit || d < -kInt64Limit) return CO_PARK;
        return appendJsonNumber(b, va, ve, out) ? CO_OK : CO_GIVE_UP;
      }
      if (!asciiString(b, va, ve, s, n)) return CO_GIVE_UP;
      trimSpaces(s, n);
      if (!integerText(s, n)) return out += "null", CO_OK;
      if (!numberOfText(s, n, d)) return CO_GIVE_UP;
      if (d >= kInt64Limit || d < -kInt64Limit) return out += "null", CO_OK;
      appendJsNumber(d, out);
      return CO_OK;
    case 'F': {
      if (boolean) return out += c == 't' ? '1' : '0', CO_OK;
      if (structured) return CO_PARK;
      if (number && jsonNumberIsCanonical(b, va, ve)) return out.append(reinterpret_cast<const char*>(b + va), ve - va), CO_OK;
      const int r = finiteFloatOf(b, va, ve, d);
      if (r < 0) return CO_GIVE_UP;
      if (r == 0) return out += "null", CO_OK;
      if (number) return appendJsonNumber(b, va, ve, out) ? CO_OK : CO_GIVE_UP;
      appendJsNumber(d, out);
      return CO_OK;
    }
    case 'B':
      if (boolean) return out.append(reinterpret_cast<const char*>(b + va), ve - va), CO_OK;
      if (structured) return CO_PARK;
      if (number) {
        if (!parseDouble(reinterpret_cast<const char*>(b + va), ve - va, d)) return CO_GIVE_UP;
        if (d == 1 || d == 0) return out += d == 1 ? "true" : "false", CO_OK;
        return CO_PARK;
      }
      if (!asciiString(b, va, ve, s, n)) return CO_GIVE_UP;
      if (n == 4 && strncasecmp(s, "true", 4) == 0) return out += "true", CO_OK;
      if (n == 5 && strncasecmp(s, "false", 5) == 0) return out += "false", CO_OK;
      return CO_PARK;
    default:
      return CO_GIVE_UP;
  }
}

// ---------------------------------------------------------------- module_id of a string event

// moduleId.ts matchInputGreedyId (okre2a, A3): the id's range [from, to) of t, or false.
bool matchInputGreedyId(const Text& t, long& from, long& to) {
  for (long a = t.indexOf("input_", 0); a >= 0;) {
    const long e = t.indexOf('=', a + 6);
    if (e < 0) return false;
    for (long u = t.lastIndexOf("_", e - 1); u >= a + 7; u = t.lastIndexOf("_", u - 1)) {
      long v = u + 1;
      while (v < e && digit(t.s[v])) v++;
      if (v > u + 1 && v + 1 < e && t.s[v] == '_') return from = a + 6, to = u, true;
    }
    a = t.indexOf("input_", e + 1);
  }
  return false;
}

// moduleId.ts matchInputI4xLazy (cidre11a: A3, B12): `ORG/COURSE/TYPE/ID` or false.
bool matchInputI4xLazy(const Text& t, std::string& out) {
  const long n = t.n;
  const long lastEq = t.lastIndexOf("=", n);
  if (lastEq < 0) return false;
  long scannedTo = -1;  // the u range of the last scanned start ended here (at a "\n" or at n)
  for (long st = t.indexOf("input_i4x-", 0); st >= 0; st = t.indexOf("input_i4x-", st + 1)) {
    const long p = st + 10;
    const long d1 = t.indexOf('-', p);
    if (d1 < 0) return false;
    const long d2 = t.indexOf('-', d1 + 1);
    if (d2 < 0) return false;
    const long d3 = t.indexOf('-', d2 + 1);
    if (d3 < 0) return false;
    if (d1 == p || d2 == d1 + 1 || d3 == d2 + 1) continue;
    if (d3 + 1 < scannedTo) continue;
    long hi = t.indexOf('\n', d3 + 1);
    if (hi < 0) hi = n;
    scannedTo = hi;
    for (long u = t.indexOf('_', d3 + 2); u >= 0 && u < hi; u = t.indexOf('_', u + 1)) {
      long v = u + 1;
      while (v < n && digit(t.s[v])) v++;
      if (v > u + 1 && v + 1 < n && t.s[v] == '_' && t.s[v + 1] != '=' && lastEq > v + 1) {
        joinRanges(t, out, {{p, d1}, {d1 + 1, d2}, {d2 + 1, d3}, {d3 + 1, u}});
        return true;
      }
    }
  }
  return false;
}

// moduleId.ts guessModuleId for an `event` that stays a string (s[0, n), decoded): the rules
// objectEventModuleId follows, with the string rules in their places. Returns 1 with `out` set,
// 0 for no module_id, -1 when JavaScript must decide (B2d, B13's goto_position).
int stringEventModuleId(const Text& type, const Text* path, int source, const Text& s, const PageAndNew& pn, std::string& out) {
  const TypeAndPath tp(type, path);
  std::string a5, a6;
  const int a1a2 = xblockRulesA1A2(tp, out, a5, a6);
  if (a1a2 != 2) return a1a2;
  const bool input = s.startsWith("input_", 0);
  if (input && type.indexOf("problem", 0) >= 0) {  // A3
    if (pn.pageKind == 3) return 0;                 // pageOrEmpty raises: no module_id
    std::string orgCourse;
    if (matchCourseV1Bc(pn.pageKind == 1 ? pn.page : Text{"", 0}, orgCourse)) {
      const long amp = s.indexOf('&', 0);
      const Text head{s.s, amp < 0 ? s.n : amp};
      long from, to;
      if (matchInputGreedyId(head, from, to)) return out = orgCourse + "problem/", head.append(out, from, to), 1;
    }
    if (matchInputI4xLazy(s, out)) return 1;
  }
  if (!a5.empty()) return out = a5, 1;                       // A5
  if (!a6.empty()) return out = a6, 1;                       // A6
  if (matchBlockV1(s, out)) return 1;                        // A9
  if (isText(type, "add_resource") || isText(type, "delete_resource") || isText(type, "recommender_upvote")) return 0;  // B0
  if (source == 0) return 0;
  if (source == 1) {
    if (isText(type, "page_close")) {  // B2b: a page that is missing or not a string raises
      if (pn.pageKind != 1) return 0;
      if (pageCloseRule(pn.page, out)) return 1;
    }
    if (s.startsWith("input_i4x-", 0)) return -1;  // B2d
  }
  if (urlRulesB3toB11(tp, out)) return 1;
  if (input && matchInputI4xLazy(s, out)) return 1;  // B12
  if (const int r = cidre3RuleB13(tp, out); r != 0) return r;
  if (s.indexOf("i4x://", 0) >= 0 && matchCidre3(s, out)) return 1;  // B15
  return 0;                                                          // B16
}

// moduleId.ts mayDecodeToObjectWithId
bool mayDecodeToObjectWithId(const Text& s) {
  long i = 0;
  while (i < s.n && (s.s[i] == ' ' || s.s[i] == '\t' || s.s[i] == '\n' || s.s[i] == '\r')) i++;
  if (i >= s.n || s.s[i] != '{') return false;
  return s.indexOf("\"id\"", i) >= 0 || s.indexOf('\\', i) >= 0;
}

// rephrase.ts isFullStructType
bool isFullStructType(const Text& t) {
  static const char* const known[] = {"play_video",
                                      "seq_goto",
                                      "seq_next",
                                      "seq_prev",
                                      "seek_video",
                                      "load_video",
                                      "save_problem_success",
                                      "save_problem_fail",
                                      "reset_problem_success",
                                      "reset_problem_fail",
                                      "show_answer",
                                      "edx.course.enrollment.activated",
                                      "edx.course.enrollment.deactivated",
                                      "edx.course.enrollment.mode_changed",
                                      "edx.course.enrollment.upgrade.succeeded",
                                      "speed_change_video",
                                      "problem_check",
                                      "problem_save",
                                      "problem_reset"};
  bool listed = false;
  for (const char* k : known) listed = listed || isText(t, k);
  if (!listed && t.indexOf("problem_", 0) < 0) return false;
  return t.indexOf("video_embedded", 0) < 0 && t.indexOf("harvardx.", 0) < 0;
}

// ---------------------------------------------------------------- one line

// The rewrite's working state and steps, one per thread (members rather than thread_local
// variables: every access to one of those is a call).
struct Rewriter {
  std::vector<Member> top, ctx, moduleMembers, payload, state;
  // what the fused scan reuses of the line rewriteLine last took: its time and KnownRow
  double timeMicros = 0;
  KnownRow known;
  std::vector<uint8_t> eventBytes;  // a string `event`, decoded (NUL and padding after it)
  Container box;
  Buf eventText, agentJson, text;
  std::string moduleId;

  // Appends `"key":` for member m of b.
  static void appendKey(const uint8_t* b, const Member& m, Buf& out) {
    out.append(reinterpret_cast<const char*>(b + m.ka), m.ke - m.ka);
    out += ':';
  }

  // R19 parks the value of member m at level l (after R17: its objects' keys must be plain).
  bool parkR19(int l, const uint8_t* b, const Member& m) {
    text.clear();
    if (m.plainString) text.append(reinterpret_cast<const char*>(b + m.va), m.ve - m.va);
    else if (!r17Clean(b, m.va, 0) || !canonicalText(b, m.va, text)) return false;
    box.park(l, reinterpret_cast<const char*>(b + m.ka + 1), m.ke - m.ka - 2, text);
    return true;
  }
  // R13 parks the value of member m (before R17: its text keeps the keys as they are).
  bool parkR13(int l, const uint8_t* b, const Member& m) {
    text.clear();
    if (m.plainString) text.append(reinterpret_cast<const char*>(b + m.va), m.ve - m.va);
    else if (!canonicalText(b, m.va, text)) return false;
    box.park(l, reinterpret_cast<const char*>(b + m.ka + 1), m.ke - m.ka - 2, text);
    return true;
  }
  // `"key":value` of a field of type t, or the value parked at level l; false: give up.
  bool writeField(char t, int l, const uint8_t* b, const Member& m, Buf& out, bool& first) {
    const size_t mark = out.size();
    if (!first) out += ',';
    appendKey(b, m, out);
    const int r = coerce(t, b, m.va, m.ve, m.plainString, out);
    if (r == CO_OK) return first = false, true;
    out.resize(mark);
    return r == CO_PARK && parkR19(l, b, m);
  }
  // `"key":"<JSON text of the value>"` (R8, R9, R10, R11: a value replaced by its JSON text)
  bool writeAsText(const uint8_t* b, const Member& m, Buf& out, bool& first) {
    text.clear();
    if (!canonicalText(b, m.va, text)) return false;
    if (!first) out += ',';
    first = false;
    appendKey(b, m, out);
    appendJsString(text, out);
    return true;
  }

  // event_struct.state (R9, R13's has_saved_answers, R19 on STATE)
  bool writeState(const uint8_t* b, Buf& out) {
    out += '{';
    bool first = true;
    for (const Member& m : state) {
      const int k = m.kind;
      if (k == SK_SAVED) continue;  // parked by R13
      if (k == SK_TEXT ? !writeAsText(b, m, out, first) : k == RK_OTHER ? !parkR19(L_ES_STATE, b, m) : !writeField(static_cast<char>(k >> 8), L_ES_STATE, b, m, out, first)) return false;
    }
    out += '}';
    return true;
  }

  // The full event_struct of R6 (the decoded payload), through R8–R19.
  bool writeFullStruct(const uint8_t* b, Buf& out) {
    out += '{';
    bool first = true;
    for (const Member& m : payload) {
      const int k = m.kind;
      switch (k & 15) {
        case EK_GET_POST:
        case EK_TEXT:
          if (!writeAsText(b, m, out, first)) return false;
          if (m.ke - m.ka == 9 && memcmp(b + m.ka + 1, "answers", 7) == 0) {
            known.hasAnswers = true;
            known.answers.assign(text.data(), text.size());
          }
          break;
        case EK_STATE:
          if (b[m.va] == '{') {
            if (!first) out += ',';
            first = false;
            appendKey(b, m, out);
            if (!writeState(b, out)) return false;
          } else if (b[m.va] == 'n') {
            if (!first) out += ',';
            first = false;
            appendKey(b, m, out);
            out += "null";
          } else if (!parkR19(L_ES, b, m)) {  // a record holding a non-object
            return false;
          }
          break;
        case EK_R13:
          break;  // parked by R13
        case EK_NEW_SPEED: {
          double d;
          const int r = finiteFloatOf(b, m.va, m.ve, d);
          if (r < 0) return false;
          if (r == 1 && !writeField('F', L_ES, b, m, out, first)) return false;  // R16 removed it otherwise
          break;
        }
        case EK_RECORD:
          if (b[m.va] != 'n') return false;  // answer / rubric records: left to JavaScript
          if (!first) out += ',';
          first = false;
          appendKey(b, m, out);
          out += "null";
          break;
        case EK_SCALAR:
          if (!writeField(static_cast<char>(k >> 8), L_ES, b, m, out, first)) return false;
          break;
        default:
          if (!parkR19(L_ES, b, m)) return false;
      }
    }
    out += '}';
    return true;
  }

  // R6's event_struct of an event type that does not get the full struct: GET and POST as JSON text
  // ("null" when absent) and query.
  bool writePartialStruct(const uint8_t* b, Buf& out) {
    out += '{';
    static constexpr Name names[2] = {name("GET"), name("POST")};
    for (int j = 0; j < 2; j++) {
      if (j > 0) out += ',';
      out += j == 0 ? "\"GET\":" : "\"POST\":";
      const Member* m = memberNamed(b, payload, names[j]);
      text.clear();
      if (m == nullptr) text += "null";
      else if (!canonicalText(b, m->va, text)) return false;
      appendJsString(text, out);
    }
    out += ",\"query\":";
    const Member* q = memberNamed(b, payload, name("query"));
    // (type S never parks)
    if (q == nullptr) out += "null";
    else if (coerce('S', b, q->va, q->ve, q->plainString, out) != CO_OK) return false;
    out += '}';
    return true;
  }

  // context.module (R12 moved some keys into the agent text; R19 on { display_name })
  bool writeModule(const uint8_t* b, Buf& out) {
    out += '{';
    bool first = true;
    for (const Member& m : moduleMembers) {
      if ((m.kind & 15) == MK_MOVED) continue;
      if (m.kind == MK_DISPLAY_NAME ? !writeField('S', L_CTX_MODULE, b, m, out, first) : !parkR19(L_CTX_MODULE, b, m)) return false;
    }
    out += '}';
    return true;
  }

  // The context record: R11, R12 (agent), R13's label, R15, R19 on CONTEXT_SCHEMA.
  bool writeContext(const uint8_t* b, Buf& out) {
    out += '{';
    bool first = true;
    bool agentWritten = false;
    for (const Member& m : ctx) {
      switch (m.kind & 15) {
        case CK_COURSE_ID:
        case CK_SCALAR:
          if (!writeField('S', L_CONTEXT, b, m, out, first)) return false;
          break;
        case CK_TAGS:
          if (!writeAsText(b, m, out, first)) return false;
          break;
        case CK_USER_ID:
          if (m.ve - m.va == 2 && b[m.va] == '"') break;  // R15: "" is removed
          if (!writeField('I', L_CONTEXT, b, m, out, first)) return false;
          break;
        case CK_AGENT:
          if (!first) out += ',';
          first = false;
          appendKey(b, m, out);
          appendJsString(agentJson, out);
          agentWritten = true;
          break;
        case CK_MOVED:
        case CK_LABEL:
          break;  // moved into the agent text (R12), parked (R13)
        case CK_MODULE:
          if (!first) out += ',';
          first = false;
          appendKey(b, m, out);
          if (b[m.va] == 'n') out += "null";
          else if (!writeModule(b, out)) return false;
          break;
        default:
          if (!parkR19(L_CONTEXT, b, m)) return false;
      }
    }
    if (!agentWritten) {
      if (!first) out += ',';
      out += "\"agent\":";
      appendJsString(agentJson, out);
    }
    out += '}';
    return true;
  }

  // R12's agent text: {"oldagent": …, the moved context keys, the moved module keys}.
  bool agentText(const uint8_t* b, const Member* agent, const Member* module) {
    Buf& a = agentJson;
    a.clear();
    a += "{\"oldagent\":";
    if (agent == nullptr || b[agent->va] == 'n') a += "\"\"";
    else if (!canonicalText(b, agent->va, a)) return false;
    // the moved keys in R12's order, whatever their order in the line
    const Member* moved[6] = {};
    for (const Member& m : ctx)
      if ((m.kind & 15) == CK_MOVED) moved[(m.kind >> 4) & 15] = &m;
    for (int k = 0; k < 6; k++) {
      if (moved[k] == nullptr) continue;
      a += ",\"";
      a.append(kR12ContextMoved[k].s, kR12ContextMoved[k].n);
      a += "\":";
      if (!canonicalText(b, moved[k]->va, a)) return false;
    }
    if (module != nullptr && b[module->va] == '{') {
      const Member* fromModule[3] = {};
      for (const Member& m : moduleMembers)
        if ((m.kind & 15) == MK_MOVED) fromModule[m.kind >> 4] = &m;
      for (int k = 0; k < 3; k++) {
        if (fromModule[k] == nullptr) continue;
        a += ",\"module.";
        a.append(kR12ModuleMoved[k].s, kR12ModuleMoved[k].n);
        a += "\":";
        if (!canonicalText(b, fromModule[k]->va, a)) return false;
      }
    }
    a += '}';
    return true;
  }

  // After rewriteLine took the line in `b`: the fields and flags scanLine would read, from the
  // members already read (the fused scan of split + aggregates). False where scanLine refuses the
  // line: a field it reads holding neither a string nor null (context.user_id: nor a number).
  bool fieldsForScan(const uint8_t* b, Span* f, LineFlags& flags) const {
    for (int k = 0; k < N_FIELDS; k++) f[k] = {V_ABSENT, 0, 0};
    // the line had no `_id` or `module_id` (rewriteLine refuses those), and a context is an object
    flags = {false, false, 0};
    auto stringOrNull = [&](const Member& m, Span& out) {
      if (b[m.va] == 'n') return out = {V_NULL, 0, 0}, true;
      if (b[m.va] != '"') return false;
      if (!m.plainString) return out = {V_ESCAPED, static_cast<int32_t>(m.va), static_cast<int32_t>(m.ve)}, true;
      const bool ascii = asciiPadded(b + m.va + 1, m.ve - m.va - 2);
      out = {ascii ? V_ASCII : V_UTF8, static_cast<int32_t>(m.va + 1), static_cast<int32_t>(m.ve - 1)};
      return true;
    };
    for (const Member& m : top) {
      if ((m.kind & 15) == TK_CONTEXT) {
        flags.contextKind = 1;
        for (const Member& c : ctx) {
          const int cf = scanFieldOf(c.kind);
          if (cf == F_CTX_PATH) {
            // (rewriteLine takes only a string or null path; scanContext's V_OTHER kept all the same)
            if (!stringOrNull(c, f[F_CTX_PATH])) f[F_CTX_PATH] = {V_OTHER, static_cast<int32_t>(c.va), static_cast<int32_t>(c.ve)};
          } else if (cf == F_CTX_USER && (b[c.va] == '-' || digit(b[c.va]))) {
            f[F_CTX_USER] = {V_NUMBER, static_cast<int32_t>(c.va), static_cast<int32_t>(c.ve)};
          } else if (cf >= 0 && !stringOrNull(c, f[cf])) {
            return false;
          }
        }
        continue;
      }
      const int field = scanFieldOf(m.kind);
      if (field == F_EVENT) {
        f[F_EVENT] = {V_TEXT, static_cast<int32_t>(m.va), static_cast<int32_t>(m.ve)};
      } else if (field >= 0 && !stringOrNull(m, f[field])) {
        return false;
      }
    }
    return true;
  }

  // The line b[0, nb) (NUL and padding after it, no syslog prefix) rewritten into `row`, its
  // course (slash form) into `course` when it has one. False: JavaScript rewrites the line.
  bool rewriteLine(const uint8_t* b, size_t nb, Buf& row, std::string& course, bool& hasCourse) {
    const size_t i = ws(b, 0);
    size_t end;
    if (b[i] != '{' || !readObject<topKind>(b, i, 1, top, end) || ws(b, end) != nb) return false;
    const Member *mTime = nullptr, *mCtx = nullptr, *mEvent = nullptr, *mType = nullptr, *mSource = nullptr, *mPage = nullptr;
    const Member* r13[kNumR13Top] = {};
    for (const Member& m : top) {
      switch (m.kind & 15) {
        case TK_GIVE_UP: return false;
        case TK_TIME: mTime = &m; break;
        case TK_CONTEXT: mCtx = &m; break;
        case TK_EVENT: mEvent = &m; break;
        case TK_R13: r13[(m.kind >> 4) & 15] = &m; break;
        case TK_SCALAR: {
          const int field = scanFieldOf(m.kind);
          if (field == F_EVENT_TYPE) mType = &m;
          else if (field == F_EVENT_SOURCE) mSource = &m;
          else if (field == F_PAGE) mPage = &m;
          break;
        }
        default: break;
      }
    }
    // the time: a string parseTimeMicros accepts (else the line is a reject: JavaScript says why)
    const char* s;
    size_t n;
    if (mTime == nullptr || !mTime->plainString || !asciiString(b, mTime->va, mTime->ve, s, n)) return false;
    const double us = parseTimeMicros(reinterpret_cast<const uint8_t*>(s), n);
    if (us != us) return false;
    timeMicros = us;
    // event_type a plain string (module_id reads it), event present
    if (mEvent == nullptr || mType == nullptr || !mType->plainString) return false;
    const Text type{reinterpret_cast<const char*>(b + mType->va + 1), static_cast<long>(mType->ve - mType->va - 2)};
    int source = 0;  // absent; 1 "browser"; 2 anything else
    if (mSource != nullptr) {
      if (b[mSource->va] == '"' && !mSource->plainString) return false;
      source = mSource->ve - mSource->va == 9 && memcmp(b + mSource->va, "\"browser\"", 9) == 0 ? 1 : 2;
    }

    // context, context.module
    const Member *mCourse = nullptr, *mPath = nullptr, *mAgent = nullptr, *mModule = nullptr, *mLabel = nullptr;
    ctx.clear();
    moduleMembers.clear();
    if (mCtx != nullptr) {
      if (b[mCtx->va] != '{' || !readObject<ctxKind>(b, mCtx->va, 2, ctx, end)) return false;
      for (const Member& m : ctx) {
        switch (m.kind & 15) {
          case CK_COURSE_ID: mCourse = &m; break;
          case CK_AGENT: mAgent = &m; break;
          case CK_MODULE: mModule = &m; break;
          case CK_LABEL: mLabel = &m; break;
          case CK_SCALAR:
            if (scanFieldOf(m.kind) == F_CTX_PATH) mPath = &m;
            break;
          default: break;
        }
      }
      if (mModule != nullptr) {
        if (b[mModule->va] == '{') {
          if (!readObject<moduleKind>(b, mModule->va, 3, moduleMembers, end)) return false;
        } else if (b[mModule->va] != 'n') {
          return false;
        }
      }
    }

    // the course (courseId.ts resolveCourseId; a top-level course_id was refused above)
    hasCourse = false;
    bool guessed = false;
    if (mCourse != nullptr && b[mCourse->va] == '"' && mCourse->ve - mCourse->va > 2) {
      if (!mCourse->plainString) return false;
      slashCourseId(reinterpret_cast<const char*>(b + mCourse->va + 1), mCourse->ve - mCourse->va - 2, course);
      hasCourse = true;
    } else if (source == 1) {
      if (mPage != nullptr && b[mPage->va] == '"') {
        if (!mPage->plainString) return false;
        hasCourse = guessed = courseInPage(reinterpret_cast<const char*>(b + mPage->va + 1), mPage->ve - mPage->va - 2, course);
      }
    } else if (source == 2) {
      hasCourse = guessed = courseInUrl(type.s, type.n, course);
    }

    // the event: an object, or a string (decoded; JSON text or not)
    const uint8_t* pb = b;  // the bytes the payload's members are in
    bool payloadObject = false;
    const uint8_t ec = b[mEvent->va];
    eventText.clear();
    Text eventString{"", 0};
    bool stringIsJson = false;
    if (ec == '{') {
      if (!readObject<esKind>(b, mEvent->va, 2, payload, end) || !canonicalText(b, mEvent->va, eventText)) return false;
      payloadObject = true;
    } else if (ec == '"') {
      size_t sn;
      if (!decodeJsonString(b, mEvent->va + 1, mEvent->ve - 1, eventBytes, sn)) return false;
      const uint8_t* es = eventBytes.data();
      eventString = Text{reinterpret_cast<const char*>(es), static_cast<long>(sn)};
      const size_t j = ws(es, 0);
      const uint8_t f = es[j];
      if (f == '{' || f == '[' || f == '"' || f == '-' || digit(f) || f == 't' || f == 'f' || f == 'n') {
        const size_t e = skipValue(es, j, 1);
        stringIsJson = e != SIZE_MAX && ws(es, e) == sn;
        // an object or array this reader refuses may still be JSON (nested deeper than it reads)
        // or Python's (NaN, Infinity: module_id's parsePythonJson reads those): left to JavaScript
        if (!stringIsJson && (f == '{' || f == '[')) return false;
      }
      if (stringIsJson && f == '{') {
        if (!readObject<esKind>(es, j, 2, payload, end)) return false;
        pb = es;
        payloadObject = true;
      }
    } else {
      return false;
    }

    // module_id (§4)
    Text pathText{"", 0};
    const Text* path = &pathText;
    if (mPath != nullptr) {
      if (b[mPath->va] == 'n') path = nullptr;
      else if (!mPath->plainString) return false;
      else pathText = Text{reinterpret_cast<const char*>(b + mPath->va + 1), static_cast<long>(mPath->ve - mPath->va - 2)};
    }
    PageAndNew pn{0, Text{"", 0}, -1, -1};
    if (mPage != nullptr) {
      const uint8_t* v = b + mPage->va;
      const size_t vn = mPage->ve - mPage->va;
      if (v[0] == '"') {
        if (!mPage->plainString) return false;
        pn.pageKind = 1;
        pn.page = Text{reinterpret_cast<const char*>(v + 1), static_cast<long>(vn - 2)};
      } else {
        double d = 1;
        const bool falsy = v[0] == 'n' || v[0] == 'f' || ((v[0] == '{' || v[0] == '[') && ws(v, 1) == vn - 1) ||
                           ((v[0] == '-' || digit(v[0])) && parseDouble(reinterpret_cast<const char*>(v), vn, d) && d == 0);
        pn.pageKind = falsy ? 2 : 3;
      }
    }
    const Member* pnew = payloadObject ? memberNamed(pb, payload, name("new")) : nullptr;
    if (pnew != nullptr) pn.newA = pnew->va, pn.newE = pnew->ve;
    const Member* pid = payloadObject ? memberNamed(pb, payload, name("id")) : nullptr;
    int found;
    moduleId.clear();
    if (payloadObject && (ec == '{' || (pid != nullptr && mayDecodeToObjectWithId(eventString)))) {
      const Member* ppid = memberNamed(pb, payload, name("problem_id"));
      found = objectEventModuleId(type, path, source, pb, pid ? pid->va : -1, pid ? pid->ve : -1, ppid ? ppid->va : -1, ppid ? ppid->ve : -1,
                                  moduleId, &pn);
    } else if (ec == '"') {
      found = stringEventModuleId(type, path, source, eventString, pn, moduleId);
    } else {
      found = 0;
    }
    if (found < 0) return false;
    const bool hasModuleId = found == 1 && !moduleId.empty();
    known.moduleId = hasModuleId ? &moduleId : nullptr;  // (no copy: most lines are not read for it)
    known.hasAnswers = false;

    const bool full = payloadObject && isFullStructType(type);
    if (full) {
      const Member* st = memberNamed(pb, payload, name("state"));
      state.clear();
      if (st != nullptr && pb[st->va] == '{' && !readObject<stateKind>(pb, st->va, 3, state, end)) return false;
    } else {
      state.clear();
    }
    if (!agentText(b, mAgent, mModule)) return false;

    // R13, in its order: top-level keys, context.label, event_struct's keys, state.has_saved_answers
    box.clear();
    box.add(L_ROOT, "old_mongoid", 11, "null", 4, -1);
    for (int k = 0; k < kNumR13Top; k++)
      if (r13[k] != nullptr && !parkR13(L_ROOT, b, *r13[k])) return false;
    if (mLabel != nullptr && !parkR13(L_CONTEXT, b, *mLabel)) return false;
    if (full) {
      for (int k = 0; k < kNumR13Es; k++)
        for (const Member& m : payload)
          if ((m.kind & 15) == EK_R13 && (m.kind >> 4) == k && !parkR13(L_ES, pb, m)) return false;
      for (const Member& m : state)
        if (m.kind == SK_SAVED && !parkR13(L_ES_STATE, pb, m)) return false;
    }
    if (guessed) box.add(L_ROOT, "course_id_guessed", 17, "true", 4, -1);

    // the row, in key order, with R19's parks as the traversal meets them
    row.clear();
    row += '{';
    bool first = true;
    for (const Member& m : top) {
      switch (m.kind & 15) {
        case TK_R13: break;
        case TK_TIME:
        case TK_SCALAR:
          if (!writeField('S', L_ROOT, b, m, row, first)) return false;
          break;
        case TK_EVENT:
          if (!first) row += ',';
          first = false;
          appendKey(b, m, row);
          if (ec == '"') {
            // the string's JSON text: the line's own when it is written as JSON.stringify writes it
            Buf& target = stringIsJson ? row : eventText;
            if (m.plainString || stringTokenIsCanonical(b, m.va, m.ve)) target.append(reinterpret_cast<const char*>(b + m.va), m.ve - m.va);
            else appendJsString(reinterpret_cast<const uint8_t*>(eventString.s), eventString.n, target);
            if (!stringIsJson) appendJsString(eventText, row);  // R4: the JSON text of the string
          } else {
            appendJsString(eventText, row);  // R5: the JSON text of the object
          }
          break;
        case TK_CONTEXT:
          if (!first) row += ',';
          first = false;
          appendKey(b, m, row);
          if (!writeContext(b, row)) return false;
          break;
        default:
          if (!parkR19(L_ROOT, b, m)) return false;
      }
    }
    if (hasCourse) {
      row += ",\"course_id\":";
      appendJsString(course, row);
    }
    if (hasModuleId) {
      row += ",\"module_id\":";
      appendJsString(moduleId, row);
    }
    if (payloadObject) {
      row += ",\"event_struct\":";
      if (!(full ? writeFullStruct(pb, row) : writePartialStruct(pb, row))) return false;
    }
    row += ",\"mongoid\":";
    text.clear();
    box.finish(text);
    appendJsString(text, row);
    row += '}';
    return true;
  }
};
thread_local Rewriter rewriter;

// ---------------------------------------------------------------- the chunk

// rewriteChunk(chunk: Uint8Array, out: Int32Array, text: Uint8Array[, scan: Int32Array, side:
// Uint8Array, table: Int32Array[, buildFacts: boolean]]) → the number of lines, or minus it when
// `out` is too small (it needs kRowRecord + 2 int32 a line, + 2) or, with the scan arguments, they
// are (see scanChunk). With them it also writes scanChunk's result for the same chunk, and with
// buildFacts builds the facts batches of the lines whose rows it wrote (chunkFacts.cc). Lines are cut as
// src/logs/lines.ts forEachLine cuts them. Line k's record out[6k .. 6k+5]: the line's start and
// end in the chunk, its row's start and end in `text` (a newline included), its course's index
// (-1: no course) and where its row is (0: `text`; -1: nowhere, JavaScript rewrites the line, and
// groupRows reads 1 as "in `extra`"). Then out[6·lines] = the number of courses c, out[6·lines+1]
// = the bytes of rows in `text`, and 2c int32: each course's slash id as a span of `text`, after
// the rows. A row that would not fit in `text` is left to JavaScript.
constexpr size_t kRowRecord = 6;
enum { RR_LINE_START, RR_LINE_END, RR_ROW_START, RR_ROW_END, RR_COURSE, RR_SOURCE };

napi_value RewriteChunk(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type types[6] = {napi_uint8_array, napi_int32_array, napi_uint8_array, napi_int32_array, napi_uint8_array, napi_int32_array};
  void* d[6];
  size_t len[6];
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, nullptr);
  const bool withScan = argc >= 6;
  if (!typedArrays(env, info, withScan ? 6 : 3, types, d, len)) {
    napi_throw_type_error(env, nullptr, "rewriteChunk(chunk: Uint8Array, out: Int32Array, text: Uint8Array[, scan: Int32Array, side: Uint8Array, table: Int32Array])");
    return nullptr;
  }
  napi_value result;
  const size_t n1 = len[0], n2 = len[1], n3 = len[2];
  if (n1 > INT32_MAX || n3 > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "chunk or text larger than 2 GB");
    return nullptr;
  }
  const uint8_t* chunk = static_cast<const uint8_t*>(d[0]);
  int32_t* out = static_cast<int32_t*>(d[1]);
  uint8_t* text = static_cast<uint8_t*>(d[2]);
  size_t lines = 0;
  for (size_t s = 0; s < n1;) {
    const void* nl = memchr(chunk + s, '\n', n1 - s);
    s = (nl ? static_cast<const uint8_t*>(nl) - chunk : n1) + 1;
    lines++;
  }
  if (lines * (kRowRecord + 2) + 2 > n2 || (withScan && (lines * kStride > len[3] || 1 + lines * kTableIntsPerLine > len[5]))) {
    napi_create_int32(env, -static_cast<int32_t>(lines), &result);
    return result;
  }
  // with the scan arguments, also scanChunk's records of the same lines (its out, side and
  // table), the fields of each line the rewrite took coming from the rewrite's reading
  LineScan scan{withScan ? static_cast<int32_t*>(d[3]) : nullptr, withScan ? static_cast<uint8_t*>(d[4]) : nullptr, withScan ? len[4] : 0, 0};
  if (withScan) strings.reset(static_cast<int32_t*>(d[5]), lines * kTableIntsPerLine / 4, chunk, static_cast<uint8_t*>(d[4]));
  ChunkFacts& facts = chunkFacts;
  const bool buildFacts = withScan && boolArgument(env, info, 6);
  if (buildFacts) facts.reset();
  else facts.on = false;
  Span f[N_FIELDS];
  LineFlags flags;
  // the thread's state, its address taken once: the compiler would otherwise look the
  // thread-local variables up again (a call) at each use in the loop
  Rewriter* wp = &rewriter;
  std::vector<std::uint8_t>* lp = &scratch;
  asm volatile("" : "+r"(wp), "+r"(lp));
  Rewriter& w = *wp;
  std::vector<std::uint8_t>& line = *lp;
  std::vector<std::string> courses;
  size_t courseBytes = 0;
  Buf row;
  std::string course;
  size_t at = 0;
  size_t index = 0;
  for (size_t s = 0; s < n1; index++) {
    const void* nl = memchr(chunk + s, '\n', n1 - s);
    const size_t e = nl ? static_cast<const uint8_t*>(nl) - chunk : n1;
    int32_t* rec = out + kRowRecord * index;
    rec[RR_LINE_START] = static_cast<int32_t>(s);
    rec[RR_LINE_END] = static_cast<int32_t>(e);
    rec[RR_ROW_START] = rec[RR_ROW_END] = rec[RR_COURSE] = rec[RR_SOURCE] = -1;
    const size_t nb = e - s;
    size_t base = s;
    bool scanned = false;
    if (nb <= kMaxBytes) {
      base = lineToScratch(chunk, s, e, line);
      const size_t ob = e - base;
      bool hasCourse = false;
      const bool rewritten = w.rewriteLine(line.data(), ob, row, course, hasCourse);
      if (withScan) scanned = rewritten ? w.fieldsForScan(line.data(), f, flags) : scanLine(line.data(), ob, f, flags);
      if (rewritten) {
        int32_t ci = -1;
        size_t extra = 0;
        if (hasCourse) {
          for (size_t k = courses.size(); k-- > 0;)
            if (courses[k] == course) {
              ci = static_cast<int32_t>(k);
              break;
            }
          if (ci < 0) extra = course.size();
        }
        if (at + row.size() + 1 + courseBytes + extra <= n3) {
          if (hasCourse && ci < 0) {
            ci = static_cast<int32_t>(courses.size());
            courses.push_back(course);
            courseBytes += extra;
          }
          memcpy(text + at, row.data(), row.size());
          text[at + row.size()] = '\n';
          rec[RR_ROW_START] = static_cast<int32_t>(at);
          at += row.size() + 1;
          rec[RR_ROW_END] = static_cast<int32_t>(at);
          rec[RR_COURSE] = ci;
          rec[RR_SOURCE] = 0;
        }
      }
    }
    if (withScan) {
      const bool took = rec[RR_SOURCE] == 0;
      scan.record(index, s, e, base, line.data(), scanned, f, flags, took ? &w.timeMicros : nullptr, took ? &w.known : nullptr);
    }
    // a line whose row the rewrite wrote is not read by JavaScript again: its facts can be built here
    if (buildFacts && rec[RR_SOURCE] == 0) buildLineFacts(facts, scan.out + index * kStride);
    s = e + 1;
  }
  if (withScan) strings.out[0] = strings.n;
  int32_t* table = out + kRowRecord * lines;
  table[0] = static_cast<int32_t>(courses.size());
  table[1] = static_cast<int32_t>(at);
  for (size_t k = 0; k < courses.size(); k++) {
    memcpy(text + at, courses[k].data(), courses[k].size());
    table[2 + 2 * k] = static_cast<int32_t>(at);
    at += courses[k].size();
    table[3 + 2 * k] = static_cast<int32_t>(at);
  }
  napi_create_int32(env, static_cast<int32_t>(lines), &result);
  return result;
}

// groupRows(records: Int32Array, text: Uint8Array, extra: Uint8Array, groups: Int32Array,
// data: Uint8Array) → m, the number of groups that have rows. The rows of rewriteChunk's records
// (source 0: in `text`, 1: in `extra`; other lines are skipped) are copied into `data` grouped by
// course, each group in line order and the groups in the order of their first rows (as splitChunk
// in JavaScript orders them). Group i < g-1 is course i's, group g-1 that of the lines of no
// course (course -1), where g = groups.length / 3; records.length / kRowRecord is the number of
// lines. groups[3j .. 3j+2] = the j-th group's index, row count and the end of its bytes. Throws
// when `data` is too small or a record points outside its buffer.
napi_value GroupRows(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type types[5] = {napi_int32_array, napi_uint8_array, napi_uint8_array, napi_int32_array, napi_uint8_array};
  void* d[5];
  size_t len[5];
  if (!typedArrays(env, info, 5, types, d, len)) {
    napi_throw_type_error(env, nullptr, "groupRows(records: Int32Array, text: Uint8Array, extra: Uint8Array, groups: Int32Array, data: Uint8Array)");
    return nullptr;
  }
  const int32_t* rec = static_cast<const int32_t*>(d[0]);
  const size_t lines = len[0] / kRowRecord;
  const uint8_t* from[2] = {static_cast<const uint8_t*>(d[1]), static_cast<const uint8_t*>(d[2])};
  const size_t fromLength[2] = {len[1], len[2]};
  int32_t* groups = static_cast<int32_t*>(d[3]);
  const size_t g = len[3] / 3;
  uint8_t* data = static_cast<uint8_t*>(d[4]);
  if (g == 0) {
    napi_throw_range_error(env, nullptr, "groupRows: no groups");
    return nullptr;
  }
  std::vector<size_t> bytes(g, 0), count(g, 0), order;
  for (size_t k = 0; k < lines; k++) {
    const int32_t* r = rec + kRowRecord * k;
    const int32_t src = r[RR_SOURCE];
    if (src != 0 && src != 1) continue;
    const int32_t c = r[RR_COURSE];
    const size_t gi = c < 0 ? g - 1 : static_cast<size_t>(c);
    if ((c >= 0 && gi >= g - 1) || r[RR_ROW_START] < 0 || r[RR_ROW_END] < r[RR_ROW_START] || static_cast<size_t>(r[RR_ROW_END]) > fromLength[src]) {
      napi_throw_range_error(env, nullptr, "groupRows: a record out of range");
      return nullptr;
    }
    bytes[gi] += r[RR_ROW_END] - r[RR_ROW_START];
    if (count[gi]++ == 0) order.push_back(gi);
  }
  std::vector<size_t> next(g);
  size_t total = 0;
  for (size_t j = 0; j < order.size(); j++) {
    const size_t gi = order[j];
    next[gi] = total;
    total += bytes[gi];
    groups[3 * j] = static_cast<int32_t>(gi);
    groups[3 * j + 1] = static_cast<int32_t>(count[gi]);
    groups[3 * j + 2] = static_cast<int32_t>(total);
  }
  if (total > len[4]) {
    napi_throw_range_error(env, nullptr, "groupRows: data too small");
    return nullptr;
  }
  for (size_t k = 0; k < lines; k++) {
    const int32_t* r = rec + kRowRecord * k;
    const int32_t src = r[RR_SOURCE];
    if (src != 0 && src != 1) continue;
    const int32_t c = r[RR_COURSE];
    const size_t gi = c < 0 ? g - 1 : static_cast<size_t>(c);
    const size_t n = r[RR_ROW_END] - r[RR_ROW_START];
    memcpy(data + next[gi], from[src] + r[RR_ROW_START], n);
    next[gi] += n;
  }
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(order.size()), &result);
  return result;
}
