/** CSV text read record by record (the grade report of setup-sql's side-loads, the shipped UN table). */

export interface CsvRecord {
  /** The line the record starts on (1-based). */
  line: number;
  fields: string[];
  /** The record's text, without its line end. */
  raw: string;
  /** Set when the record is malformed. */
  error?: string;
}

/**
 * RFC 4180 records of a CSV text: `,` separated, fields in `"` may hold `,`, line ends and `""`
 * (one quote); CRLF, LF or CR end a record; a leading BOM is dropped. Lenient where RFC 4180 is
 * strict: a quote inside an unquoted field, or text after a closing quote, is kept as text. An
 * unterminated quote makes the rest of the text one malformed record.
 */
export function* csvRecords(text: string): Generator<CsvRecord> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = i;
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let error: string | undefined;
    let end = n; // end of the record's text
    let next = n; // where the next record starts
    for (;;) {
      if (text.charCodeAt(i) === 34 /* " */) {
        // quoted field: up to the closing quote, "" is one quote
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            field += text.slice(i);
            for (let k = i; k < n; k++) if (text.charCodeAt(k) === 10) line++;
            i = n;
            error = 'unterminated quoted field';
            break;
          }
          field += text.slice(i, q);
          for (let k = i; k < q; k++) if (text.charCodeAt(k) === 10) line++;
          if (text.charCodeAt(q + 1) === 34) {
            field += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
      }
      // unquoted part: up to a comma or a line end
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 44 || c === 10 || c === 13) break;
        j++;
      }
      field += text.slice(i, j);
      i = j;
      if (i >= n) {
        fields.push(field);
        end = n;
        next = n;
        break;
      }
      const c = text.charCodeAt(i);
      if (c === 44) {
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      fields.push(field);
      end = i;
      next = c === 13 && text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
      line++;
      break;
    }
    i = next;
    yield { line: startLine, fields, raw: text.slice(start, end), ...(error !== undefined ? { error } : {}) };
  }
}
