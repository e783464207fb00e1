import type { JsonObject } from './types.ts';

/** The module_id of an event, and the rule of spec §4 that produced it (or why none did). */
export interface ModuleIdResult {
  id: string | null;
  rule: string;
}

/** Spec tracking-logs.md §4, on the raw event (before `event` is decoded). Never throws. */
export function extractModuleId(ev: JsonObject): ModuleIdResult {
  void ev;
  return { id: null, rule: 'none' };
}
