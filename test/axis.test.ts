import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAxisFromStructureFile, buildAxisFromStructureJson, buildAxisFromTarball, buildAxisFromTarballBuffer, parseCourseId, type AxisBuild } from '../src/axis/build.ts';
import type { AxisRow } from '../src/axis/courseAxis.ts';
import { AxisInputError, AxisLog } from '../src/axis/errors.ts';
import { gradingPolicyColumnType, gradingPolicyTable } from '../src/axis/gradingPolicy.ts';
import { findAxisSource } from '../src/axis/sources.ts';
import { COURSE_AXIS_COLUMNS, loadAxis } from '../src/axis/tables.ts';
import { fixMojibake, formatMicros, parseOlxDate } from '../src/axis/values.ts';
import { runAxis } from '../src/commands/axis.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';

// Real course exports of other projects (AGPL test data): read from ../shared, never copied here.
const SHARED = path.resolve(import.meta.dirname, '../../shared/fixtures');
const DEMO_TARBALL = path.join(SHARED, 'openedx-demo-course/course.xml.tar.gz');
const DUMP = path.join(SHARED, 'edx-analytics-pipeline/research-dump');
const ACCEPTANCE_TARBALL = path.join(DUMP, 'edX-DemoX-Demo_Course-course-acceptance.xml.tar.gz');
const ACCEPTANCE_STRUCTURE = path.join(DUMP, 'edX-DemoX-Demo_Course-course_structure-acceptance.json');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-axis-'));
  dirs.push(d);
  return d;
}

/** A tar (gzipped unless told otherwise) of `files`, all under `root/`. */
async function tarball(files: Record<string, string>, { root = 'course', gzip = true } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const [name, body] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) => pack.entry({ name: root ? `${root}/${name}` : name }, body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  const tarBytes = Buffer.concat(chunks);
  return gzip ? gzipSync(tarBytes) : tarBytes;
}

function byUrl(rows: readonly AxisRow[], url: string): AxisRow {
  const r = rows.find((x) => x.url_name === url);
  if (!r) throw new Error(`no row ${url}`);
  return r;
}

function count(rows: readonly AxisRow[], category: string): number {
  return rows.filter((r) => r.category === category).length;
}

const ts = (us: number | null): string | null => (us === null ? null : formatMicros(us));

// ------------------------------------------------------------------------------------------------

