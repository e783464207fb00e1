// The facts of plain lines, built in native code: per course, the columns that
// src/aggregate/facts.ts FactsBuilder collects (strings, days, base events, IP counts, video
// events), encoded by takeFacts as facts-file records (src/aggregate/factsFile.ts encodeFacts).
// Included by fastscan.cc: it reads the scan records' facts slots and the chunk's string table.
//
// A line is added here only when lineFacts computed all its facts (kFactsState 1), it has a course,
// and the caller knows JavaScript will not read the line again (scanChunk: every such line;
// the fused scan of rewriteChunk: lines whose row the rewrite wrote). Its state becomes 2, and
// JavaScript leaves it alone. The compact-table row lineFacts computed for it, if any, is written
// here as the JSON text chunkTasks.ts NativeFacts.addPayloadRow's object gets in the meta.
// The records differ from JavaScript's only in order: lines JavaScript reads go to a second batch
// of the course, and every consumer is indifferent to the order of base events, IP counts and
// video events (test/personDay-generated.test.ts compares the two paths' facts as multisets, the
// compact-table rows in order, and their tables row for row).

constexpr uint32_t kNullString = 0xffffffffu;             // facts.ts NULL_STRING
constexpr size_t kMaxCourseStrings = (size_t{1} << 22) - 1;  // facts.ts IP_NULL: the most strings a batch may hold
constexpr double kMicrosPerDay = 86400e6;

// An open-addressing map from a pair of 64-bit keys to a uint32, cleared per chunk.
struct PairMap {
  struct Entry {
    uint64_t a, b;
    uint32_t value;
  };
  std::vector<Entry> entries;
  std::vector<int32_t> slots;  // entry index + 1; 0: empty
  size_t mask = 0;

  void clear() {
    entries.clear();
    if (slots.empty()) slots.resize(1024);
    std::fill(slots.begin(), slots.end(), 0);
    mask = slots.size() - 1;
  }
  static size_t hash(uint64_t a, uint64_t b) {
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ ((b + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full);
    return static_cast<size_t>(h ^ (h >> 31));
  }
  // The value stored for (a, b); when there is none, `value` is stored and `found` is false.
  uint32_t& findOrInsert(uint64_t a, uint64_t b, uint32_t value, bool& found) {
    if (2 * (entries.size() + 1) > slots.size()) grow();
    for (size_t s = hash(a, b) & mask;; s = (s + 1) & mask) {
      const int32_t e = slots[s];
      if (e == 0) {
        entries.push_back({a, b, value});
        slots[s] = static_cast<int32_t>(entries.size());
        found = false;
        return entries.back().value;
      }
      Entry& x = entries[e - 1];
      if (x.a == a && x.b == b) {
        found = true;
        return x.value;
      }
    }
  }
  void grow() {
    slots.assign(slots.size() * 2, 0);
    mask = slots.size() - 1;
    for (size_t i = 0; i < entries.size(); i++) {
      size_t s = hash(entries[i].a, entries[i].b) & mask;
      while (slots[s] != 0) s = (s + 1) & mask;
      slots[s] = static_cast<int32_t>(i + 1);
    }
  }
};

// One course's facts of the chunk (facts.ts CourseFacts's columns); strings are indices into
// the chunk's string table, in the order the course first used them.
struct CourseColumns {
  std::string id;  // slash form
  uint32_t events = 0;
  std::vector<int32_t> strings;
  std::vector<int32_t> days;
  int32_t lastDay = 0;
  std::vector<uint32_t> baseUser;
  std::vector<double> baseTime;
  std::vector<uint16_t> baseFlags;
  std::vector<uint32_t> ipUser, ipIp, ipCount;
  std::vector<int32_t> ipDay;
  std::vector<uint32_t> videoUser, videoId;
  std::vector<double> videoTime, videoPosition, videoSpeed;
  std::vector<uint8_t> videoType;
  // the compact-table rows, JSON texts joined by commas (the meta's arrays without brackets)
  std::string forum, problemCheck, showAnswer, enrollment, transcript;

