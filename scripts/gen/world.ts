/**
 * The synthetic world: courses with a small structure, learners with enrollments, staff.
 * Built once per run from the seed; days mutate only the enrollment state.
 */
import { Rng, Weighted } from './rng.ts';

export type KeyForm = 'slash' | 'opaque';

export interface Block {
  id: string; // url_name / block id
  key: string; // i4x://ORG/NUM/TYPE/ID or block-v1:ORG+NUM+RUN+type@TYPE+block@ID
  xblockPath: string; // the `<usage>` part of `/courses/<course>/xblock/<usage>/handler/...`
  displayName: string;
}

export interface Problem extends Block {
  /** JSON text of displayName with non-ASCII escaped, without the quotes. */
  displayNameEsc: string;
  inputIdBase: string; // what precedes `_2_1` in input names: hex id (opaque) or i4x-ORG-NUM_-problem-ID (slash)
  nInputs: number;
  responseTypes: string[]; // per input
  maxGrade: number;
}

export interface Video extends Block {
  browserId: string; // `id` of browser video events
  youtube: string;
  duration: number; // seconds
}

export interface Sequential {
  chapter: string;
  id: string;
  nUnits: number;
  path: string; // /courses/<course>/courseware/<chapter>/<seq>/
  urlJ: string; // JSON literal of https://courses.edx.org + path
}

export interface Course {
  index: number;
  form: KeyForm;
  org: string;
  number: string;
  run: string;
  id: string; // as logged in context.course_id
  slashId: string; // ORG/NUM/RUN
  numberUnderscored: string; // NUM with . → _ (i4x html ids)
  chapters: string[];
  sequentials: Sequential[];
  problems: Problem[];
  videos: Video[];
  commentables: string[]; // discussion ids (forum "subject")
  threads: string[]; // existing thread ids (24 hex)
  comments: string[]; // existing response/comment ids
  /** Browser video events carry a `speed` field (newer player). */
  videoSpeedField: boolean;
  /** Video ids in browser events are full block-v1 keys (opaque courses only). */
  videoIdIsKey: boolean;
  /** JSON fragments precomputed for the hot path. */
  jId: string; // JSON string literal of id
  jOrg: string;
  courseUrl: string; // https://courses.edx.org/courses/<id>
  pathPrefix: string; // /courses/<id>
  popularity: number;
}

export interface Learner {
  index: number;
  username: string;
  userId: number;
  /** `"username": "…"` with raw UTF-8, and with Python-style \u escapes. */
  uRaw: string;
  uEsc: string;
  urlName: string; // username as it appears in a URL path
  ips: string[];
  agent: string; // JSON string literal (escaped)
  mobileAgent: string;
  mobileCtx: string; // `"application": {…}, "client": {…}` for mobile contexts
  acceptLanguage: string; // JSON string literal
  transcriptLang: string; // preferred translation language, '' = none
  mobile: boolean;
  activity: number;
  courses: number[]; // active enrollments (course indices)
  modes: string[]; // parallel to courses
  staff: boolean;
}

export interface World {
  org: string;
  orgDisplay: string;
  courses: Course[];
  learners: Learner[];
  staff: Learner[];
  learnerPicker: Weighted<number>;
  coursePicker: Weighted<number>;
}

const HOST = 'courses.edx.org';
export { HOST };

const NUMBERS = [
  '6.00x', '6.002x', '8.01x', '18.01x', '7.00x', '3.091x', '14.73x', '2.01x', '15.390x', '21W.789x',
  '6.041x', '11.126x', '12.340x', '16.110x', '24.00x', 'CTL.SC1x', '8.MReV', '6.SFMx', 'STS.300x', '6.00.2x_3',
];
const SLASH_RUNS = ['2015_Spring', '2014_Fall', '2015_Summer', '2013_Fall', '3T2014'];
const OPAQUE_RUNS = ['1T2015', '3T2014', '2T2015', '1T2014', 'T1_2015'];

const FIRST = ['alex', 'maria', 'wei', 'fatima', 'john', 'priya', 'lucas', 'emma', 'omar', 'yuki', 'sara', 'ivan', 'chen', 'ana', 'david', 'lea', 'mohammed', 'sofia', 'raj', 'nina'];
const UNICODE_NAMES = ['josé_ü', '学生', 'Дмитрий_', 'zoë.müller', 'محمد', 'ñandú_', 'Ærøskøbing', 'đức', 'åsa-björk', 'たろう', 'Σωκράτης', 'françois'];