describe.skipIf(!fs.existsSync(DEMO_TARBALL))('the Open edX demo course (real OLX export)', () => {
  let b: AxisBuild;
  const cid = 'course-v1:OpenedX+DemoX+DemoCourse';

  it('reads the run DemoCourse with its real chapters, in course order', async () => {
    b = await buildAxisFromTarball(DEMO_TARBALL, cid);
    expect(b.run).toBe('DemoCourse');
    expect(b.courseId).toBe('OpenedX/DemoX/DemoCourse');
    expect(b.rows.filter((r) => r.category === 'chapter').map((r) => r.name)).toEqual([
      'Module 1: Dive into the Open edX® platform!',
      'Module 2: Crafting Captivating Content',
      'Module 3: Ace the Assessments!',
      'Module 4: Social Learning: Engaging Through Interaction',
      'Module 5: Your Open edX Community',
      'Conclusion',
    ]);
  });

  it('has every sequential, vertical, problem, video and html of the export', () => {
    // counts read off the XML: 17 sequential/, 58 vertical/, 29 problem/ (23 in verticals + 6 in the
    // library_content), 11 video/, 266 <html> pointers in the verticals
    expect(count(b.rows, 'course')).toBe(1);
    expect(count(b.rows, 'chapter')).toBe(6);
    expect(count(b.rows, 'sequential')).toBe(17);
    expect(count(b.rows, 'vertical')).toBe(58);
    expect(count(b.rows, 'problem')).toBe(29);
    expect(count(b.rows, 'video')).toBe(11);
    expect(count(b.rows, 'html')).toBe(266);
    expect(count(b.rows, 'discussion')).toBe(0); // never visited
    expect(b.rows.map((r) => r.index)).toEqual(b.rows.map((_, i) => i + 1));
    expect(new Set(b.rows.map((r) => r.course_id))).toEqual(new Set(['OpenedX/DemoX/DemoCourse']));
  });

  it('course row: /1, the course display_name and start', () => {
    const c = b.rows[0] as AxisRow;
    expect(c).toMatchObject({ category: 'course', index: 1, url_name: 'DemoCourse', name: 'Open edX Demo Course', path: '/1', module_id: 'OpenedX/DemoX/course/DemoCourse', chapter_mid: null, parent: null, is_split: false });
    expect(ts(c.start)).toBe('2020-01-01 00:00:00');
    expect(c.due).toBeNull();
  });

  it('a chapter and its first sequential (not graded)', () => {
    const ch = byUrl(b.rows, '30b3fbb840024953b2d4b2e700a53002');
    expect(ch).toMatchObject({ index: 2, category: 'chapter', path: '/30b3fbb840024953b2d4b2e700a53002', module_id: 'OpenedX/DemoX/chapter/30b3fbb840024953b2d4b2e700a53002', chapter_mid: null, parent: 'DemoCourse' });
    const seq = byUrl(b.rows, '4e1de5e13fc3422997fe246b40a43aa1');
    expect(seq).toMatchObject({ category: 'sequential', name: 'Introduction to the Open edX® platform', path: '/30b3fbb840024953b2d4b2e700a53002/4e1de5e13fc3422997fe246b40a43aa1', gformat: '', graded: '', chapter_mid: 'OpenedX/DemoX/chapter/30b3fbb840024953b2d4b2e700a53002' });
    expect(ts(seq.start)).toBe('2020-01-01 00:00:00'); // inherited from the course
  });

  it('a known video: ytid from youtube="1.00:…" (bare id), path, parent', () => {
    const v = byUrl(b.rows, 'd5a54ce52f464acfa7a83ae155712cc3');
    expect(v).toMatchObject({
      category: 'video',
      name: 'The Purpose, Power and Reach of the Open edX® Platform',
      module_id: 'OpenedX/DemoX/video/d5a54ce52f464acfa7a83ae155712cc3',
      // chapter 30b3…, sequential 4e1de…, its 1st vertical, 2nd component
      path: '/30b3fbb840024953b2d4b2e700a53002/4e1de5e13fc3422997fe246b40a43aa1/1/2',
      data: { ytid: 'lVPPPpyUOR4' },
      parent: '78b75020d3894fdfa8b4994f97275294',
      chapter_mid: 'OpenedX/DemoX/chapter/30b3fbb840024953b2d4b2e700a53002',
    });
    expect(byUrl(b.rows, '078de40d92a54047b951a2e7a8e2a348').data).toEqual({ ytid: 'AOUEsgFrYeg' });
    // html5-only video (youtube_id_1_0="", no youtube attribute)
    expect(byUrl(b.rows, '2fe12c0703484743a51fe4612a640563').data).toBeNull();
  });

  it('html rows get the legacy sequential/<seq>/<position> module id', () => {
    expect(byUrl(b.rows, 'a01fc100e5e64fc5bbca09daa190cfee')).toMatchObject({
      category: 'html',
      name: 'Welcome to the Open edX® platform',
      module_id: 'OpenedX/DemoX/sequential/4e1de5e13fc3422997fe246b40a43aa1/1',
      path: '/30b3fbb840024953b2d4b2e700a53002/4e1de5e13fc3422997fe246b40a43aa1/1/1',
    });
  });

  it('a graded problem: format and graded from its sequential, itype from its response', () => {
    // problem 870b16e… is the 3rd child of vertical dacc88e… (2nd of sequential 276a277…, which has
    // format="Basic Assessment Tools" graded="true"), in chapter d678055… (Module 3)
    expect(byUrl(b.rows, '870b16e640d541af94a308caac834d2e')).toMatchObject({
      category: 'problem',
      name: 'Basic Multiple Choice',
      module_id: 'OpenedX/DemoX/problem/870b16e640d541af94a308caac834d2e',
      path: '/d6780558bc3042c7ab6dd441a06d3478/276a277f5a784f53a7525e28b96e9a1b/2/3',
      gformat: 'Basic Assessment Tools',
      graded: 'true',
      due: null,
      parent: 'dacc88e550bd48db93899979bff1b086',
      chapter_mid: 'OpenedX/DemoX/chapter/d6780558bc3042c7ab6dd441a06d3478',
      data: { itype: 'multiplechoiceresponse', num_items: 1, has_solution: false, has_image: false },
    });
    // weight="1.0", children p, script, p, numericalresponse, solution
    const w = byUrl(b.rows, '720cac326b684155b4845d32af4aeef0');
    expect(w.data).toMatchObject({ weight: 1, itype: 'numericalresponse', num_items: 1, has_solution: true });
    expect(w.gformat).toBe('Advanced Assessment Tools');
    // two <formularesponse> children
    expect(byUrl(b.rows, 'ced178178f4440e08f15a408ea14cbf1').data).toMatchObject({ itype: 'formularesponse', num_items: 2 });
    // optionresponses nested in a <table>: no direct response children, so no itype
    expect(byUrl(b.rows, '85f3f7f9b72548af880975112f27817c').data).toEqual({ has_solution: false, has_image: false });
  });

  it('problems of the library_content block sit below it', () => {
    const lib = b.rows.find((r) => r.category === 'library_content') as AxisRow;
    const p = byUrl(b.rows, '0895f1b6c0b329e50b90');
    expect(p.parent).toBe(lib.url_name);
    expect(p.path).toBe(`${lib.path}/1`);
  });

  it('grading_policy: one row per GRADER, the cutoff on each', () => {
    expect(b.gradingPolicyFile).toBe('policies/DemoCourse/grading_policy.json');
    expect(b.gradingPolicy.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'assignment_type:VARCHAR', 'name:VARCHAR', 'fraction_of_overall_grade:DOUBLE', 'min_count:INTEGER', 'drop_count:INTEGER', 'short_label:VARCHAR', 'overall_cutoff_for_pass:DOUBLE',
    ]);
    expect(b.gradingPolicy.rows).toEqual([
      ['Basic Assessment Tools', 'Basic Assessment Tools', 0.3, 1, 0, 'Basic', 0.5],
      ['Intermediate Assessment Tools', 'Intermediate Assessment Tools', 0.35, 1, 0, 'Intermediate', 0.5],
      ['Advanced Assessment Tools', 'Advanced Assessment Tools', 0.35, 1, 0, 'Advanced', 0.5],
    ]);
  });

  it('loads both tables into the course schema', async () => {
    const w = await openDuckDBWarehouse(path.join(tempDir(), 'wh.duckdb'));
    try {
      const s = await loadAxis(w, cid, { tarball: DEMO_TARBALL }, 'test');
      expect(s).toMatchObject({ schema: 'OpenedX__DemoX__DemoCourse', courseAxisRows: 400, gradingPolicyRows: 3, run: 'DemoCourse', source: 'olx' });
      const cols = await w.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'OpenedX__DemoX__DemoCourse' AND table_name = 'course_axis' ORDER BY ordinal_position`);
      expect(cols.rows.map((r) => r[0])).toEqual(COURSE_AXIS_COLUMNS.map((c) => c.name));
      const q = await w.query(`SELECT "index", path, data, data_ytid, strftime(start, '%Y-%m-%d %H:%M:%S') FROM OpenedX__DemoX__DemoCourse.course_axis WHERE url_name = 'd5a54ce52f464acfa7a83ae155712cc3'`);
      expect(q.rows).toEqual([[6, '/30b3fbb840024953b2d4b2e700a53002/4e1de5e13fc3422997fe246b40a43aa1/1/2', '{"ytid":"lVPPPpyUOR4"}', 'lVPPPpyUOR4', '2020-01-01 00:00:00']]);
      const agg = await w.query(`SELECT count(*) FILTER (WHERE data_itype IS NOT NULL), count(*) FILTER (WHERE graded = 'true' AND category = 'problem'), json_extract_string(any_value(data) FILTER (WHERE url_name = '870b16e640d541af94a308caac834d2e'), '$.itype') FROM OpenedX__DemoX__DemoCourse.course_axis`);
      expect(agg.rows[0]?.[2]).toBe('multiplechoiceresponse');
      const gp = await w.query('SELECT sum(fraction_of_overall_grade), count(*) FROM OpenedX__DemoX__DemoCourse.grading_policy');
      expect(gp.rows[0]?.[1]).toBe(3);
      expect(gp.rows[0]?.[0]).toBeCloseTo(1, 9);
      // replacing: a second load gives the same rows, not twice as many
      await loadAxis(w, cid, { tarball: DEMO_TARBALL }, 'test');
      expect((await w.query('SELECT count(*) FROM OpenedX__DemoX__DemoCourse.course_axis')).rows).toEqual([[400]]);
    } finally {
      await w.close();
    }
  });
});

describe.skipIf(!fs.existsSync(ACCEPTANCE_TARBALL))('the edx-analytics-pipeline acceptance dump', () => {
  it('tarball: run "accept" has a course element and nothing else', async () => {
    const b = await buildAxisFromTarball(ACCEPTANCE_TARBALL, 'ExampleX/Acceptance/accept');
    expect(b.run).toBe('accept');
    expect(b.rows).toHaveLength(1);
    expect(b.rows[0]).toMatchObject({ category: 'course', url_name: 'accept', name: 'accept', path: '/1', module_id: 'ExampleX/Acceptance/course/accept' });
    expect(b.gradingPolicy.rows).toEqual([]);
    expect(b.log.warnings.join('\n')).toMatch(/course\/accept\.xml is missing/);
  });

  it('tarball: the dump\'s own course id has no such run, which is an error (REC of §5.1)', async () => {
    await expect(buildAxisFromTarball(ACCEPTANCE_TARBALL, 'edX/DemoX/Demo_Course')).rejects.toThrow(/no run "Demo_Course".*"accept"/);
  });

  it('course_structure fallback: the one chapter of the file', () => {
    const b = buildAxisFromStructureFile(ACCEPTANCE_STRUCTURE, 'course-v1:edX+DemoX+Demo_Course');
    expect(b.source).toBe('course_structure');
    expect(b.rows).toHaveLength(1);
    const r = b.rows[0] as AxisRow;
    expect(r).toMatchObject({ category: 'chapter', url_name: '1414ffd5143b4b508f739b563ab468b7', name: 'About Exams and Certificates', module_id: 'edX/DemoX/chapter/1414ffd5143b4b508f739b563ab468b7', path: '/1414ffd5143b4b508f739b563ab468b7', chapter_mid: null, course_id: 'edX/DemoX/Demo_Course' });
    expect(ts(r.start)).toBe('1970-01-01 05:00:00');
    expect(b.log.warnings.join('\n')).toMatch(/not in the file/); // its sequential "workflow" is absent
  });
});

// ------------------------------------------------------------------------------------------------
// hand-made exports

const POLICY = (run: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ [`course/${run}`]: { display_name: 'Policy Course Name', start: '2015-01-01T00:00:00Z' }, ...extra });
const GRADING = JSON.stringify({ GRADER: [{ type: 'Homework', min_count: 2, drop_count: 1, short_label: 'HW', weight: 0.4 }, { type: 'Exam', weight: 0.6, min_count: 1, drop_count: 0 }], GRADE_CUTOFFS: { A: 0.9, Pass: 0.5 } });

describe('OLX reading: pointers, inline definitions, drafts', () => {
  const files: Record<string, string> = {
    'course.xml': '<course url_name="2015_T1" org="TestX" course="T101"/>',
    'policies/2015_T1/policy.json': POLICY('2015_T1', { 'chapter/ch1': { display_name: 'Week One (policy)' }, 'sequential/hw1': { format: 'Homework', graded: true, due: '2015-02-01T23:30:00Z' } }),
    'policies/2015_T1/grading_policy.json': GRADING,
    'policies/assets.json': '{}',
    'course/2015_T1.xml': '<course display_name="XML course name"><chapter url_name="ch1"/><!-- a comment --><chapter url_name="ch2" display_name="Inline Chapter"><sequential url_name="s2"><vertical url_name="v2"><problem url_name="p_inline" display_name="Inline problem" weight="2.5"><optionresponse/><optionresponse/></problem></vertical></sequential></chapter><wiki slug="x"/></course>',
    'chapter/ch1.xml': '<chapter display_name="XML chapter name"><sequential url_name="hw1"/><sequential url_name="lec1"/></chapter>',
    'sequential/hw1.xml': '<sequential display_name="Homework 1"><vertical url_name="v1"/></sequential>',
    'sequential/lec1.xml': '<sequential display_name="Lecture 1"><vertical display_name="Intro: Part (1). Basics"><html url_name="h_yt"/><video url_name="vid1"/></vertical></sequential>',
    'vertical/v1.xml': '<vertical display_name="Published unit"><problem url_name="p1"/><problem url_name="p_file"/><discussion url_name="d1" display_name="Talk"/></vertical>',
    'problem/p1.xml': '<problem display_name="Problem &amp; one"><multiplechoiceresponse><choicegroup/></multiplechoiceresponse><numericalresponse/><solution><div><p>A long enough explanation of the answer, well over sixty-five characters of markup.</p></div></solution></problem>',
    'problem/p_file.xml': '<problem filename="shared_p" display_name="From filename"/>',
    'problem/shared_p.xml': '<problem><stringresponse/><stringresponse/><img src="/static/x.png"/></problem>',
    'html/h_yt.xml': '<html filename="h_yt_body" display_name="Video in HTML"/>',
    'html/h_yt_body.html': '<p>Watch &nbsp; this</p><iframe width="560" src="https://www.youtube.com/embed/abcDEF12345?rel=0" frameborder="0"></iframe>',
    'video/vid1.xml': '<video display_name="Lecture video" youtube="0.75:slowID,1.0:normalID,1.25:fastID"><source src="x.mp4"/></video>',
    // unpublished edits: never read
    'drafts/vertical/v1.xml': '<vertical display_name="DRAFT unit"><problem url_name="p_draft"/></vertical>',
    'drafts/problem/p_draft.xml': '<problem display_name="Draft problem"/>',
    'draft/vertical/v2.xml': '<vertical display_name="Old-style draft"/>',
    'static/handout.html': '<p>not course content</p>',
  };

  it('inlines url_name pointers and keeps inline definitions, in course order', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball(files), 'TestX/T101/2015_T1');
    expect(b.rows.map((r) => `${r.category}:${r.url_name}`)).toEqual([
      'course:2015_T1', 'chapter:ch1', 'sequential:hw1', 'vertical:v1', 'problem:p1', 'problem:p_file',
      'sequential:lec1', 'vertical:Intro_Part_1__Basics', 'html:h_yt', 'video:vid1',
      'chapter:ch2', 'sequential:s2', 'vertical:v2', 'problem:p_inline',
    ]);
    // policy display_name wins over the element's; the course row gets the policy start
    expect(b.rows[0]).toMatchObject({ name: 'Policy Course Name', path: '/1', module_id: 'TestX/T101/course/2015_T1' });
    expect(ts((b.rows[0] as AxisRow).start)).toBe('2015-01-01 00:00:00');
    expect(byUrl(b.rows, 'ch1').name).toBe('Week One (policy)');
    expect(byUrl(b.rows, 'ch2')).toMatchObject({ name: 'Inline Chapter', path: '/ch2', parent: '2015_T1' });
    expect(byUrl(b.rows, 'p1').name).toBe('Problem & one');
  });

  it('format, graded and due come from the policy and are inherited', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball(files), 'course-v1:TestX+T101+2015_T1');
    for (const u of ['hw1', 'v1', 'p1', 'p_file']) {
      const r = byUrl(b.rows, u);
      expect([u, r.gformat, r.graded, ts(r.due)]).toEqual([u, 'Homework', 'true', '2015-02-01 23:30:00']);
    }
    expect(byUrl(b.rows, 'lec1')).toMatchObject({ gformat: '', graded: '', due: null });
    expect(byUrl(b.rows, 'p1')).toMatchObject({ path: '/ch1/hw1/1/1', chapter_mid: 'TestX/T101/chapter/ch1', parent: 'v1' });
  });

  it('problem data: items, itype, weight, solution, image; filename content', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball(files), 'TestX/T101/2015_T1');
    expect(byUrl(b.rows, 'p1').data).toEqual({ itype: 'mixed', num_items: 2, has_solution: true, has_image: false });
    expect(byUrl(b.rows, 'p_file')).toMatchObject({ name: 'From filename', data: { itype: 'stringresponse', num_items: 2, has_solution: false, has_image: true } });
    expect(byUrl(b.rows, 'p_inline').data).toEqual({ weight: 2.5, itype: 'optionresponse', num_items: 2, has_solution: false, has_image: false });
  });

  it('videos and html iframes give bare YouTube ids; html ids use the legacy form', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball(files), 'TestX/T101/2015_T1');
    expect(byUrl(b.rows, 'vid1').data).toEqual({ ytid: 'normalID' });
    expect(byUrl(b.rows, 'h_yt')).toMatchObject({ data: { ytid: 'abcDEF12345' }, module_id: 'TestX/T101/sequential/lec1/1', path: '/ch1/lec1/1/1' });
    // a vertical with only a display_name gets the derived url_name and a normal row
    // ' ', ':', '.', '(', ')' → '_', then '__' → '_' in one pass: Intro__Part__1___Basics → Intro_Part_1__Basics
    expect(byUrl(b.rows, 'Intro_Part_1__Basics')).toMatchObject({ name: 'Intro: Part (1). Basics', path: '/ch1/lec1/1' });
  });

  it('drafts/, draft/ and static/ are ignored', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball(files), 'TestX/T101/2015_T1');
    expect(byUrl(b.rows, 'v1').name).toBe('Published unit');
    expect(b.rows.some((r) => r.url_name === 'p_draft' || r.name.includes('DRAFT') || r.name.includes('Old-style'))).toBe(false);
  });

  it('grading policy next to the run\'s policy', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball(files), 'TestX/T101/2015_T1');
    expect(b.gradingPolicy.columns.map((c) => c.name)).toEqual(['assignment_type', 'name', 'fraction_of_overall_grade', 'min_count', 'drop_count', 'short_label', 'overall_cutoff_for_a', 'overall_cutoff_for_pass']);
    expect(b.gradingPolicy.rows).toEqual([
      ['Homework', 'Homework', 0.4, 2, 1, 'HW', 0.9, 0.5],
      ['Exam', 'Exam', 0.6, 1, 0, null, 0.9, 0.5],
    ]);
  });

  it('a plain (not gzipped) tar and a tarball without a top directory read the same', async () => {
    const a = await buildAxisFromTarballBuffer(await tarball(files), 'TestX/T101/2015_T1');
    const plain = await buildAxisFromTarballBuffer(await tarball(files, { gzip: false }), 'TestX/T101/2015_T1');
    const flat = await buildAxisFromTarballBuffer(await tarball(files, { root: '' }), 'TestX/T101/2015_T1');
    expect(plain.rows).toEqual(a.rows);
    expect(flat.rows).toEqual(a.rows);
  });
});

describe('OLX reading: runs and policies', () => {
  it('missing policy: the run is course.xml\'s url_name, no grading policy, still an axis', async () => {
    const buf = await tarball({
      'course.xml': '<course url_name="R1" org="O" course="N"/>',
      'course/R1.xml': '<course display_name="No policy"><chapter url_name="c" display_name="C"/></course>',
    });
    const b = await buildAxisFromTarballBuffer(buf, 'O/N/R1');
    expect(b.rows.map((r) => r.url_name)).toEqual(['R1', 'c']);
    expect(b.rows[0]?.name).toBe('No policy');
    expect(b.gradingPolicy.rows).toEqual([]);
    expect(b.gradingPolicyFile).toBeNull();
    expect(b.log.warnings.join('\n')).toMatch(/no policy file/);
  });

  it('several runs: the one named by the course id is used', async () => {
    const buf = await tarball({
      'course.xml': '<course url_name="2014" org="O" course="N"/>',
      'policies/2014.json': JSON.stringify({ 'course/2014': {} }),
      'policies/2015.json': JSON.stringify({ 'course/2015': {} }),
      'course/2014.xml': '<course><chapter url_name="old" display_name="Old"/></course>',
      'course/2015.xml': '<course><chapter url_name="new" display_name="New"/></course>',
    });
    expect((await buildAxisFromTarballBuffer(buf, 'O/N/2015')).rows.map((r) => r.url_name)).toEqual(['2015', 'new']);
    expect((await buildAxisFromTarballBuffer(buf, 'O/N/2014')).rows.map((r) => r.url_name)).toEqual(['2014', 'old']);
    await expect(buildAxisFromTarballBuffer(buf, 'O/N/2016')).rejects.toThrow(AxisInputError);
  });

  it('roots/*.xml: one run per root file', async () => {
    const buf = await tarball({
      'roots/fall.xml': '<course url_name="fall" org="O" course="N"/>',
      'policies/fall/policy.json': JSON.stringify({ 'course/fall': {} }),
      'course/fall.xml': '<course><chapter url_name="f" display_name="F"/></course>',
    });
    expect((await buildAxisFromTarballBuffer(buf, 'O/N/fall')).rows.map((r) => r.url_name)).toEqual(['fall', 'f']);
  });

  it('hide_from_toc drops a subtree; start is never before the parent\'s; bad dues are empty', async () => {
    const buf = await tarball({
      'course.xml': '<course url_name="R" org="O" course="N"/>',
      'policies/R/policy.json': JSON.stringify({ 'course/R': { start: '2015-03-01T00:00:00Z' }, 'chapter/hidden': { hide_from_toc: true }, 'chapter/shown': { hide_from_toc: false } }),
      'course/R.xml':
        '<course><chapter url_name="hidden" display_name="H"><sequential url_name="hs" display_name="HS"/></chapter>' +
        '<chapter url_name="shown" display_name="S" start="2014-01-01T00:00:00Z"><sequential url_name="late" display_name="L" start="2015-04-01T12:00" due="not a date">' +
        '<vertical url_name="hv" display_name="HV" hide_from_toc="true"><html url_name="hh" display_name="HH"/></vertical><vertical url_name="v2" display_name="V2"/></sequential>' +
        '<sequential url_name="named" display_name="N" due="March 25, 2015, 22:00"/></chapter>' +
        '<chapter url_name="attr_hidden" display_name="AH" hide_from_toc="true"/></course>',
    });
    const b = await buildAxisFromTarballBuffer(buf, 'O/N/R');
    expect(b.rows.map((r) => r.url_name)).toEqual(['R', 'shown', 'late', 'v2', 'named']);
    // positions count the hidden sibling
    expect(byUrl(b.rows, 'v2').path).toBe('/shown/late/2');
    expect(ts(byUrl(b.rows, 'shown').start)).toBe('2015-03-01 00:00:00'); // clamped to the course start
    expect(ts(byUrl(b.rows, 'late').start)).toBe('2015-04-01 12:00:00');
    expect(byUrl(b.rows, 'late').due).toBeNull();
    expect(ts(byUrl(b.rows, 'named').due)).toBe('2015-03-25 22:00:00');
    expect(b.log.warnings.join('\n')).toMatch(/hide_from_toc/);
  });

  it('split_test: children are marked with the split\'s url_name', async () => {
    const buf = await tarball({
      'course.xml': '<course url_name="R" org="O" course="N"/>',
      'course/R.xml': '<course><chapter url_name="c" display_name="C"><sequential url_name="s" display_name="S"><vertical url_name="u" display_name="U">' +
        '<split_test url_name="ab" display_name="AB test" user_partition_id="50" group_id_to_child="{&quot;0&quot;: &quot;i4x://O/N/vertical/ga&quot;, &quot;1&quot;: &quot;i4x://O/N/vertical/gb&quot;}">' +
        '<vertical url_name="ga" display_name="Group A"><problem url_name="pa" display_name="PA"/></vertical><vertical url_name="gb" display_name="Group B"/></split_test>' +
        '<html url_name="after" display_name="After"/></vertical></sequential></chapter></course>',
    });
    const b = await buildAxisFromTarballBuffer(buf, 'O/N/R');
    expect(byUrl(b.rows, 'ab')).toMatchObject({ category: 'split_test', is_split: false, split_url_name: null, data: { user_partition_id: '50', group_id_to_child: '{"0": "i4x://O/N/vertical/ga", "1": "i4x://O/N/vertical/gb"}' }, path: '/c/s/1/1' });
    for (const u of ['ga', 'gb', 'pa']) expect(byUrl(b.rows, u)).toMatchObject({ is_split: true, split_url_name: 'ab' });
    expect(byUrl(b.rows, 'pa')).toMatchObject({ parent: 'ga', path: '/c/s/1/1/1/1' });
    expect(byUrl(b.rows, 'after')).toMatchObject({ is_split: false, split_url_name: null, path: '/c/s/1/2' });
  });

  it('a vertical sharing its url_name with another row becomes <url_name>_vertical', async () => {
    const buf = await tarball({
      'course.xml': '<course url_name="R" org="O" course="N"/>',
      'course/R.xml': '<course><chapter url_name="c" display_name="C"><sequential url_name="dup" display_name="S"><vertical url_name="dup" display_name="V"/></sequential></chapter></course>',
    });
    const b = await buildAxisFromTarballBuffer(buf, 'O/N/R');
    expect(b.rows.map((r) => `${r.category}:${r.url_name}:${r.module_id}`)).toEqual(['course:R:O/N/course/R', 'chapter:c:O/N/chapter/c', 'sequential:dup:O/N/sequential/dup', 'vertical:dup_vertical:O/N/vertical/dup']);
  });
});

describe('corrupt or unusable input', () => {
  it('a truncated gzip, random bytes and a tarball without course.xml are AxisInputErrors', async () => {
    const good = await tarball({ 'course.xml': '<course url_name="R" org="O" course="N"/>' });
    await expect(buildAxisFromTarballBuffer(good.subarray(0, Math.floor(good.length / 2)), 'O/N/R')).rejects.toThrow(/corrupt|unreadable/);
    await expect(buildAxisFromTarballBuffer(Buffer.from('this is not a tarball at all, just text'.repeat(40)), 'O/N/R')).rejects.toThrow(AxisInputError);
    await expect(buildAxisFromTarballBuffer(await tarball({ 'README.xml': '<x/>' }), 'O/N/R')).rejects.toThrow(/no course\.xml/);
    await expect(buildAxisFromTarballBuffer(await tarball({ 'course.xml': '<course url_name="R"' }), 'O/N/R')).rejects.toThrow(/not well-formed/);
  });

  it('a broken component file is a warning; the pointer stays a row', async () => {
    const b = await buildAxisFromTarballBuffer(await tarball({
      'course.xml': '<course url_name="R" org="O" course="N"/>',
      'course/R.xml': '<course><chapter url_name="c"/></course>',
      'chapter/c.xml': '<chapter display_name="C"><unclosed></chapter>',
    }), 'O/N/R');
    expect(b.rows.map((r) => r.url_name)).toEqual(['R', 'c']);
    expect(b.log.warnings.join('\n')).toMatch(/chapter\/c\.xml: not well-formed/);
  });

  it('runAxis: a corrupt tarball fails that course only (exit 1), the next course still loads', async () => {
    const d = tempDir();
    const bad = path.join(d, 'bad.xml.tar.gz');
    fs.writeFileSync(bad, gzipSync(Buffer.from('garbage')).subarray(0, 12));
    const base = path.join(d, 'sql');
    const dateDir = path.join(base, 'O-N-R', '2016-01-03');
    fs.mkdirSync(dateDir, { recursive: true });
    fs.mkdirSync(path.join(base, 'O-N-R', '2015-12-27'));
    for (const t of ['users', 'enrollment']) fs.writeFileSync(path.join(dateDir, `${t}.csv.gz`), gzipSync(''));
    fs.writeFileSync(path.join(dateDir, 'course-prod-analytics.xml.tar.gz'), await tarball({ 'course.xml': '<course url_name="R" org="O" course="N"/>', 'course/R.xml': '<course><chapter url_name="c" display_name="C"/></course>' }));
    const wh = path.join(d, 'wh.duckdb');
    const errs: string[] = [];
    const outs: string[] = [];
    const origErr = process.stderr.write.bind(process.stderr);
    const origOut = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    process.stdout.write = ((s: string) => (outs.push(String(s)), true)) as typeof process.stdout.write;
    let code1: number;
    let code2: number;
    try {
      code1 = await runAxis(['X/Y/Z'], { warehouse: wh, tarball: bad });
      code2 = await runAxis(['X/Y/Z', 'course-v1:O+N+R'], { warehouse: wh, sqlDir: base });
    } finally {
      process.stderr.write = origErr;
      process.stdout.write = origOut;
    }
    expect(code1).toBe(1);
    expect(errs.join('')).toMatch(/X\/Y\/Z: error: .*bad\.xml\.tar\.gz: corrupt or unreadable tarball/);
    expect(code2).toBe(1); // X/Y/Z has no course directory
    expect(outs.join('')).toMatch(/O\/N\/R → schema O__N__R: course_axis 2 rows/);
    const w = await openDuckDBWarehouse(wh, { readOnly: true });
    try {
      expect((await w.query('SELECT url_name FROM O__N__R.course_axis ORDER BY "index"')).rows).toEqual([['R'], ['c']]);
      expect(await w.tableExists({ schema: 'O__N__R', table: 'grading_policy' })).toBe(true);
      expect(await w.tableExists({ schema: 'X__Y__Z', table: 'course_axis' })).toBe(false);
    } finally {
      await w.close();
    }
  });

  it('course ids that are not ORG/NUM/RUN are refused', () => {
    expect(() => parseCourseId('ccx-v1:O+N+R+ccx@3')).toThrow(AxisInputError);
    expect(parseCourseId('course-v1:O+N+R')).toEqual({ courseId: 'O/N/R', org: 'O', num: 'N', run: 'R' });
  });
});

describe('course_structure fallback', () => {
  const k = (cat: string, name: string): string => `block-v1:O+N+R+type@${cat}+block@${name}`;
  const structure = {
    [k('course', 'course')]: { category: 'course', children: [k('chapter', 'ch')], metadata: { display_name: 'Structured', start: '2016-01-01T00:00:00Z' } },
    [k('chapter', 'ch')]: { category: 'chapter', children: [k('sequential', 'seq'), k('sequential', 'gone')], metadata: { display_name: 'Chapter' } },
    [k('sequential', 'seq')]: { category: 'sequential', children: [k('vertical', 'v')], metadata: { display_name: 'Graded', format: 'Exam', graded: true, due: '2016-02-01T10:00:00+00:00' } },
    [k('vertical', 'v')]: { category: 'vertical', children: [k('problem', 'p'), k('video', 'vid'), k('html', 'h')], metadata: { display_name: 'Unit' } },
    [k('problem', 'p')]: { category: 'problem', children: [], metadata: { display_name: 'P', weight: 3 } },
    [k('video', 'vid')]: { category: 'video', children: [], metadata: { display_name: 'Vid', youtube_id_1_0: 'ytABC' } },
    [k('html', 'h')]: { category: 'html', children: [], metadata: { display_name: 'H' } },
  };

  it('builds the same walk from block metadata', () => {
    const b = buildAxisFromStructureJson(structure, 'O/N/R');
    expect(b.rows.map((r) => `${r.category}:${r.url_name}:${r.path}`)).toEqual([
      'course:course:/1', 'chapter:ch:/ch', 'sequential:seq:/ch/seq', 'vertical:v:/ch/seq/1', 'problem:p:/ch/seq/1/1', 'video:vid:/ch/seq/1/2', 'html:h:/ch/seq/1/3',
    ]);
    expect(byUrl(b.rows, 'p')).toMatchObject({ gformat: 'Exam', graded: 'true', module_id: 'O/N/problem/p', chapter_mid: 'O/N/chapter/ch', data: { weight: 3, has_solution: false, has_image: false } });
    expect(ts(byUrl(b.rows, 'p').due)).toBe('2016-02-01 10:00:00');
    expect(ts(byUrl(b.rows, 'p').start)).toBe('2016-01-01 00:00:00');
    expect(byUrl(b.rows, 'vid').data).toEqual({ ytid: 'ytABC' });
    expect(byUrl(b.rows, 'h').module_id).toBe('O/N/sequential/seq/1');
    expect(b.gradingPolicy.rows).toEqual([]);
    expect(b.log.warnings.join('\n')).toMatch(/1 child block id\(s\) are not in the file/);
  });

  it('reads .json.gz, found by the SQL-dir discovery when there is no tarball', async () => {
    const d = tempDir();
    const day = path.join(d, 'O__N__R', '2016-05-01');
    fs.mkdirSync(day, { recursive: true });
    fs.writeFileSync(path.join(day, 'course_structure-prod-analytics.json.gz'), gzipSync(JSON.stringify(structure)));
    for (const t of ['users', 'enrollment']) fs.writeFileSync(path.join(day, `${t}.csv.gz`), gzipSync(''));
    const { source: src, sqlDir } = await findAxisSource(d, 'O/N/R');
    expect(sqlDir.date).toBe('2016-05-01');
    expect(src).toEqual({ structureJson: path.join(day, 'course_structure-prod-analytics.json.gz') });
    const w = await openDuckDBWarehouse(path.join(d, 'wh.duckdb'));
    try {
      const s = await loadAxis(w, 'O/N/R', src, 'test');
      expect(s).toMatchObject({ source: 'course_structure', courseAxisRows: 7, gradingPolicyRows: 0 });
      expect((await w.query('SELECT data_weight, graded FROM O__N__R.course_axis WHERE url_name = \'p\'')).rows).toEqual([[3, 'true']]);
    } finally {
      await w.close();
    }
  });

  it('i4x block ids work too', () => {
    const b = buildAxisFromStructureJson({ 'i4x://O/N/course/R': { category: 'course', children: ['i4x://O/N/chapter/c1'], metadata: {} }, 'i4x://O/N/chapter/c1': { category: 'chapter', children: [], metadata: { display_name: 'One' } } }, 'O/N/R');
    expect(b.rows.map((r) => `${r.url_name}:${r.name}:${r.module_id}`)).toEqual(['R:R:O/N/course/R', 'c1:One:O/N/chapter/c1']);
  });
});

describe('value helpers', () => {
  it('parses the OLX date forms', () => {
    const f = (s: string): string | null => ts(parseOlxDate(s));
    expect(f('2013-11-13T21:00:00Z')).toBe('2013-11-13 21:00:00');
    expect(f('2012-12-04T13:48:28.427430')).toBe('2012-12-04 13:48:28');
    expect(f('2013-02-12T19:00')).toBe('2013-02-12 19:00:00');
    expect(f('2014-12-09T15:00:00+00:00')).toBe('2014-12-09 15:00:00');
    expect(f('2014-12-09T15:00:00-05:00')).toBe('2014-12-09 20:00:00');
    expect(f('"2013-02-05T05:00"')).toBe('2013-02-05 05:00:00');
    expect(f('February 25, 2013')).toBe('2013-02-25 00:00:00');
    expect(f('December 12, 22:00, 2012')).toBe('2012-12-12 22:00:00');
    expect(f('January 2 2013, 22:00')).toBe('2013-01-02 22:00:00');
    expect(f('March 13 2014')).toBe('2014-03-13 00:00:00');
    expect(f('December 24 05:00, 2012')).toBe('2012-12-24 05:00:00');
    for (const bad of ['', 'null', 'soon', '2014-02-30T00:00', 'Smarch 3, 2014']) expect(parseOlxDate(bad)).toBeNull();
  });

  it('repairs mojibake and leaves real accents alone', () => {
    expect(fixMojibake('CafÃ© â€“ rÃ©sumÃ©')).toBe('Café – résumé');
    expect(fixMojibake('Café résumé')).toBe('Café résumé');
    expect(fixMojibake('Open edX® platform')).toBe('Open edX® platform');
  });

  it('grading policy column types follow the name rule', () => {
    expect(['category', 'short_label', 'hide_average', 'min_count', 'weight_x', 'passing_id'].map(gradingPolicyColumnType)).toEqual(['VARCHAR', 'VARCHAR', 'VARCHAR', 'INTEGER', 'DOUBLE', 'VARCHAR']);
    const t = gradingPolicyTable({ GRADER: [{ type: 'Lab', weight: '1.0', min_count: 3.5, 'drop-count': 1, hide_average: false }], GRADE_CUTOFFS: { 'Pass Fail': 0.6 } }, new AxisLog());
    expect(t.columns.slice(6).map((c) => `${c.name}:${c.type}`)).toEqual(['drop__count:INTEGER', 'hide_average:VARCHAR', 'overall_cutoff_for_pass_fail:DOUBLE']);
    expect(t.rows).toEqual([['Lab', 'Lab', 1, null, null, null, 1, 'false', 0.6]]);
  });
});
