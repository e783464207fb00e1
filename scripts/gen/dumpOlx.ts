/**
 * Course content of the research dump: the course layout (chapters → sequentials → verticals →
 * problem / video / html / discussion) built around the world's own chapter, sequential, problem and
 * video ids, written as an OLX export tarball and as `course_structure-prod-analytics.json`.
 */
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Rng } from './rng.ts';
import type { Course, Problem, Video } from './world.ts';
import { isoZ } from './dumpTsv.ts';

const DAY_MS = 86_400_000;

export type Leaf =
  | { type: 'problem'; id: string; problem: Problem; weight: number | null }
  | { type: 'video'; id: string; video: Video }
  | { type: 'html'; id: string; name: string; iframe: string }
  | { type: 'discussion'; id: string; discussionId: string; category: string; target: string };

export interface Vertical {
  id: string;
  name: string;
  leaves: Leaf[];
}

export interface SeqLayout {
  id: string;
  name: string;
  format: 'Homework' | 'Exam' | null;
  due: number | null;
  verticals: Vertical[];
}

export interface ChapterLayout {
  id: string;
  name: string;
  start: number;
  /** The display name is in the policy file only, not in chapter/<id>.xml. */
  nameInPolicyOnly: boolean;
  seqs: SeqLayout[];
}

export interface CourseLayout {
  course: Course;
  name: string;
  start: number;
  end: number;
  enrollmentStart: number;
  chapters: ChapterLayout[];
  cutoffs: Record<string, number>;
  homeworkCount: number;
  examCount: number;
}

const TITLES = ['Introduction', 'Fundamentals', 'Conservation Laws', 'Análisis de datos', 'Recursion', 'Linear Systems', 'Probabilité', 'Review', 'Final Project', 'Ω and Beyond'];

/** Grade cutoffs by course index: a `Pass` cutoff, letter grades, another `Pass`. */
function cutoffsFor(index: number): Record<string, number> {
  switch (index % 3) {
    case 0:
      return { Pass: 0.5 };
    case 1:
      return { A: 0.9, B: 0.8, C: 0.65 };
    default:
      return { Pass: 0.6 };
  }
}

export function buildLayout(rng: Rng, C: Course, logStartMs: number): CourseLayout {
  const readable = C.form === 'slash' && C.index % 4 === 0; // as world.ts: readable url_names
  const start = logStartMs - (21 + rng.int(20)) * DAY_MS + 15 * 3_600_000;
  const chapters: ChapterLayout[] = [];
  // the last sequential of each chapter is its problem set (graded); the others hold the lectures
  const lectureVerticals: Vertical[] = [];
  const problemVerticals: Vertical[] = [];
  const psets: Array<[SeqLayout, ChapterLayout]> = [];
  let seqIdx = 0;
  C.chapters.forEach((ch, c) => {
    const chStart = start + c * 7 * DAY_MS;
    const chapter: ChapterLayout = { id: ch, name: `Week ${c + 1}: ${TITLES[c % TITLES.length]}`, start: chStart, nameInPolicyOnly: c === 0 && C.index % 2 === 0, seqs: [] };
    const mine = C.sequentials.filter((s) => s.chapter === ch);
    mine.forEach((s, k) => {
      seqIdx++;
      const pset = k === mine.length - 1;
      const vs: Vertical[] = [];
      for (let u = 0; u < s.nUnits; u++) {
        const v: Vertical = { id: readable ? `Unit_${c + 1}_${k + 1}_${u + 1}` : rng.hex(32), name: `Unit ${u + 1}`, leaves: [] };
        vs.push(v);
        (pset ? problemVerticals : lectureVerticals).push(v);
      }
      const seq: SeqLayout = { id: s.id, name: pset ? `Problem Set ${c + 1}` : `Lecture ${c + 1}.${k + 1}`, format: null, due: null, verticals: vs };
      chapter.seqs.push(seq);
      if (pset) psets.push([seq, chapter]);
    });
    chapters.push(chapter);
  });
  if (seqIdx !== C.sequentials.length) throw new Error('buildLayout: sequentials out of chapter order');
  // videos and problems, in order, spread over their verticals (so Problem 1 is in week 1)
  const spread = <T>(items: readonly T[], vs: Vertical[], leaf: (x: T) => Leaf): void => {
    items.forEach((x, k) => vs[Math.min(vs.length - 1, Math.floor(((k + 0.5) * vs.length) / items.length))]!.leaves.push(leaf(x)));
  };
  spread(C.videos, lectureVerticals.length > 0 ? lectureVerticals : problemVerticals, (v) => ({ type: 'video', id: v.id, video: v }));
  spread(C.problems, problemVerticals, (p) => ({ type: 'problem', id: p.id, problem: p, weight: rng.chance(0.3) ? rng.range(1, 10) : null }));
  const verticals = [...lectureVerticals, ...problemVerticals];
  for (const v of verticals) {
    if (v.leaves.length === 0 || rng.chance(0.3)) {
      const id = readable ? `${v.id}_html` : rng.hex(32);
      v.leaves.unshift({ type: 'html', id, name: 'Text', iframe: rng.chance(0.15) ? rng.youtube() : '' });
    }
  }
  // inline discussions with the world's discussion ids (the forum's commentable_id)
  const nV = lectureVerticals.length > 0 ? lectureVerticals : verticals;
  C.commentables.slice(1).forEach((d, k) => {
    const v = nV[Math.floor(((k + 0.5) * nV.length) / (C.commentables.length - 1))]!;
    v.leaves.push({ type: 'discussion', id: readable ? `Discussion_${k + 1}` : rng.hex(32), discussionId: d, category: `Week ${k + 1}`, target: `Discussion ${k + 1}` });
  });
  // graded: the problem sets with problems; the last one (and a midterm in long courses) are exams
  const graded = psets.filter(([s]) => s.verticals.some((v) => v.leaves.some((l) => l.type === 'problem')));
  graded.forEach(([s, ch], k) => {
    const exam = graded.length > 1 && (k === graded.length - 1 || (graded.length >= 6 && k === Math.floor(graded.length / 2)));
    s.format = exam ? 'Exam' : 'Homework';
    if (exam) s.name = k === graded.length - 1 ? 'Final Exam' : 'Midterm Exam';
    s.due = ch.start + 14 * DAY_MS + (23 * 60 + 59) * 60_000 - 15 * 3_600_000;
  });
  const end = start + (C.chapters.length * 7 + 28) * DAY_MS;
  return {
    course: C,
    name: `${C.number}: ${TITLES[C.index % TITLES.length]} (${C.run})`,
    start,
    end,
    enrollmentStart: start - 90 * DAY_MS,
    chapters,
    cutoffs: cutoffsFor(C.index),
    homeworkCount: graded.filter(([s]) => s.format === 'Homework').length,
    examCount: graded.filter(([s]) => s.format === 'Exam').length,
  };
}