  void clear() {
    forum.clear(), problemCheck.clear(), showAnswer.clear(), enrollment.clear(), transcript.clear();
    events = 0;
    strings.clear();
    days.clear();
    baseUser.clear(), baseTime.clear(), baseFlags.clear();
    ipUser.clear(), ipIp.clear(), ipCount.clear(), ipDay.clear();
    videoUser.clear(), videoId.clear(), videoTime.clear(), videoPosition.clear(), videoSpeed.clear(), videoType.clear();
  }
};

template <typename T>
void putColumn(uint8_t*& p, const std::vector<T>& v) {
  if (!v.empty()) memcpy(p, v.data(), v.size() * sizeof(T));  // little-endian, as factsFile.ts writeColumns
  p += v.size() * sizeof(T);
}

struct ChunkFacts {
  bool on = false;
  std::vector<CourseColumns> courses;  // [0, used): this chunk's (the rest keep their capacity)
  size_t used = 0;
  // per string-table index: its course slot (a course's raw id; -1 not looked up), the slot that
  // interned it last (-1 none) and its index there
  std::vector<int32_t> courseOf, ownerOf, localOf;
  PairMap shared;    // (slot, table index) → index, for strings a course interned before another slot did
  PairMap ipCounts;  // (slot, day; user, ip) → index in the course's IP columns
  std::string slash;
  std::string meta;

  void reset() {
    on = true;
    for (size_t i = 0; i < used; i++) courses[i].clear();
    used = 0;
    // grown as the string table grows (see reach), so a chunk clears only what it used
    courseOf.clear();
    ownerOf.clear();
    localOf.clear();
    shared.clear();
    ipCounts.clear();
  }

  // The per-string vectors cover string k (the table hands out indices in order).
  void reach(int32_t k) {
    if (static_cast<size_t>(k) < courseOf.size()) return;
    const size_t size = std::max<size_t>(static_cast<size_t>(k) + 1, 2 * courseOf.size());
    courseOf.resize(size, -1);
    ownerOf.resize(size, -1);
    localOf.resize(size, 0);
  }

  std::string_view tableText(int32_t k) const {
    const int32_t* entry = strings.out + 1 + 4 * k;
    const uint8_t* from = entry[0] == 0 ? strings.chunk : strings.side;
    return std::string_view(reinterpret_cast<const char*>(from + entry[1]), entry[2] - entry[1]);
  }

  // The slot of the course whose raw id (a context.course_id or a guessed id) is string k:
  // chunkTasks.ts keys builders by ids.ts slashCourseId of it.
  int32_t courseSlot(int32_t k) {
    reach(k);
    if (courseOf[k] >= 0) return courseOf[k];
    const std::string_view raw = tableText(k);
    slashCourseId(raw.data(), raw.size(), slash);
    int32_t c = -1;
    for (size_t i = 0; i < used && c < 0; i++)
      if (courses[i].id == slash) c = static_cast<int32_t>(i);
    if (c < 0) {
      if (used == courses.size()) courses.emplace_back();
      c = static_cast<int32_t>(used++);
      courses[c].id = slash;
    }
    return courseOf[k] = c;
  }

  // String k's index in course c's strings, added there on first use (FactsBuilder.intern).
  uint32_t intern(int32_t c, int32_t k) {
    reach(k);
    const int32_t owner = ownerOf[k];
    if (owner == c) return static_cast<uint32_t>(localOf[k]);
    std::vector<int32_t>& list = courses[c].strings;
    const uint32_t next = static_cast<uint32_t>(list.size());
    uint32_t local = next;
    if (owner >= 0) {
      // another course holds the fast slot: keep its index in the map, and look for ours there
      bool found;
      shared.findOrInsert(static_cast<uint64_t>(owner), static_cast<uint64_t>(k), static_cast<uint32_t>(localOf[k]), found);
      local = shared.findOrInsert(static_cast<uint64_t>(c), static_cast<uint64_t>(k), next, found);
    }
    if (local == next) list.push_back(k);
    ownerOf[k] = c;
    localOf[k] = static_cast<int32_t>(local);
    return local;
  }

