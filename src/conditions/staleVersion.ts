/**
 * The stale-upload rule (semantics.md, "Stale uploads"): a PUT that states a modification time
 * older than the stored one is refused with 409 stale-version, unless
 *  - it carries If-Match naming the current ETag (the client has seen the current version), or
 *  - it fills an empty placeholder under the requester's own lock (Windows and Finder create one
 *    with a 0-byte PUT or a LOCK, then upload under that lock), or
 *  - it states no time at all (Windows, Finder, davfs2, GVFS), or the rule is switched off.
 * Times compare at one-second resolution, the resolution clients state them in.
 */
import { parseEntityTagList } from '../headers/conditionalRequest';
import { StaleVersionError } from './davErrors';
import type { ResourceFacts } from './davError';

export interface StaleUploadInput {
  enabled: boolean;
  declaredMtimeMs: number | undefined;
  current: { size: number; mtimeMs: number; etag: string | null } | null;
  ifMatch: string | undefined;
  /**
   * Whether the request submitted a token of its user's own lock covering the target: asked only
   * for an empty placeholder with an older stated time, so the locks are looked up (a round trip
   * with PostgreSQL) only then.
   */
  holdsOwnLock: () => Promise<boolean>;
}

/** Rejects with StaleVersionError when the upload must be refused as stale. */
export async function checkStaleUpload(input: StaleUploadInput, facts: ResourceFacts): Promise<void> {
  const { declaredMtimeMs, current } = input;
  if (!input.enabled || declaredMtimeMs === undefined || current === null) return;
  if (Math.floor(declaredMtimeMs / 1000) >= Math.floor(current.mtimeMs / 1000)) return;
  const named = parseEntityTagList(input.ifMatch, 'If-Match');
  if (Array.isArray(named) && current.etag !== null && named.includes(current.etag)) return;
  if (current.size === 0 && (await input.holdsOwnLock())) return;
  throw new StaleVersionError(declaredMtimeMs, facts);
}