const AGENTS = [
  'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.89 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.3; WOW64; rv:36.0) Gecko/20100101 Firefox/36.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_2) AppleWebKit/600.3.18 (KHTML, like Gecko) Version/8.0.3 Safari/600.3.18',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.76 Safari/537.36',
  'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)',
  'Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko',
  'Mozilla/5.0 (iPad; CPU OS 8_1_3 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Version/8.0 Mobile/12B466 Safari/600.1.4',
  'Mozilla/5.0 (Linux; Android 4.4.2; SM-T530 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.109 Safari/537.36',
  'Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/39.0.2171.95 Safari/537.36 OPR/26.0.1656.60',
];
const MOBILE_AGENTS = [
  'Dalvik/2.1.0 (Linux; U; Android 5.0.2; Nexus 5 Build/LRX22G) edX/org.edx.mobile/1.0.02',
  'edX/org.edx.mobile (1.1.3; OS Version 8.1.3 (Build 12B466))',
  'Dalvik/1.6.0 (Linux; U; Android 4.4.4; GT-I9505 Build/KTU84P) edX/org.edx.mobile/1.0.02',
];
const LANGS = [
  'en-US,en;q=0.8', 'en-us', 'en-US,en;q=0.5', 'es-ES,es;q=0.8,en-US;q=0.6,en;q=0.4', 'zh-CN,zh;q=0.8,en;q=0.6',
  'fr-FR,fr;q=0.8,en-US;q=0.6,en;q=0.4', 'pt-BR,pt;q=0.8,en-US;q=0.6', 'de-DE,de;q=0.8,en-US;q=0.6,en;q=0.4',
  'ru-RU,ru;q=0.8,en-US;q=0.6,en;q=0.4', 'hi-IN,hi;q=0.8,en;q=0.6', 'ar,en-US;q=0.7,en;q=0.3', 'ja,en-US;q=0.8,en;q=0.6',
];
const AGENTS_J = AGENTS.map((a) => JSON.stringify(a));
const MOBILE_AGENTS_J = MOBILE_AGENTS.map((a) => JSON.stringify(a));
/** The `application` and `client` members of a mobile event's context, matching the agent. */
const MOBILE_CTX = MOBILE_AGENTS.map((a) =>
  /Android/.test(a)
    ? `"application": {"name": "edx.mobileapp.android", "version": "1.0.02"}, "client": {"network": {"wifi": true, "cellular": false}, "os": {"name": "Android", "version": "${/Android ([\d.]+)/.exec(a)![1]}"}, "device": {"model": "Nexus 5"}}`
    : `"application": {"name": "edx.mobileapp.iOS", "version": "1.1.3"}, "client": {"network": {"wifi": false, "cellular": true}, "os": {"name": "iOS", "version": "8.1.3"}, "device": {"model": "iPhone7,2"}}`,
);
const LANGS_J = LANGS.map((a) => JSON.stringify(a));
const TRANSCRIPT_LANGS = ['es', 'zh', 'fr', 'pt', 'ar', 'hi', 'ru', 'de', 'ja'];
const RESPONSE_TYPES = ['multiplechoiceresponse', 'choiceresponse', 'numericalresponse', 'optionresponse', 'stringresponse', 'customresponse', 'formularesponse'];

/** JSON string literal with every non-ASCII character escaped, as Python's json.dumps writes it. */
/**
 * A flat (sequential) copy of a string built by concatenation. Pieces that are reused in millions
 * of lines are flattened once, so that writing a line does not walk their rope every time.
 */
export function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

const NON_ASCII = /[\u007f-\uffff]/;
const NON_ASCII_G = /[\u007f-\uffff]/g;
export function jsonAscii(s: string): string {
  return asciiEscape(JSON.stringify(s));
}

