import { isUtf8 } from 'node:buffer';
import { processLine } from '../events/line.ts';

async function* stdinLines(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const piece of input as AsyncIterable<Buffer>) {
    let buf = rest.length ? Buffer.concat([rest, piece]) : piece;
    let nl: number;
    while ((nl = buf.indexOf(10)) >= 0) {
      yield buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
    }
    rest = Buffer.from(buf);
  }
  if (rest.length) yield rest;
}

/**
 * `edx2bq rephrase`: raw lines on stdin → rewritten lines on stdout, line for line (a rejected
 * line gives an empty output line, and `line N: reason` on stderr). Exit code 1 if any line
 * was rejected.
 */
export async function runRephrase(input: NodeJS.ReadableStream = process.stdin, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let n = 0;
  let bad = 0;
  for await (const line of stdinLines(input)) {
    n++;
    let text: string;
    if (!isUtf8(line)) {
      bad++;
      err.write(`line ${n}: invalid UTF-8\n`);
      text = '';
    } else {
      const r = processLine(line.toString('utf8'));
      if (r.ok) text = JSON.stringify(r.row);
      else {
        bad++;
        err.write(`line ${n}: ${r.reason}\n`);
        text = '';
      }
    }
    if (!out.write(text + '\n')) await new Promise((r) => out.once('drain', r));
  }
  return bad > 0 ? 1 : 0;
}
