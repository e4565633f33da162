/**
 * Resource versions: every file has a strong ETag that changes exactly when its content changes
 * (RFC 4918 §8.6, RFC 9110 §8.8.3), not when only its mtime or dead properties change.
 *
 * A written file gets a fresh random version, remembered with the file's fingerprint (inode,
 * size, mtime) in the state store's version records. A file whose fingerprint no longer matches
 * the record (changed behind the server's back, or never written through it) gets an ETag
 * derived from its fingerprint, so it still changes whenever the file does. That policy lives
 * here, once, over any store's records (StateStore.versions, or a transaction's).
 */
import { randomHex } from '../randomHex';
import type { ContentDigests } from '../storage/atomicWrite';
import { derivedTag } from '../storage/resourceStat';
import type { DavPath } from '../paths/davPath';
import type { FileFingerprint, VersionRecord, VersionRecords } from '../state/stateStore';

export type { FileFingerprint } from '../state/stateStore';

/** Whether `record` was made for the file with fingerprint `f`. */
export function recordMatches(record: VersionRecord | null | undefined, f: FileFingerprint): record is VersionRecord {
  return record !== null && record !== undefined && record.ino === f.ino && record.size === f.size && record.mtimeMs === f.mtimeMs;
}

/**
 * The ETag of the file `f` given its record: the recorded one when it matches, else the tag the
 * resource store derives from the file's opaque identity, size and mtime (storage/resourceStat.ts).
 */
export function etagFrom(record: VersionRecord | null | undefined, f: FileFingerprint): string {
  return recordMatches(record, f) ? record.etag : derivedTag(f);
}

/** The digests recorded for this very content (its MD5 null while digestCompletion.ts has not read it back), or null. */
export function digestsFrom(record: VersionRecord | null | undefined, f: FileFingerprint): ContentDigests | null {
  if (!recordMatches(record, f) || record.sha1 === null) return null;
  return { sha1: record.sha1, md5: record.md5 };
}

/**
 * Whether `record` is that of the file `f` and lacks a digest: a large upload's, until
 * digestCompletion.ts has read it back; a record that a stop, a MOVE or a metadata-only change
 * left without one. Such a record changes without its file.
 */
export function digestsPending(record: VersionRecord | null | undefined, f: FileFingerprint): record is VersionRecord {
  return recordMatches(record, f) && (record.sha1 === null || record.md5 === null);
}

/** Told of a recorded version whose SHA-1 or MD5 is not known yet (DigestCompletion.enqueue). */
export type DigestsMissing = (path: DavPath, etag: string, f: FileFingerprint) => void;

/**
 * The recorded ETags of a listing's batch (`records`, from StateAccess.recordsOfMembers): a
 * function from a file's path and fingerprint to the ETag its record gives that very content, or
 * null when there is none and the ETag is `derivedTag(f)` (VersionStore.etagOf answers the same).
 */
export function recordedEtagsIn(records: ReadonlyMap<DavPath, VersionRecord>): (path: DavPath, f: FileFingerprint) => string | null {
  return (path, f) => {
    const record = records.get(path);
    return recordMatches(record, f) ? record.etag : null;
  };
}

/** A fresh, unguessable strong ETag for new content. */
export function newEtag(): string {
  return `"${Date.now().toString(36)}-${randomHex(8)}"`;
}

export class VersionStore {
  constructor(
    private readonly records: VersionRecords,
    /** Told of each version found or recorded without its SHA-1 or MD5 (a large upload's, digestCompletion.ts). */
    private readonly digestsMissing: DigestsMissing = () => undefined,
  ) {}

  /** The same policy over another set of records (a transaction's). */
  static over(records: VersionRecords): VersionStore {
    return new VersionStore(records);
  }

  /** The record of the file `f` at `path`, from the store's cache when it has one (VersionRecords.getFor). */
  private recordFor(path: DavPath, f: FileFingerprint): Promise<VersionRecord | null> {
    return this.records.getFor ? this.records.getFor(path, f) : this.records.get(path);
  }

  /** The current ETag of a file (quoted, strong). */
  async etagOf(path: DavPath, f: FileFingerprint): Promise<string> {
    return etagFrom(await this.recordFor(path, f), f);
  }

  /**
   * The current ETag and, when recorded for this very content, its SHA-1 and MD5: one query for
   * both (a GET answers ETag and OC-Checksum). `pending`: the record still lacks a digest, which
   * is being read back (a cache must not keep these digests).
   */
  async currentOf(path: DavPath, f: FileFingerprint): Promise<{ etag: string; digests: ContentDigests | null; pending: boolean }> {
    const record = await this.recordFor(path, f);
    return { etag: etagFrom(record, f), digests: this.noticed(path, record, f), pending: digestsPending(record, f) };
  }

  /** Records new content at `path`, with its digests when they were computed on the way in (null: to be read back); returns its new ETag. */
  async recordNewContent(path: DavPath, f: FileFingerprint, digests: ContentDigests | null): Promise<string> {
    const etag = newEtag();
    await this.records.put(path, { etag, ino: f.ino, size: f.size, mtimeMs: f.mtimeMs, sha1: digests?.sha1 ?? null, md5: digests?.md5 ?? null });
    if (digests === null || digests.md5 === null) this.digestsMissing(path, etag, f);
    return etag;
  }

  /**
   * The SHA-1 and MD5 recorded for the file's current content, or null when unknown (a large
   * upload's while it is being read back, copied, changed behind the server's back since); the
   * MD5 alone is null while a large upload's is being read back.
   */
  async digestsOf(path: DavPath, f: FileFingerprint): Promise<ContentDigests | null> {
    return this.noticed(path, await this.recordFor(path, f), f);
  }

  /**
   * The digests a listing's batch of records (StateAccess.recordsOfMembers) gives each file, as
   * digestsOf answers them from its own look-up: null unless recorded for that very content, and
   * a record without them told to digestsMissing.
   */
  digestsIn(records: ReadonlyMap<DavPath, VersionRecord>): (path: DavPath, f: FileFingerprint) => ContentDigests | null {
    return (path, f) => this.noticed(path, records.get(path) ?? null, f);
  }

  /**
   * The digests `record` gives the file `f`, after telling digestsMissing when that record lacks
   * one (a large upload's, or one left so by a stop before it was read back, a MOVE, a
   * metadata-only change of a file written by other means).
   */
  private noticed(path: DavPath, record: VersionRecord | null, f: FileFingerprint): ContentDigests | null {
    if (digestsPending(record, f)) this.digestsMissing(path, record.etag, record);
    return digestsFrom(record, f);
  }

  /**
   * Records that only the modification time changed (X-OC-Mtime, PROPPATCH of a time): the
   * ETag the client knew (from `before`) stays.
   */
  async recordMetadataChange(path: DavPath, before: FileFingerprint, after: FileFingerprint): Promise<string> {
    const etag = await this.etagOf(path, before);
    await this.records.putFingerprint(path, etag, { ino: after.ino, size: after.size, mtimeMs: after.mtimeMs });
    return etag;
  }

  /** The stored record of `path` (ETag and the fingerprint it was given for), if any. */
  async recordOf(path: DavPath): Promise<(FileFingerprint & { etag: string }) | undefined> {
    const record = await this.records.get(path);
    return record ? { etag: record.etag, ino: record.ino, size: record.size, mtimeMs: record.mtimeMs } : undefined;
  }

  /** Every path that has a record (a scrub and a reindex compare them with the tree). */
  recordedPaths(): Promise<DavPath[]> {
    return this.records.paths();
  }
}