/** Replace every non-ASCII UTF-16 unit of JSON text by its \\uXXXX escape. */
export function asciiEscape(j: string): string {
  return NON_ASCII.test(j) ? j.replace(NON_ASCII_G, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : j;
}

function orgDisplayName(org: string): string {
  const known: Record<string, string> = { mitx: 'MITx', harvardx: 'HarvardX', berkeleyx: 'BerkeleyX', edx: 'edX' };
  return known[org.toLowerCase()] ?? org;
}

function makeCourse(rng: Rng, index: number, org: string): Course {
  const form: KeyForm = index % 2 === 0 ? 'slash' : 'opaque';
  const base = NUMBERS[index % NUMBERS.length]!;
  const number = index < NUMBERS.length ? base : `${base}${Math.floor(index / NUMBERS.length) + 1}`;
  const run = form === 'slash' ? SLASH_RUNS[index % SLASH_RUNS.length]! : OPAQUE_RUNS[index % OPAQUE_RUNS.length]!;
  const slashId = flat(`${org}/${number}/${run}`);
  const id = form === 'slash' ? slashId : flat(`course-v1:${org}+${number}+${run}`);
  const numberUnderscored = number.replace(/\./g, '_');
  const readable = form === 'slash' && index % 4 === 0; // some old courses used readable url_names
  const blockKey = (type: string, bid: string): string =>
    form === 'slash' ? `i4x://${org}/${number}/${type}/${bid}` : `block-v1:${org}+${number}+${run}+type@${type}+block@${bid}`;
  const xblockPath = (type: string, bid: string): string =>
    form === 'slash' ? `i4x:;_;_${org};_${number};_${type};_${bid}` : blockKey(type, bid);

  const nCh = rng.range(4, 8);
  const chapters: string[] = [];
  const sequentials: Sequential[] = [];
  for (let c = 0; c < nCh; c++) {
    const ch = readable ? `Week_${c + 1}` : rng.hex(32);
    chapters.push(ch);
    const nSeq = rng.range(2, 5);
    for (let s = 0; s < nSeq; s++) {
      const sid = readable ? `Lecture_${c + 1}_${s + 1}` : rng.hex(32);
      const path = flat(`/courses/${id}/courseware/${ch}/${sid}/`);
      sequentials.push({ chapter: ch, id: sid, nUnits: rng.range(2, 9), path, urlJ: flat(JSON.stringify(`https://${HOST}${path}`)) });
    }
  }
  const problems: Problem[] = [];
  const nProb = rng.range(12, 40);
  for (let p = 0; p < nProb; p++) {
    const bid = readable ? `Problem_${p + 1}` : rng.hex(32);
    const nInputs = rng.chance(0.6) ? 1 : rng.range(2, 6);
    const pname = rng.chance(0.2) ? `Ejercicio ${p + 1}: análisis` : `Problem ${p + 1}`;
    const responseTypes: string[] = [];
    for (let k = 0; k < nInputs; k++) responseTypes.push(rng.pick(RESPONSE_TYPES));
    problems.push({
      id: bid,
      key: flat(blockKey('problem', bid)),
      xblockPath: flat(xblockPath('problem', bid)),
      displayName: pname,
      displayNameEsc: jsonAscii(pname).slice(1, -1),
      inputIdBase: flat(form === 'slash' ? `i4x-${org}-${numberUnderscored}-problem-${bid}` : bid),
      nInputs,
      responseTypes,
      maxGrade: nInputs,
    });
  }
  const videos: Video[] = [];
  const nVid = rng.range(10, 30);
  const videoIdIsKey = form === 'opaque' && index % 4 === 3;
  for (let v = 0; v < nVid; v++) {
    const bid = readable ? `Video_${v + 1}` : rng.hex(32);
    const key = flat(blockKey('video', bid));
    videos.push({
      id: bid,
      key,
      xblockPath: flat(xblockPath('video', bid)),
      displayName: `Lecture video ${v + 1}`,
      browserId: flat(form === 'slash' ? `i4x-${org}-${numberUnderscored}-video-${bid}` : videoIdIsKey ? key : bid),
      youtube: rng.youtube(),
      duration: rng.range(180, 1500),
    });
  }
  const commentables: string[] = ['course'];
  for (let k = 0; k < 6; k++) commentables.push(form === 'slash' ? `i4x-${org}-${numberUnderscored}-course-${run}_${k}` : rng.hex(40));
  const threads: string[] = [];
  const nThreads = rng.range(40, 150);
  for (let k = 0; k < nThreads; k++) threads.push('54' + rng.hex(22));
  const comments: string[] = [];
  for (let k = 0; k < nThreads * 2; k++) comments.push('55' + rng.hex(22));

  return {
    index, form, org, number, run, id, slashId, numberUnderscored,
    chapters, sequentials, problems, videos, commentables, threads, comments,
    videoSpeedField: index % 3 === 1,
    videoIdIsKey,
    jId: flat(JSON.stringify(id)),
    jOrg: flat(JSON.stringify(org)),
    courseUrl: flat(`https://${HOST}/courses/${id}`),
    pathPrefix: flat(`/courses/${id}`),
    popularity: 1 / (1 + index * 0.35),
  };
}

function makeIp(rng: Rng): string {
  if (rng.chance(0.02)) return `2001:db8:${rng.hex(4)}:${rng.hex(4)}::${rng.hex(3)}`;
  return `${rng.range(1, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`;
}

function makeUsername(rng: Rng, i: number): string {
  const r = rng.next();
  if (r < 0.1) return `${rng.pick(UNICODE_NAMES)}${i}`;
  if (r < 0.5) return `${rng.pick(FIRST)}${i}`;
  if (r < 0.8) return `${rng.pick(FIRST)}_${rng.pick(FIRST)}${i}`;
  return `${rng.pick(FIRST)}.${rng.b62(3).toLowerCase()}${i}`;
}

function makeLearner(rng: Rng, i: number, username: string, userId: number, sharedIps: string[], nCourses: number, coursePicker: Weighted<number>, staff: boolean): Learner {
  const ips: string[] = [];
  ips.push(rng.chance(0.08) ? rng.pick(sharedIps) : makeIp(rng));
  if (rng.chance(0.3)) ips.push(makeIp(rng));
  if (rng.chance(0.1)) ips.push(makeIp(rng));
  const courses: number[] = [];
  const modes: string[] = [];
  if (!staff) {
    const want = Math.min(nCourses, 1 + Math.floor(rng.exp(0.8)));
    for (let tries = 0; courses.length < want && tries < 20; tries++) {
      const c = coursePicker.index(rng);
      if (!courses.includes(c)) {
        courses.push(c);
        const r = rng.next();
        modes.push(r < 0.6 ? 'honor' : r < 0.85 ? 'audit' : 'verified');
      }
    }
  }
  const lang = rng.pick(LANGS);
  const mobileIdx = rng.int(MOBILE_AGENTS.length);
  const uRaw = flat(`"username": ${JSON.stringify(username)}`);
  const uEsc = flat(`"username": ${jsonAscii(username)}`);
  const transcriptLang = rng.chance(0.35) ? (lang.startsWith('en') ? rng.pick(TRANSCRIPT_LANGS) : lang.slice(0, 2)) : '';
  return {
    index: i,
    username,
    userId,
    uRaw,
    uEsc: uEsc === uRaw ? uRaw : uEsc,
    urlName: encodeURIComponent(username),
    ips,
    agent: rng.pick(AGENTS_J),
    mobileAgent: MOBILE_AGENTS_J[mobileIdx]!,
    mobileCtx: MOBILE_CTX[mobileIdx]!,
    acceptLanguage: LANGS_J[LANGS.indexOf(lang)]!,
    transcriptLang: transcriptLang === 'en' ? '' : transcriptLang,
    mobile: rng.chance(0.1),
    activity: 1 / Math.pow(1 - rng.next() * 0.999, 0.6), // heavy-tailed
    courses,
    modes,
    staff,
  };
}

export function buildWorld(seed: number, nCourses: number, nLearners: number, org: string): World {
  const rng = new Rng(seed);
  const crng = rng.fork('courses');
  const orgDisplay = orgDisplayName(org);
  const courses: Course[] = [];
  for (let i = 0; i < nCourses; i++) courses.push(makeCourse(crng, i, orgDisplay));
  const coursePicker = new Weighted(courses.map((c) => c.index), courses.map((c) => c.popularity));

  const lrng = rng.fork('learners');
  const sharedIps: string[] = [];
  for (let k = 0; k < 20; k++) sharedIps.push(makeIp(lrng));
  const learners: Learner[] = [];
  let uid = 1000;
  for (let i = 0; i < nLearners; i++) {
    uid += lrng.range(1, 7);
    learners.push(makeLearner(lrng, i, makeUsername(lrng, i), uid, sharedIps, nCourses, coursePicker, false));
  }
  const staff: Learner[] = [];
  for (let k = 0; k < 3; k++) staff.push(makeLearner(lrng, k, `staff_${orgDisplay.toLowerCase()}${k + 1}`, 10 + k, sharedIps, nCourses, coursePicker, true));
  const learnerPicker = new Weighted(learners.map((l) => l.index), learners.map((l) => l.activity));
  return { org, orgDisplay, courses, learners, staff, learnerPicker, coursePicker };
}

export { TRANSCRIPT_LANGS };