// ------------------------------------------------------------------------------------------ keys
export function blockKey(C: Course, type: string, id: string): string {
  if (C.form === 'slash') return type === 'course' ? `i4x://${C.org}/${C.number}/course/${C.run}` : `i4x://${C.org}/${C.number}/${type}/${id}`;
  return `block-v1:${C.org}+${C.number}+${C.run}+type@${type}+block@${type === 'course' ? 'course' : id}`;
}

// ------------------------------------------------------------------------------------------ XML
function xa(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function attrs(o: Record<string, string | number | null | undefined>): string {
  let s = '';
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) s += ` ${k}="${xa(String(v))}"`;
  return s;
}

const CHOICES = ['Energy is conserved', 'Momentum is conserved', 'Neither', 'Both'];

function responseXml(rt: string, k: number): string {
  switch (rt) {
    case 'multiplechoiceresponse':
      return `  <multiplechoiceresponse>\n    <choicegroup type="MultipleChoice">\n${CHOICES.map((c, i) => `      <choice correct="${i === k % 4}">${xa(c)}</choice>\n`).join('')}    </choicegroup>\n  </multiplechoiceresponse>\n`;
    case 'choiceresponse':
      return `  <choiceresponse>\n    <checkboxgroup>\n${CHOICES.map((c, i) => `      <choice correct="${i % 2 === 0}">${xa(c)}</choice>\n`).join('')}    </checkboxgroup>\n  </choiceresponse>\n`;
    case 'numericalresponse':
      return `  <numericalresponse answer="${10 + k}">\n    <responseparam type="tolerance" default="5%"/>\n    <formulaequationinput/>\n  </numericalresponse>\n`;
    case 'optionresponse':
      return `  <optionresponse>\n    <optioninput options="('Option A','Option B','True','False')" correct="Option A"/>\n  </optionresponse>\n`;
    case 'stringresponse':
      return `  <stringresponse answer="Newton" type="ci">\n    <additional_answer answer="naïve"/>\n    <textline size="20"/>\n  </stringresponse>\n`;
    case 'formularesponse':
      return `  <formularesponse answer="x^2+1" samples="x@1:5#10">\n    <responseparam type="tolerance" default="0.01"/>\n    <formulaequationinput/>\n  </formularesponse>\n`;
    default:
      return `  <customresponse cfn="check_answer">\n    <textline size="40"/>\n  </customresponse>\n`;
  }
}

