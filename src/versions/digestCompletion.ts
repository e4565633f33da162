/**
 * The digests of versions recorded without them, completed after the answer. A large upload is
 * hashed on the way in only for the checksums its client claims (contentDigests.ts): its version
 * record then has `sha1` null (nothing claimed) or `md5` null (only a SHA-1 claimed), and this
 * queue reads the stored file back for both, one file at a time, while no large upload streams
 * (storedFileDigests.ts). What was missing is recorded only if the record is still that very
 * version (same ETag, same inode, size and mtime as the bytes read: VersionRecords.completeDigests),
 * so a file replaced, moved or edited meanwhile never gets a digest of other bytes. Until then
 * `oc:checksums` shows what is known (the SHA-1 alone, or nothing; ownCloud's own format allows
 * any subset) and answers carry no OC-Checksum without a SHA-1. A record found without its digests
 * later (the server stopped first, a MOVE re-keyed it, a metadata-only change of a file written by
 * other means) is queued again when a client looks at it.
 *
 * Usage:
 *   const digests = new DigestCompletion((path, signal) => store.readBackDigests(path, signal), state.versions);
 *   digests.enqueue(path, etag, fingerprint);   // VersionStore calls it (its digestsMissing hook)
 *   await digests.stop();                        // at shutdown: the read in progress is abandoned
 */
import type { DavPath } from '../paths/davPath';
import type { FileDigests } from '../storage/resourceStore';
import type { FileFingerprint, VersionRecords } from '../state/stateStore';

/** Versions waiting at most; past that a new one is dropped (a later look at it queues it again). */
const MAX_WAITING = 10_000;
/** Versions remembered as impossible to complete (changed on disk, unreadable), so a look at them does not queue them again. */
const MAX_GIVEN_UP = 1_000;

interface Pending {
  path: DavPath;
  etag: string;
  fingerprint: FileFingerprint;
}

export type ReadDigests = (path: DavPath, signal: AbortSignal) => Promise<FileDigests | null>;

export class DigestCompletion {
  private readonly waiting = new Map<string, Pending>();
  private readonly givenUp = new Set<string>();
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private readonly drained: Array<() => void> = [];

  constructor(
    private readonly readDigests: ReadDigests,
    private readonly records: Pick<VersionRecords, 'completeDigests'>,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Queues the version `etag` of `path` (with that fingerprint) for its digests; a version already queued or given up is not queued twice. */
  enqueue(path: DavPath, etag: string, fingerprint: FileFingerprint): void {
    const key = keyOf(path, etag, fingerprint);
    if (this.stopping.signal.aborted || this.waiting.has(key) || this.givenUp.has(key) || this.waiting.size >= MAX_WAITING) return;
    this.waiting.set(key, { path, etag, fingerprint: { ino: fingerprint.ino, size: fingerprint.size, mtimeMs: fingerprint.mtimeMs } });
    this.running ??= this.drain();
  }

  /** Resolves once nothing is queued or being read (for tests). */
  idle(): Promise<void> {
    if (this.running === null) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Stops: nothing more is read, the read in progress is abandoned (its version keeps its digests unknown). */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.waiting.clear();
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.first(); next !== null; next = this.first()) {
        const [key, pending] = next;
        this.waiting.delete(key);
        if (!(await this.complete(pending))) this.giveUp(key);
      }
    } finally {
      this.running = null;
      for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  private first(): [string, Pending] | null {
    if (this.stopping.signal.aborted) return null;
    const next = this.waiting.entries().next();
    return next.done ? null : next.value;
  }

  /** Reads one version back and records its digests; false when that version can no longer get them. */
  private async complete({ path, etag, fingerprint }: Pending): Promise<boolean> {
    const read = await this.readDigests(path, this.stopping.signal);
    if (read === null) return this.stopping.signal.aborted; // stopped: not given up, a later start asks again
    if (read.ino !== fingerprint.ino || read.size !== fingerprint.size || read.mtimeMs !== fingerprint.mtimeMs) return false;
    try {
      return await this.records.completeDigests(path, etag, fingerprint, read);
    } catch (err) {
      // The state store refused (full disk, database away): the version stays without its digests until looked at again.
      this.log(`recording the digests of ${path} failed: ${(err as Error).message}`);
      return true;
    }
  }

  private giveUp(key: string): void {
    if (this.givenUp.size >= MAX_GIVEN_UP) this.givenUp.delete(this.givenUp.values().next().value as string);
    this.givenUp.add(key);
  }
}

function keyOf(path: DavPath, etag: string, f: FileFingerprint): string {
  return `${etag} ${f.ino} ${f.size} ${f.mtimeMs} ${path}`;
}
