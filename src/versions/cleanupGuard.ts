/**
 * What keepdav remembers, for a short window, about one client's recent writes to a path, so that
 * a client's clean-up cannot destroy someone else's save (README, "Versions and conflicts"):
 *
 *  - refusals: rclone deletes whatever it failed to upload, with an unconditional DELETE about a
 *    second after any failed PUT, and retries that DELETE while it is refused with 423. After a
 *    refused PUT (409 stale-version, 423 locked, 412, 507...) the same client's unconditional DELETE
 *    of that path is refused too. A refused DELETE re-arms the window, so a DELETE retried until a
 *    lock is released is still refused then. The same client's successful PUT ends the protection.
 *  - deletions: a file this client deleted moments ago, so a PUT that re-creates it stating an older
 *    time (rclone's retried upload after its clean-up DELETE went through) is judged against it.
 *
 * "Client" is the remote address and User-Agent (DavRequest.clientId). This is a per-process cache,
 * not state: after a restart the window starts empty, which only loses the protection, never data.
 */
import type { DavPath } from '../paths/davPath';

export interface WriteRefusal {
  /** The stable keepdav code of the refusal (stale-version, lock-token-submitted...). */
  code: string;
  status: number;
  atMs: number;
}

export interface DeletedFile {
  etag: string | null;
  mtimeMs: number;
  size: number;
  atMs: number;
}

const SWEEP_ABOVE = 10_000;

export class CleanupGuard {
  private readonly refusals = new Map<string, WriteRefusal>();
  private readonly deletions = new Map<string, DeletedFile>();

  constructor(private readonly windowMs: number, private readonly clock: () => number = Date.now) {}

  /** A write by `clientId` to `path` was refused with `status` and `code`. */
  recordRefusal(path: DavPath, clientId: string, code: string, status: number): void {
    this.put(this.refusals, keyOf(path, clientId), { code, status, atMs: this.clock() });
  }

  /** The refusal of `clientId`'s write to `path` within the window, or null. */
  refusalOf(path: DavPath, clientId: string): WriteRefusal | null {
    return this.fresh(this.refusals, keyOf(path, clientId));
  }

  /** A DELETE protected by a refusal was itself refused (423 while a lock is held...): keep protecting. */
  rearmRefusal(path: DavPath, clientId: string): void {
    const refusal = this.refusalOf(path, clientId);
    if (refusal) refusal.atMs = this.clock();
  }

  /** `clientId` wrote `path` successfully: its earlier refusals and deletion there are settled. */
  settled(path: DavPath, clientId: string): void {
    this.refusals.delete(keyOf(path, clientId));
    this.deletions.delete(keyOf(path, clientId));
  }

  /** `clientId` deleted the file at `path`, whose content had this version. */
  recordDeletion(path: DavPath, clientId: string, file: Omit<DeletedFile, 'atMs'>): void {
    this.put(this.deletions, keyOf(path, clientId), { ...file, atMs: this.clock() });
  }

  /** The file `clientId` deleted at `path` within the window, or null. */
  deletionOf(path: DavPath, clientId: string): DeletedFile | null {
    return this.fresh(this.deletions, keyOf(path, clientId));
  }

  private put<T extends { atMs: number }>(map: Map<string, T>, key: string, value: T): void {
    map.set(key, value);
    if (map.size > SWEEP_ABOVE) {
      const cutoff = this.clock() - this.windowMs;
      for (const [k, v] of map) if (v.atMs < cutoff) map.delete(k);
    }
  }

  private fresh<T extends { atMs: number }>(map: Map<string, T>, key: string): T | null {
    const entry = map.get(key);
    if (!entry) return null;
    if (this.clock() - entry.atMs > this.windowMs) {
      map.delete(key);
      return null;
    }
    return entry;
  }
}

function keyOf(path: DavPath, clientId: string): string {
  return `${clientId}\n${path}`;
}