function problemXml(p: Problem, weight: number | null, k: number): string {
  const custom = p.responseTypes.includes('customresponse');
  let s = `<problem${attrs({ display_name: p.displayName, markdown: 'null', weight, max_attempts: k % 3 === 0 ? 3 : null, showanswer: k % 4 === 0 ? 'past_due' : null })}>\n`;
  if (custom) s += `  <script type="loncapa/python">\ndef check_answer(expect, ans):\n    return ans.strip() != ""\n</script>\n`;
  s += `  <p>${xa(p.displayName)}: answer every part. Use SI units &amp; show your work.</p>\n`;
  if (k % 5 === 0) s += `  <p><img src="/static/figure_${k}.png" alt="figure"/></p>\n`;
  p.responseTypes.forEach((rt, i) => (s += responseXml(rt, k + i)));
  if (k % 2 === 0) s += `  <solution>\n    <div class="detailed-solution">\n      <p>Explanation</p>\n      <p>The answer follows from conservation of energy; see the lecture notes for the derivation.</p>\n    </div>\n  </solution>\n`;
  return s + '</problem>\n';
}

function videoXml(v: Video): string {
  return `<video${attrs({ display_name: v.displayName, youtube: `0.75:${v.youtube.slice(0, 10)}A,1.00:${v.youtube}`, youtube_id_1_0: v.youtube, sub: v.youtube, download_video: 'true', show_captions: 'true' })}>\n  <source src="https://s3.amazonaws.com/edx-course-videos/${v.id}.mp4"/>\n  <transcript language="es" src="${v.id}-es.srt"/>\n</video>\n`;
}

function leafRef(l: Leaf): string {
  switch (l.type) {
    case 'discussion':
      return `  <discussion${attrs({ url_name: l.id, discussion_id: l.discussionId, discussion_category: l.category, discussion_target: l.target, display_name: 'Discussion' })}/>\n`;
    default:
      return `  <${l.type} url_name="${xa(l.id)}"/>\n`;
  }
}

/** Files of the OLX export, path (under the root) → content, in tar order. */
export function olxFiles(L: CourseLayout): Array<[string, string]> {
  const C = L.course;
  const files: Array<[string, string]> = [];
  files.push(['course.xml', `<course${attrs({ url_name: C.run, org: C.org, course: C.number })}/>\n`]);
  let body = `<course${attrs({ display_name: L.name, start: isoZ(L.start), end: isoZ(L.end), enrollment_start: isoZ(L.enrollmentStart), course_image: 'images_course_image.jpg' })}>\n`;
  for (const ch of L.chapters) body += `  <chapter url_name="${xa(ch.id)}"/>\n`;
  body += `  <wiki slug="${xa(`${C.org}.${C.number}.${C.run}`)}"/>\n</course>\n`;
  files.push([`course/${C.run}.xml`, body]);
  let pk = 0;
  for (const ch of L.chapters) {
    let x = `<chapter${attrs({ display_name: ch.nameInPolicyOnly ? null : ch.name, start: isoZ(ch.start) })}>\n`;
    for (const s of ch.seqs) x += `  <sequential url_name="${xa(s.id)}"/>\n`;
    files.push([`chapter/${ch.id}.xml`, x + '</chapter>\n']);
  }
  for (const ch of L.chapters) {
    for (const s of ch.seqs) {
      let x = `<sequential${attrs({ display_name: s.name, graded: s.format ? 'true' : null, format: s.format, due: s.due === null ? null : isoZ(s.due) })}>\n`;
      for (const v of s.verticals) x += `  <vertical url_name="${xa(v.id)}"/>\n`;
      files.push([`sequential/${s.id}.xml`, x + '</sequential>\n']);
    }
  }
  for (const ch of L.chapters) {
    for (const s of ch.seqs) {
      for (const v of s.verticals) {
        files.push([`vertical/${v.id}.xml`, `<vertical${attrs({ display_name: v.name })}>\n${v.leaves.map(leafRef).join('')}</vertical>\n`]);
        for (const l of v.leaves) {
          if (l.type === 'problem') files.push([`problem/${l.id}.xml`, problemXml(l.problem, l.weight, pk++)]);
          else if (l.type === 'video') files.push([`video/${l.id}.xml`, videoXml(l.video)]);
          else if (l.type === 'html') {
            files.push([`html/${l.id}.xml`, `<html${attrs({ filename: l.id, display_name: l.name })}/>\n`]);
            const iframe = l.iframe ? `\n<iframe width="560" height="315" src="https://www.youtube.com/embed/${l.iframe}" frameborder="0"></iframe>` : '';
            files.push([`html/${l.id}.html`, `<h2>${xa(v.name)}</h2>\n<p>Read the notes before the lecture — les notes sont en français aussi.</p>${iframe}\n`]);
          }
        }
      }
    }
  }
  const policy: Record<string, unknown> = {
    [`course/${C.run}`]: {
      display_name: L.name,
      start: isoZ(L.start),
      end: isoZ(L.end),
      enrollment_start: isoZ(L.enrollmentStart),
      discussion_topics: { General: { id: 'course' } },
      tabs: [{ type: 'courseware', name: 'Courseware' }, { type: 'course_info', name: 'Course Info' }, { type: 'discussion', name: 'Discussion' }, { type: 'wiki', name: 'Wiki' }, { type: 'progress', name: 'Progress' }],
      graceperiod: '',
      advanced_modules: [],
      cert_html_view_enabled: true,
    },
  };
  for (const ch of L.chapters) if (ch.nameInPolicyOnly) policy[`chapter/${ch.id}`] = { display_name: ch.name };
  files.push([`policies/${C.run}/policy.json`, JSON.stringify(policy, null, 4) + '\n']);
  const grading = {
    GRADER: [
      { type: 'Homework', min_count: L.homeworkCount, drop_count: L.homeworkCount > 2 ? 1 : 0, short_label: 'HW', weight: L.examCount > 0 ? 0.6 : 1.0 },
      ...(L.examCount > 0 ? [{ type: 'Exam', min_count: L.examCount, drop_count: 0, short_label: 'Exam', weight: 0.4 }] : []),
    ],
    GRADE_CUTOFFS: L.cutoffs,
  };
  files.push([`policies/${C.run}/grading_policy.json`, JSON.stringify(grading, null, 4) + '\n']);
  files.push(['policies/assets.json', '{}\n']);
  return files;
}