  // JSON text of string k (-1: null).
  void appendText(std::string& out, int32_t k) const {
    if (k < 0) {
      out += "null";
      return;
    }
    const std::string_view s = tableText(k);
    appendJsString(s, out);
  }

  // A row's next member: `,"key":` and its value (string k, a number — NaN: null —, a boolean).
  static void memberKey(std::string& out, const char* key) {
    out += ",\"";
    out += key;
    out += "\":";
  }
  void textMember(std::string& out, const char* key, int32_t k) const {
    memberKey(out, key);
    appendText(out, k);
  }
  static void numberMember(std::string& out, const char* key, double v) {
    memberKey(out, key);
    if (v != v) out += "null";
    else appendJsNumber(v, out);
  }
  static void boolMember(std::string& out, const char* key, bool v) {
    memberKey(out, key);
    out += v ? "true" : "false";
  }

  // The compact-table row lineFacts computed for the line (chunkTasks.ts NativeFacts.addPayloadRow:
  // the same members in the same order), appended to its table's rows.
  void addPayloadRow(CourseColumns& cc, const int32_t* rec, double timeUs) {
    const int kind = rec[kProblemState];
    std::string& out = kind == kProblemCheckFacts ? cc.problemCheck
                       : kind == kShowAnswerFacts ? cc.showAnswer
                       : kind == kForumFacts      ? cc.forum
                       : kind == kEnrollmentFacts ? cc.enrollment
                                                  : cc.transcript;
    if (!out.empty()) out += ',';
    out += "{\"username\":";
    appendText(out, rec[kFactsUser]);
    numberMember(out, "timeUs", timeUs);
    const int32_t* t = rec + kPayloadStrings;
    double n[kPayloadMaxNumbers];
    memcpy(n, rec + kPayloadNumbers, sizeof n);
    switch (kind) {
      case kProblemCheckFacts:
        textMember(out, "module_id", t[0]);
        textMember(out, "student_answers", t[1]);
        numberMember(out, "attempts", n[0]);
        textMember(out, "success", t[2]);
        numberMember(out, "grade", n[1]);
        numberMember(out, "max_grade", n[2]);
        break;
      case kShowAnswerFacts:
        textMember(out, "module_id", t[0]);
        break;
      case kTranscriptDownload:
        out += ",\"type\":\"transcript_download\",\"language\":null";
        break;
      case kTranscriptLanguage:
        out += ",\"type\":\"transcript_language\"";
        textMember(out, "language", t[0]);
        break;
      case kEnrollmentFacts: {
        const std::string_view type = t[1] >= 0 ? tableText(t[1]) : std::string_view();
        numberMember(out, "user_id", n[0]);
        textMember(out, "mode", t[0]);
        boolMember(out, "activated", type == "edx.course.enrollment.activated");
        boolMember(out, "deactivated", type == "edx.course.enrollment.deactivated");
        boolMember(out, "mode_changed", type == "edx.course.enrollment.mode_changed");
        boolMember(out, "upgraded", type == "edx.course.enrollment.upgrade.succeeded");
        textMember(out, "event_type", t[1]);
        break;
      }
      case kForumFacts:
        textMember(out, "forum_action", t[0]);
        textMember(out, "thread_id", t[1]);
        textMember(out, "subject", t[2]);
        textMember(out, "target_user_id", t[3]);
        textMember(out, "search_query", t[4]);
        textMember(out, "event_GET", t[5]);
        break;
    }
    out += '}';
  }

