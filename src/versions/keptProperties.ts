/**
 * The dead properties kept with a retained version (RetentionRow.properties): written when a
 * DELETE or a COPY/MOVE takes a file away (TreeOperations) and when a restore replaces one
 * (restoreVersion.ts, "[]" for none), read back by its restore. Stored as the JSON of the
 * properties in PropertyRecords.list order; null: none kept (an upload's version).
 */
import type { DeadProperty } from '../state/stateStore';

/** What a row keeps for `properties`: null when there are none, so most rows keep nothing. */
export function keptProperties(properties: readonly DeadProperty[] | undefined): string | null {
  return properties && properties.length > 0 ? JSON.stringify(properties) : null;
}

/** The properties a row kept (none for null or absent). */
export function propertiesKept(kept: string | null | undefined): DeadProperty[] {
  return kept ? (JSON.parse(kept) as DeadProperty[]) : [];
}
