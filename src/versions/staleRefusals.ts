/**
 * Remembers recent stale-version refusals, so the unconditional DELETE that rclone sends about a
 * second after any failed upload (semantics.md) cannot destroy the newer file it was refused for.
 */
import type { DavPath } from '../paths/davPath';

interface Refusal {
  clientId: string;
  etag: string | null;
  atMs: number;
}

export class StaleRefusals {
  private readonly refusals = new Map<DavPath, Refusal>();

  constructor(private readonly windowMs: number, private readonly clock: () => number = Date.now) {}

  record(path: DavPath, clientId: string, etag: string | null): void {
    this.refusals.set(path, { clientId, etag, atMs: this.clock() });
    if (this.refusals.size > 10_000) this.sweep();
  }

  /** Whether `clientId` had an upload to `path` refused as stale within the window, with the version unchanged since. */
  recentlyRefused(path: DavPath, clientId: string, currentEtag: string | null): boolean {
    const refusal = this.refusals.get(path);
    if (!refusal) return false;
    if (this.clock() - refusal.atMs > this.windowMs) {
      this.refusals.delete(path);
      return false;
    }
    return refusal.clientId === clientId && refusal.etag === currentEtag;
  }

  private sweep(): void {
    const cutoff = this.clock() - this.windowMs;
    for (const [path, refusal] of this.refusals) if (refusal.atMs < cutoff) this.refusals.delete(path);
  }
}