  // Adds the facts of the line whose scan record is `rec` (kFactsState 1, a course), as
  // chunkTasks.ts NativeFacts.add adds them; false when they must stay with JavaScript.
  bool add(const int32_t* rec) {
    const int32_t c = courseSlot(rec[kFactsCourse]);
    CourseColumns& cc = courses[c];
    if (cc.strings.size() + 3 > kMaxCourseStrings) return false;  // JavaScript's builder reports it
    double timeUs;
    memcpy(&timeUs, rec + kTimeValue, sizeof timeUs);
    const int32_t day = static_cast<int32_t>(std::floor(timeUs / kMicrosPerDay));
    cc.events++;
    if (cc.days.empty() || day != cc.lastDay) {
      cc.lastDay = day;
      if (std::find(cc.days.begin(), cc.days.end(), day) == cc.days.end()) cc.days.push_back(day);
    }
    uint32_t user = kNullString;
    const bool named = rec[kFactsNamed] == 1;
    if (named) {
      user = intern(c, rec[kFactsUser]);
      const int32_t ipIdx = rec[kFactsIp];
      const uint32_t ip = ipIdx < 0 ? kNullString : intern(c, ipIdx);
      bool found;
      const uint64_t a = (static_cast<uint64_t>(c) << 32) | static_cast<uint32_t>(day);
      const uint64_t b = (static_cast<uint64_t>(user) << 32) | ip;
      const uint32_t at = ipCounts.findOrInsert(a, b, static_cast<uint32_t>(cc.ipUser.size()), found);
      if (found) {
        cc.ipCount[at]++;
      } else {
        cc.ipUser.push_back(user);
        cc.ipIp.push_back(ip);
        cc.ipDay.push_back(day);
        cc.ipCount.push_back(1);
      }
      const int32_t flags = rec[kFactsFlags];
      if (flags >= 0) {
        cc.baseUser.push_back(user);
        cc.baseTime.push_back(timeUs);
        cc.baseFlags.push_back(static_cast<uint16_t>(flags));
      }
    }
    const int32_t videoType = rec[kFactsVideoType];
    if (videoType >= 0) {
      const int32_t u = rec[kFactsUser];
      const int32_t v = rec[kFactsVideoId];
      double position, speed;
      memcpy(&position, rec + kFactsPosition, sizeof position);
      memcpy(&speed, rec + kFactsSpeed, sizeof speed);
      cc.videoUser.push_back(named ? user : u < 0 ? kNullString : intern(c, u));
      cc.videoId.push_back(v < 0 ? kNullString : intern(c, v));
      cc.videoTime.push_back(timeUs);
      cc.videoType.push_back(static_cast<uint8_t>(videoType));
      cc.videoPosition.push_back(position);
      cc.videoSpeed.push_back(speed);
    }
    const int kind = rec[kProblemState];
    if (kind >= kProblemCheckFacts && kind <= kEnrollmentFacts) addPayloadRow(cc, rec, timeUs);
    return true;
  }

  // The meta of course c's record (factsFile.ts encodeMeta: the batch without its columns, with
  // their lengths).
  void encodeMeta(const CourseColumns& cc) {
    meta.clear();
    meta += "{\"course\":";
    appendJsString(cc.id, meta);
    meta += ",\"days\":[";
    for (size_t i = 0; i < cc.days.size(); i++) {
      if (i > 0) meta += ',';
      appendJsNumber(cc.days[i], meta);
    }
    meta += "],\"strings\":[";
    for (size_t i = 0; i < cc.strings.size(); i++) {
      if (i > 0) meta += ',';
      const std::string_view s = tableText(cc.strings[i]);
      appendJsString(s, meta);
    }
    meta += "],\"forum\":[";
    meta += cc.forum;
    meta += "],\"problemCheck\":[";
    meta += cc.problemCheck;
    meta += "],\"showAnswer\":[";
    meta += cc.showAnswer;
    meta += "],\"enrollment\":[";
    meta += cc.enrollment;
    meta += "],\"transcript\":[";
    meta += cc.transcript;
    meta += "],\"counts\":[";
    appendJsNumber(static_cast<double>(cc.baseUser.size()), meta);
    meta += ',';
    appendJsNumber(static_cast<double>(cc.ipUser.size()), meta);
    meta += ',';
    appendJsNumber(static_cast<double>(cc.videoUser.size()), meta);
    meta += "]}";
  }

  static size_t columnBytes(const CourseColumns& cc) {
    return cc.baseUser.size() * 14 + cc.ipUser.size() * 16 + cc.videoUser.size() * 33;
  }

