/**
 * A small element tree over `fast-xml-parser` (preserveOrder, so children keep course order).
 *
 * Entity handling is ours, not the parser's: the parser leaves every `&…;` as it is and
 * `decodeEntities` decodes the five XML entities and numeric references in ONE pass, so
 * `&amp;#10;` stays the text `&#10;` (decoding after the parser would turn it into a newline),
 * and no DOCTYPE entity is ever expanded. Unknown named entities (`&nbsp;` in hand-written
 * HTML) are kept as text.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XNode {
  tag: string;
  /** Attributes, decoded. */
  attrs: Record<string, string>;
  /** Element and text children, in document order (comments and processing instructions dropped). */
  kids: (XNode | string)[];
  /** Raw content loaded from a `filename` attribute (html/…html), not parsed. */
  raw?: string;
}

export class XmlError extends Error {}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  allowBooleanAttributes: true,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: '#comment',
});

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[xX][0-9A-Fa-f]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g, (m, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return m;
      return String.fromCodePoint(code);
    }
    return NAMED[body] ?? m;
  });
}

type Raw = Record<string, unknown>;

function convert(items: unknown): (XNode | string)[] {
  const out: (XNode | string)[] = [];
  if (!Array.isArray(items)) return out;
  for (const item of items as Raw[]) {
    for (const key of Object.keys(item)) {
      if (key === ':@') continue;
      const v = item[key];
      if (key === '#text') {
        out.push(decodeEntities(String(v)));
      } else if (key === '#comment' || key.startsWith('?')) {
        // dropped
      } else {
        const attrsRaw = (item[':@'] ?? {}) as Record<string, unknown>;
        const attrs: Record<string, string> = {};
        for (const [k, av] of Object.entries(attrsRaw)) attrs[k] = av === true ? '' : decodeEntities(String(av));
        out.push({ tag: key, attrs, kids: convert(v) });
      }
    }
  }
  return out;
}

/** Parses an XML document and returns its root element; throws `XmlError` for malformed XML. */
export function parseXml(text: string, what: string): XNode {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const valid = XMLValidator.validate(body, { allowBooleanAttributes: true });
  if (valid !== true) {
    const e = valid.err;
    throw new XmlError(`${what}: not well-formed XML (line ${e.line}, column ${e.col}: ${e.msg})`);
  }
  let root: XNode | undefined;
  for (const k of convert(parser.parse(body))) {
    if (typeof k !== 'string') {
      root = k;
      break;
    }
  }
  if (!root) throw new XmlError(`${what}: no root element`);
  return root;
}

export function elements(node: XNode): XNode[] {
  const out: XNode[] = [];
  for (const k of node.kids) if (typeof k !== 'string') out.push(k);
  return out;
}

/** Every element below `node` (not `node` itself), in document order. */
export function* descendants(node: XNode): Generator<XNode> {
  for (const k of node.kids) {
    if (typeof k === 'string') continue;
    yield k;
    yield* descendants(k);
  }
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Serialises an element back to XML text (attribute order kept, `"` quoting). */
export function serialize(node: XNode): string {
  let s = `<${node.tag}`;
  for (const [k, v] of Object.entries(node.attrs)) s += ` ${k}="${escapeText(v).replace(/"/g, '&quot;')}"`;
  if (node.kids.length === 0) return s + '/>';
  s += '>';
  for (const k of node.kids) s += typeof k === 'string' ? escapeText(k) : serialize(k);
  return s + `</${node.tag}>`;
}

/** The markup inside an element: its children serialised, text included. */
export function innerMarkup(node: XNode): string {
  let s = '';
  for (const k of node.kids) s += typeof k === 'string' ? escapeText(k) : serialize(k);
  return s;
}
