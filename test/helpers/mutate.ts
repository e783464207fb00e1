/**
 * Random edits of text lines for the fuzz tests of the scanners and the rewrite: a seeded PRNG
 * and a mutator that replaces, inserts, deletes, truncates and copies characters, favouring JSON
 * punctuation, escapes, surrogates and the names the scanners look for.
 */

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  ...'{}[]:,"\\ /0123456789.eE+-tfnulrsaxuU\'',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u00a0',
  'é',
  '中',
  '\ud800',
  '\udc00',
  '😀',
  '\\u',
  '\\u00',
  '\\"',
  '\\\\',
  'null',
  'true',
  '"username"',
  '"context"',
  '"course_id"',
  '"user_id"',
  '{"course_id": "z"}',
  '"user\\u006eame"',
  ', "username": "m"',
  ', "context": {"user_id": 1}',
  '[',
  ']',
];

export function mutate(line: string, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const pos = () => Math.floor(rnd() * (line.length + 1));
  const edits = 1 + Math.floor(rnd() * 2);
  for (let e = 0; e < edits; e++) {
    const p = pos();
    switch (Math.floor(rnd() * 7)) {
      case 0: // replace a character
        line = line.slice(0, p) + pick(ALPHABET) + line.slice(p + 1);
        break;
      case 1: // delete one
        line = line.slice(0, p) + line.slice(p + 1);
        break;
      case 2: // insert
        line = line.slice(0, p) + pick(ALPHABET) + line.slice(p);
        break;
      case 3: // truncate
        line = line.slice(0, p);
        break;
      case 4: {
        // delete a span
        const q = Math.min(line.length, p + 1 + Math.floor(rnd() * 12));
        line = line.slice(0, p) + line.slice(q);
        break;
      }
      case 5: {
        // copy a span elsewhere
        const q = Math.min(line.length, p + 1 + Math.floor(rnd() * 20));
        const r = pos();
        line = line.slice(0, r) + line.slice(p, q) + line.slice(r);
        break;
      }
      default: {
        // replace a structural or quote character near a random position
        const at = line.slice(p).search(/[{}[\]:,"\\]/);
        if (at >= 0) line = line.slice(0, p + at) + pick(ALPHABET) + line.slice(p + at + 1);
      }
    }
  }
  return line;
}