/** The OLX export as tar.gz bytes, under the top-level directory `course/`, every entry dated `mtimeMs`. */
export async function olxTarGz(L: CourseLayout, mtimeMs: number): Promise<Buffer> {
  const pack = tar.pack();
  const mtime = new Date(Math.floor(mtimeMs / 1000) * 1000);
  const root = 'course';
  const dirs = new Set<string>();
  const owner = { uid: 1000, gid: 1000, uname: 'edxapp', gname: 'edxapp', mtime };
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  const addDir = (d: string): void => {
    if (dirs.has(d)) return;
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    if (parent) addDir(parent);
    dirs.add(d);
    pack.entry({ name: d + '/', type: 'directory', mode: 0o755, ...owner });
  };
  addDir(root);
  for (const [rel, text] of olxFiles(L)) {
    const path = `${root}/${rel}`;
    addDir(path.slice(0, path.lastIndexOf('/')));
    pack.entry({ name: path, mode: 0o644, ...owner }, Buffer.from(text, 'utf8'));
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}

/** `course_structure-prod-analytics.json`: block key → {category, children, metadata}. */
export function courseStructure(L: CourseLayout): string {
  const C = L.course;
  const out: Record<string, { category: string; children: string[]; metadata: Record<string, unknown> }> = {};
  const key = (t: string, id: string): string => blockKey(C, t, id);
  out[key('course', C.run)] = {
    category: 'course',
    children: L.chapters.map((ch) => key('chapter', ch.id)),
    metadata: { display_name: L.name, start: isoZ(L.start), end: isoZ(L.end) },
  };
  for (const ch of L.chapters) {
    out[key('chapter', ch.id)] = { category: 'chapter', children: ch.seqs.map((s) => key('sequential', s.id)), metadata: { display_name: ch.name, start: isoZ(ch.start) } };
    for (const s of ch.seqs) {
      const md: Record<string, unknown> = { display_name: s.name };
      if (s.format) Object.assign(md, { format: s.format, graded: true, due: isoZ(s.due!) });
      out[key('sequential', s.id)] = { category: 'sequential', children: s.verticals.map((v) => key('vertical', v.id)), metadata: md };
      for (const v of s.verticals) {
        out[key('vertical', v.id)] = { category: 'vertical', children: v.leaves.map((l) => key(l.type, l.id)), metadata: { display_name: v.name } };
        for (const l of v.leaves) {
          const md2: Record<string, unknown> =
            l.type === 'problem' ? { display_name: l.problem.displayName, ...(l.weight !== null ? { weight: l.weight } : {}) }
            : l.type === 'video' ? { display_name: l.video.displayName, youtube_id_1_0: l.video.youtube }
            : l.type === 'html' ? { display_name: l.name }
            : { display_name: 'Discussion', discussion_id: l.discussionId, discussion_category: l.category, discussion_target: l.target };
          out[key(l.type, l.id)] = { category: l.type, children: [], metadata: md2 };
        }
      }
    }
  }
  return JSON.stringify(out, null, 2) + '\n';
}
