import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { courseDirName, safePathComponent, slashCourseId } from '../src/ids.ts';
import { courseIdInUrl, resolveCourseId } from '../src/events/courseId.ts';
import type { JsonObject } from '../src/events/types.ts';

describe('slashCourseId (spec §2 step 3, REC)', () => {
  it('converts exactly course-v1:ORG+NUM+RUN', () => {
    expect(slashCourseId('course-v1:MITx+6.00.2x_3+1T2015')).toBe('MITx/6.00.2x_3/1T2015');
    expect(slashCourseId('MITx/6.00x/2012_Fall')).toBe('MITx/6.00x/2012_Fall');
  });
  it('keeps other key kinds and malformed opaque keys as they are', () => {
    expect(slashCourseId('ccx-v1:MITx+6.00x+2015+ccx@3')).toBe('ccx-v1:MITx+6.00x+2015+ccx@3');
    expect(slashCourseId('course-v1:A+B')).toBe('course-v1:A+B');
    expect(slashCourseId('course-v1:A+B+C+D')).toBe('course-v1:A+B+C+D');
    expect(slashCourseId('course-v1:A+B+')).toBe('course-v1:A+B+');
    expect(slashCourseId('course-v1:A/x+B+C')).toBe('course-v1:A/x+B+C');
  });
});

describe('courseDirName: untrusted ids never leave the output directory', () => {
  it('is the spec name for ordinary ids', () => {
    expect(courseDirName('MITx/6.00x/2012_Fall')).toBe('MITx__6.00x__2012_Fall');
    expect(courseDirName('ccx-v1:MITx+6.00x+2015+ccx@3')).toBe('ccx-v1:MITx+6.00x+2015+ccx@3');
  });
  const hostile = ['..', '.', '../../etc/passwd', '/etc/passwd', '..\\..\\x', 'a/../../b', 'x\u0000y', 'tab\there', 'new\nline', '', '_unknown', 'META', '.tmp', '_rejects', '..%2F..', 'é/学/x', 'a'.repeat(1000), '%2E%2E'];
  it.each(hostile)('%j maps to one safe component', (id) => {
    const name = courseDirName(id);
    expect(name).not.toContain('/');
    expect(name).not.toContain('\\');
    expect(name).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(name.startsWith('.')).toBe(false);
    expect(name.startsWith('_')).toBe(false);
    expect(['META', '_unknown', '_rejects', '_parts', '.tmp', '', '.', '..']).not.toContain(name);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    const root = '/out';
    expect(path.resolve(root, name).startsWith('/out/')).toBe(true);
    expect(path.dirname(path.resolve(root, name))).toBe('/out');
  });
  it('is one-to-one on distinct short ids', () => {
    const ids = ['a/b/c', 'a__b__c', 'a%2Fb', 'a/b', 'a b', 'a+b', 'A/b/c'];
    const names = ids.map(courseDirName);
    // a/b/c and a__b__c share a name by the spec's own rule (/ → __); every other pair differs
    expect(new Set(names).size).toBe(ids.length - 1);
    expect(safePathComponent('a%b')).toBe('a%25b');
  });
});

describe('resolveCourseId (spec §2, REC)', () => {
  it('uses context.course_id, converting opaque keys', () => {
    expect(resolveCourseId({ context: { course_id: 'course-v1:X+Y+Z' }, event_source: 'server' })).toEqual({ courseId: 'X/Y/Z', guessed: false });
    expect(resolveCourseId({ context: { course_id: 'MITx/6.00x/2012_Fall' } })).toEqual({ courseId: 'MITx/6.00x/2012_Fall', guessed: false });
  });
  it('prefers an existing top-level course_id (re-processing)', () => {
    expect(resolveCourseId({ course_id: 'A/B/C', context: { course_id: 'course-v1:X+Y+Z' } }).courseId).toBe('A/B/C');
  });
  it('treats null, missing and empty context.course_id alike, and guesses browser events from page', () => {
    for (const context of [{ course_id: null }, {}, { course_id: '' }] as JsonObject[]) {
      expect(resolveCourseId({ context, event_source: 'browser', page: 'https://courses.edx.org/courses/MITx/6.00x/2012_Fall/courseware/ch/seq/' })).toEqual({ courseId: 'MITx/6.00x/2012_Fall', guessed: true });
    }
    expect(resolveCourseId({ event_source: 'browser', page: 'http://x.org/courses/course-v1:X+Y+Z/courseware/ch/seq/' })).toEqual({ courseId: 'X/Y/Z', guessed: true });
    expect(resolveCourseId({ event_source: 'browser', page: 'httpsss://x.org/courses/A/B/C/' }).courseId).toBe('A/B/C');
  });
  it('guesses other sources from the first /courses/ id in event_type, course-v1 included', () => {
    expect(resolveCourseId({ event_source: 'server', event_type: '/courses/MITx/6.00x/2012_Fall/courseware/' }).courseId).toBe('MITx/6.00x/2012_Fall');
    expect(resolveCourseId({ event_source: 'server', event_type: '/courses/course-v1:X+Y+Z/xblock/block-v1:X+Y+Z+type@problem+block@p/handler/h' }).courseId).toBe('X/Y/Z');
    expect(resolveCourseId({ event_source: 'mobile', event_type: 'x /courses/A/B/C/ y /courses/D/E/F/' }).courseId).toBe('A/B/C');
  });
  it('finds no course when there is nothing to go on', () => {
    expect(resolveCourseId({ event_type: '/courses/A/B/C/' }).courseId).toBeNull(); // no event_source key
    expect(resolveCourseId({ event_source: 'browser', page: null, event_type: '/courses/A/B/C/' }).courseId).toBeNull();
    expect(resolveCourseId({ event_source: 'browser', page: 'https://x.org/dashboard' }).courseId).toBeNull();
    expect(resolveCourseId({ event_source: 'server', event_type: '/courses/A/B' }).courseId).toBeNull();
    expect(resolveCourseId({ event_source: 'server', event_type: null }).courseId).toBeNull();
    expect(resolveCourseId({ event_source: 'server', context: { course_id: 42 }, event_type: '/dashboard' }).courseId).toBeNull();
  });
  it('courseIdInUrl does not mistake an opaque URL for three slash segments', () => {
    expect(courseIdInUrl('/courses/course-v1:X+Y+Z/courseware/ch/')).toBe('X/Y/Z');
    expect(courseIdInUrl('/dashboard')).toBeNull();
  });
});
