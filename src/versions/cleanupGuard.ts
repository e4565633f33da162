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
 * "Client" is the remote address and User-Agent (DavRequest.clientId). The entries are the state
 * store's (StateStore.refusals, judged by its clock); the window is this module's policy.
 */
import type { DavPath } from '../paths/davPath';
import type { DeletedFile, StateAccess, WriteRefusal } from '../state/stateStore';

export type { DeletedFile, WriteRefusal } from '../state/stateStore';

export class CleanupGuard {
  constructor(private readonly state: Pick<StateAccess, 'refusals' | 'now'>, private readonly windowMs: number) {}

  /** A write by `clientId` to `path` was refused with `status` and `code`. */
  async recordRefusal(path: DavPath, clientId: string, code: string, status: number): Promise<void> {
    await this.state.refusals.recordRefusal(path, clientId, { code, status });
  }

  /** The refusal of `clientId`'s write to `path` within the window, or null. */
  async refusalOf(path: DavPath, clientId: string): Promise<WriteRefusal | null> {
    return this.fresh(await this.state.refusals.refusalOf(path, clientId));
  }

  /** A DELETE protected by a refusal was itself refused (423 while a lock is held...): keep protecting. */
  async rearmRefusal(path: DavPath, clientId: string): Promise<void> {
    if (await this.refusalOf(path, clientId)) await this.state.refusals.rearmRefusal(path, clientId);
  }

  /** `clientId` wrote `path` successfully: its earlier refusals and deletion there are settled. */
  async settled(path: DavPath, clientId: string): Promise<void> {
    await this.state.refusals.settle(path, clientId);
  }

  /** `clientId` deleted the file at `path`, whose content had this version. */
  async recordDeletion(path: DavPath, clientId: string, file: Omit<DeletedFile, 'atMs'>): Promise<void> {
    await this.state.refusals.recordDeletion(path, clientId, file);
  }

  /** The file `clientId` deleted at `path` within the window, or null. */
  async deletionOf(path: DavPath, clientId: string): Promise<DeletedFile | null> {
    return this.fresh(await this.state.refusals.deletionOf(path, clientId));
  }

  private async fresh<T extends { atMs: number }>(entry: T | null): Promise<T | null> {
    if (!entry) return null;
    return (await this.state.now()) - entry.atMs > this.windowMs ? null : entry;
  }
}
