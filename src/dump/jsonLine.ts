/** One line of a JSON-lines export (forum, from_mongodb) read as an object, or why it is a reject. */
export type JsonObject = Record<string, unknown>;

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseObjectLine(line: string): { ok: true; doc: JsonObject } | { ok: false; reason: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: `bad JSON: ${(e as Error).message}` };
  }
  return isJsonObject(doc) ? { ok: true, doc } : { ok: false, reason: 'not a JSON object' };
}