  // Writes the records (courses in id order) and then the index: int32 [courses, then per
  // course: record offset, events, days, the days]. Returns the records' length, or minus the
  // whole length when `cap` is too small (nothing useful written then).
  int64_t encode(uint8_t* out, size_t cap) {
    std::vector<int32_t> order(used);
    for (size_t i = 0; i < used; i++) order[i] = static_cast<int32_t>(i);
    std::sort(order.begin(), order.end(), [&](int32_t x, int32_t y) { return courses[x].id < courses[y].id; });
    std::vector<int32_t> index{static_cast<int32_t>(used)};
    size_t at = 0;
    bool fits = true;
    for (const int32_t c : order) {
      CourseColumns& cc = courses[c];
      std::sort(cc.days.begin(), cc.days.end());
      encodeMeta(cc);
      const size_t body = 4 + meta.size() + columnBytes(cc);
      const size_t record = 6 + cc.id.size() + body;
      index.push_back(static_cast<int32_t>(at));
      index.push_back(static_cast<int32_t>(cc.events));
      index.push_back(static_cast<int32_t>(cc.days.size()));
      index.insert(index.end(), cc.days.begin(), cc.days.end());
      if (fits && at + record <= cap) {
        uint8_t* p = out + at;
        const uint32_t length = static_cast<uint32_t>(record - 4);
        const uint16_t idLength = static_cast<uint16_t>(cc.id.size());
        const uint32_t metaLength = static_cast<uint32_t>(meta.size());
        memcpy(p, &length, 4);
        memcpy(p + 4, &idLength, 2);
        memcpy(p + 6, cc.id.data(), cc.id.size());
        p += 6 + cc.id.size();
        memcpy(p, &metaLength, 4);
        memcpy(p + 4, meta.data(), meta.size());
        p += 4 + meta.size();
        putColumn(p, cc.baseUser), putColumn(p, cc.baseTime), putColumn(p, cc.baseFlags);
        putColumn(p, cc.ipUser), putColumn(p, cc.ipIp), putColumn(p, cc.ipDay), putColumn(p, cc.ipCount);
        putColumn(p, cc.videoUser), putColumn(p, cc.videoId), putColumn(p, cc.videoTime), putColumn(p, cc.videoType);
        putColumn(p, cc.videoPosition), putColumn(p, cc.videoSpeed);
      } else {
        fits = false;
      }
      at += record;
    }
    const size_t total = at + 4 * index.size();
    if (!fits || total > cap) return -static_cast<int64_t>(total);
    memcpy(out + at, index.data(), 4 * index.size());
    return static_cast<int64_t>(at);
  }
};

thread_local ChunkFacts chunkFacts;

// Adds the facts of the line whose scan record is `rec` when they may be built here (see the top).
inline void buildLineFacts(ChunkFacts& facts, int32_t* rec) {
  if (rec[kFactsState] == 1 && rec[kFactsCourse] >= 0 && facts.add(rec)) rec[kFactsState] = 2;
}

// takeFacts(out: Uint8Array) → the facts of the last scanChunk or rewriteChunk call made with
// buildFacts, as ChunkFacts.encode writes them: the records' length (the index follows them), or
// minus the length needed when `out` is too small. Throws when that call did not build facts.
napi_value TakeFacts(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type types[1] = {napi_uint8_array};
  void* d[1];
  size_t len[1];
  if (!typedArrays(env, info, 1, types, d, len)) {
    napi_throw_type_error(env, nullptr, "takeFacts(out: Uint8Array)");
    return nullptr;
  }
  ChunkFacts& facts = chunkFacts;
  if (!facts.on) {
    napi_throw_error(env, nullptr, "takeFacts: the last chunk was scanned without buildFacts");
    return nullptr;
  }
  const int64_t n = facts.encode(static_cast<uint8_t*>(d[0]), len[0]);
  if (n > INT32_MAX || n < -static_cast<int64_t>(INT32_MAX)) {
    napi_throw_range_error(env, nullptr, "takeFacts: facts larger than 2 GB");
    return nullptr;
  }
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(n), &result);
  return result;
}

