/**
 * The state-store seam: everything keepdav remembers besides the bytes of the served files, behind
 * one async interface, so the embedded SQLite store (src/state/sqlite/) and a network database
 * (PostgreSQL, issue 12) are interchangeable. Handlers reach it as `Services.state`.
 *
 * The store holds data and makes each documented step atomic; the policies stay outside it, in one
 * place each: lock timeouts and token rules (src/locks/lockManager.ts, activeLock.ts), the ETag of
 * a file whose record does not match it (src/versions/versionStore.ts), the retention policy
 * (src/versions/retention.ts), the refusal window (src/versions/cleanupGuard.ts).
 *
 * Conventions for every member:
 * - Paths are DavPaths (src/paths/davPath.ts) compared bytewise: the subtree of `/a` is `/a` and
 *   the paths starting with `/a/`; never `/A/x`, `/á/y` or `/ab` (PostgreSQL: COLLATE "C").
 * - "Not found" is `null` (or an empty list / `false` / 0 as stated), never an exception. Errors
 *   are the driver's (disk full, connection lost...) and leave the state as it was before the call.
 * - Each member is atomic on its own. Several members are atomic together only inside
 *   `transaction`.
 * - Times are milliseconds since the epoch by `now()`, the store's clock: the authority that
 *   judges lock expiry and "recent" refusals for every instance sharing the state.
 * - Values returned are plain data owned by the caller (mutating them changes nothing stored).
 */
import type { DavPath } from '../paths/davPath';
import type { ActiveLock, LockDepth, LockScope } from '../locks/activeLock';
import type { PathClaim, RunningOperation } from '../concurrency/pathMutex';

export type { ActiveLock, LockDepth, LockScope } from '../locks/activeLock';
export type { PathClaim, RunningOperation } from '../concurrency/pathMutex';
export { OperationInProgressError } from '../concurrency/pathMutex';

// ---------------------------------------------------------------------------------------------
// Locks (RFC 4918 §6, §7)
// ---------------------------------------------------------------------------------------------

/** A lock to grant: the store stamps createdAtMs and expiresAtMs with its own clock. */
export interface NewLock {
  /** A fresh token (activeLock.newLockToken()); unique for all time. */
  readonly token: string;
  readonly root: DavPath;
  readonly scope: LockScope;
  readonly depth: LockDepth;
  readonly owner: string | null;
  /** The signed-in user taking it; absent or null when anonymous. */
  readonly principal?: string | null;
  /** The granted timeout in seconds (TimeoutPolicy already applied); Infinity for Infinite. */
  readonly timeoutSeconds: number;
}

/** The outcome of the atomic check-and-insert of a lock. */
export type LockGrant = { readonly granted: ActiveLock; readonly conflict?: undefined } | { readonly granted?: undefined; readonly conflict: ActiveLock };

/** insertUnlessClaimedOrConflicting found a write claim (or a running operation) in the way: nothing was stored. */
export type LockClaimed = { readonly claimed: true; readonly granted?: undefined; readonly conflict?: undefined };

/**
 * Lock records. Every member answers only about active locks: a lock whose expiresAtMs <= now()
 * does not exist for any member (RFC 4918 §6.6), whether or not `purgeExpired` has removed it yet.
 */
export interface LockRecords {
  /**
   * In ONE atomic step: finds an active lock that `wouldConflict` (activeLock.ts) with `lock`
   * (the locks covering its root, and for depth infinity those rooted below it too) and, when
   * there is none, stores `lock` stamped createdAtMs = now(), expiresAtMs = expiryOf(now,
   * timeoutSeconds). Returns `{ granted }` or `{ conflict }` (the first conflicting lock, outermost
   * first). Of any number of concurrent calls that conflict with each other, exactly one is granted.
   * A token already stored is a programming error (the driver's error is thrown).
   */
  insertUnlessConflicting(lock: NewLock): Promise<LockGrant>;
  /**
   * insertUnlessConflicting, in the same ONE atomic step made only while no holder of a write
   * claim (WriteClaims.run, on any instance sharing the state) has claims meeting `claims`, and no
   * running operation overlaps them; otherwise nothing is stored and the answer is `{ claimed }`
   * (the caller then takes `claims` itself and asks insertUnlessConflicting). A writer that looked
   * at the locks before this step still held its claim at it, so a grant here is never overtaken
   * by a write that missed it. Spares LOCK on an existing resource a claim of its own (with
   * PostgreSQL, one round trip).
   */
  insertUnlessClaimedOrConflicting(lock: NewLock, claims: readonly PathClaim[]): Promise<LockGrant | LockClaimed>;
  /**
   * Restarts the timeout of the active lock `token` from now(): timeoutSeconds = `timeoutSeconds`,
   * expiresAtMs = expiryOf(now, timeoutSeconds); every other field stays. Returns the refreshed
   * lock, or null when no active lock has this token.
   */
  refresh(token: string, timeoutSeconds: number): Promise<ActiveLock | null>;
  /** Removes the active lock `token` and returns it; null when there is none (nothing changes). */
  release(token: string): Promise<ActiveLock | null>;
  /**
   * In ONE atomic step: removes the active lock `token` when it applies to `path` (lockCovers)
   * and was taken by `principal` (null: taken anonymously), and returns it; null when any of that
   * fails (nothing changes). UNLOCK's common case in one step; a null answer sends the caller to
   * byToken to find out why.
   */
  releaseOwned(token: string, path: DavPath, principal: string | null): Promise<ActiveLock | null>;
  /** The active lock with this token, or null. */
  byToken(token: string): Promise<ActiveLock | null>;
  /**
   * The active locks that apply to `path` (lockCovers): rooted at it, or depth-infinity rooted at
   * an ancestor; outermost root first, and in grant order at one root.
   */
  covering(path: DavPath): Promise<ActiveLock[]>;
  /**
   * covering() of each of `paths`, in ONE step (one round trip): a write's precondition checks the
   * target and, for a new or removed member, its parent (RFC 4918 §7.4). Answers in `paths`' order.
   */
  coveringEach(paths: readonly DavPath[]): Promise<ActiveLock[][]>;
  /** The active locks rooted at `path` or anywhere below it (within('/') is every lock); `path`'s own first. */
  within(path: DavPath): Promise<ActiveLock[]>;
  /** Removes every lock rooted at `path` or below it (the resources are gone: DELETE, MOVE source); returns how many active ones went. */
  removeWithin(path: DavPath): Promise<number>;
  /** Removes every lock expired by now() from storage; returns how many. */
  purgeExpired(): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Dead properties (RFC 4918 §4.1, §9.2)
// ---------------------------------------------------------------------------------------------

export interface DeadProperty {
  ns: string;
  local: string;
  /** The property element serialized by the XML layer, self-contained. */
  xml: string;
}

export type DeadPropertyChange = { op: 'set'; property: DeadProperty } | { op: 'remove'; ns: string; local: string };

export interface PropertyRecords {
  /** The dead properties of `path` in the order they were set (a replaced one counts as set anew); [] when none. */
  list(path: DavPath): Promise<DeadProperty[]>;
  /**
   * Applies `changes` in order, all or nothing (PROPPATCH, RFC 4918 §9.2): `set` inserts or
   * replaces (ns, local); `remove` of an absent one is no error.
   */
  apply(path: DavPath, changes: readonly DeadPropertyChange[]): Promise<void>;
  /** Re-keys the properties of `from` and its subtree under `to` (MOVE). Properties already under `to` are dropped first. */
  moveSubtree(from: DavPath, to: DavPath): Promise<void>;
  /**
   * Copies the properties of `from` (depth 'infinity': and of its subtree) onto `to` (COPY),
   * replacing equal (path, ns, local) ones there; the source keeps its own.
   */
  copySubtree(from: DavPath, to: DavPath, depth: LockDepth): Promise<void>;
  /** Forgets the properties of `path` and its subtree. */
  forgetSubtree(path: DavPath): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Version records: a file's strong ETag and the fingerprint it was given for
// ---------------------------------------------------------------------------------------------

/** The parts of a file's stat its recorded version depends on. */
export interface FileFingerprint {
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * What is recorded for a file. Whether it still describes the file on disk (fingerprint match,
 * else a derived ETag) is decided outside the store, in versions/versionStore.ts.
 */
export interface VersionRecord extends FileFingerprint {
  /** Quoted strong ETag. */
  etag: string;
  /** Digests of the recorded content, null when unknown. */
  sha1: string | null;
  md5: string | null;
}

/** Both digests of a content, lower-case hex, as a read back gives them (VersionRecords.completeDigests). */
export interface KnownDigests {
  sha1: string;
  md5: string;
}

export interface VersionRecords {
  /** The record of `path`, or null. */
  get(path: DavPath): Promise<VersionRecord | null>;
  /**
   * Optional: the record of `path` as `get` answers it, where a store may answer from a cache as
   * long as the cached record was made for `fingerprint` (the file's own stat validates it: new
   * content has a new inode, a metadata change a new mtime). A network store uses it so that a GET
   * of an unchanged file needs no round trip. Without it, callers use `get`.
   */
  getFor?(path: DavPath, fingerprint: FileFingerprint): Promise<VersionRecord | null>;
  /** Inserts or replaces the whole record of `path` (new content: digests included, null when unknown). */
  put(path: DavPath, record: VersionRecord): Promise<void>;
  /**
   * Inserts or replaces the ETag and fingerprint of `path` keeping its recorded digests (a
   * metadata-only change: X-OC-Mtime, PROPPATCH of a time); a new record gets null digests.
   */
  putFingerprint(path: DavPath, etag: string, fingerprint: FileFingerprint): Promise<void>;
  /**
   * Sets the SHA-1 and MD5 of `path`'s record where they are unknown (a large upload's, read back
   * after the answer), only while that record is still the version `etag` with `fingerprint` and
   * lacks one; a digest already recorded stays. True when a digest was set. One statement: a write
   * or move meanwhile makes it a no-op.
   */
  completeDigests(path: DavPath, etag: string, fingerprint: FileFingerprint, digests: KnownDigests): Promise<boolean>;
  /** Every path with a record, in no particular order (scrub and reindex compare them with the tree). */
  paths(): Promise<DavPath[]>;
  /** Re-keys the records of `from` and its subtree under `to` (MOVE keeps inode, size, mtime). Records already under `to` are dropped first. */
  moveSubtree(from: DavPath, to: DavPath): Promise<void>;
  /** Forgets the records of `path` and its subtree. */
  forgetSubtree(path: DavPath): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// A listing's batch: what its members show besides their stat
// ---------------------------------------------------------------------------------------------

/** The records of a batch of members; a path without any is absent from each map. */
export interface MemberRecords {
  /** Each member's dead properties, in the order PropertyRecords.list gives them. */
  readonly dead: Map<DavPath, DeadProperty[]>;
  /** Each member's version record. */
  readonly versions: Map<DavPath, VersionRecord>;
}

// ---------------------------------------------------------------------------------------------
// The intent journal (architecture rule 6: intent first, then the filesystem step, then one commit)
// ---------------------------------------------------------------------------------------------

/** `touch`: a PROPPATCH that sets dead properties and the modification time together. */
export type IntentOperation = 'delete' | 'move' | 'copy' | 'touch';

export interface Intent {
  /** Assigned by the store, increasing in recording order. */
  id: number;
  op: IntentOperation;
  src: DavPath;
  dst: DavPath | null;
  depth: LockDepth;
  /** The modification time a `touch` sets (ms), else null. */
  mtime_ms: number | null;
}

export interface IntentJournalRecords {
  /** Records an intent durably before the step it announces; returns its id. */
  record(intent: Omit<Intent, 'id'>): Promise<number>;
  /**
   * Removes the intent `id` (its step is committed or rolled back). False when there was none: an
   * unknown id is no error (a neighbour's recovery may have settled it already).
   */
  complete(id: number): Promise<boolean>;
  /** Every intent not completed, oldest first (start-up recovery). */
  pending(): Promise<Intent[]>;
}

// ---------------------------------------------------------------------------------------------
// The retention index: one row per retained file (or per tree still being moved out)
// ---------------------------------------------------------------------------------------------

/** `recovered`: bytes a crash left in the retention directory without a record, re-indexed by a scrub. */
export type RetentionReason = 'overwrite' | 'delete' | 'restore' | 'recovered';

/**
 * One retained version. A row is *pending* (state 'pending', written before its bytes move, see
 * versions/retention.ts) or *listed* (visible in ?versions, counted by the policy).
 */
export interface RetentionRow {
  id: string;
  /** The DavPath the retained file had. */
  path: DavPath;
  retainedAtMs: number;
  size: number;
  etag: string;
  mtimeMs: number;
  /** Listed: why it was retained. Pending: 'pending'. */
  reason: RetentionReason | 'pending';
  /** Where its bytes are, relative to the retention directory ("/"-separated). */
  storage: string;
  /** Pending rows: the reason it gets when committed. */
  pendingReason: RetentionReason | null;
  /** Pending file rows: the inode holding the kept bytes before the overwrite. */
  sourceIno: number | null;
  /** Pending rows: a single file, or a whole tree being moved out. */
  pendingKind: 'file' | 'tree' | null;
  /** Pending tree rows: the journaled intent moving it. */
  intentId: number | null;
  /**
   * A file a DELETE or a COPY/MOVE replaced: the dead properties it had (JSON of DeadProperty[]),
   * which a restore brings back; null or absent when it had none.
   */
  properties?: string | null;
}

/** A path with listed retention rows, and when its newest was retained. */
export interface PathNewest {
  path: DavPath;
  retainedAtMs: number;
}

export interface RetentionRecords {
  /** Inserts a row (pending or listed); an existing id is a programming error (driver's error). */
  insert(row: RetentionRow): Promise<void>;
  /** In one step: removes the row `pendingId` (if present) and inserts `rows` (a moved-out tree becomes its files' versions). */
  replace(pendingId: string, rows: readonly RetentionRow[]): Promise<void>;
  /** A pending row becomes listed with its pendingReason ('overwrite' when none); pending fields cleared. Returns false when no pending row has this id. */
  commit(id: string): Promise<boolean>;
  /** The row `id`, pending or listed, or null. */
  get(id: string): Promise<RetentionRow | null>;
  /** Removes the row `id` and returns it, or null when there was none. */
  remove(id: string): Promise<RetentionRow | null>;
  /** The listed rows of `path`, newest first (retainedAtMs, then insertion order). */
  list(path: DavPath): Promise<RetentionRow[]>;
  /**
   * Removes the listed rows of `path` after its `keep` newest (in list()'s order) and returns
   * them, in one step: the per-path pruning after every overwrite, without reading the rows it
   * keeps. Of concurrent callers, each removed row is returned to one only.
   */
  removeBeyondNewest(path: DavPath, keep: number): Promise<RetentionRow[]>;
  /** The listed rows of `path` and its subtree, by path (bytewise), newest first within a path. */
  listUnder(path: DavPath): Promise<RetentionRow[]>;
  /**
   * Up to `limit` paths at or below `path` with listed rows, each with the time of its newest:
   * newest first, then bytewise by path, from after `after` (a page of the trash, trash.ts).
   */
  newestUnder(path: DavPath, limit: number, after?: PathNewest): Promise<PathNewest[]>;
  /** Every listed row, in insertion order. */
  listAll(): Promise<RetentionRow[]>;
  /** Every distinct path with listed rows. */
  listedPaths(): Promise<DavPath[]>;
  /** Every pending row, in insertion order (start-up recovery). */
  pending(): Promise<RetentionRow[]>;
  /** The pending tree rows of the intent `intentId`, in insertion order. */
  pendingOfIntent(intentId: number): Promise<RetentionRow[]>;
  /** The storage of every row, pending ones included (what the retention directory may hold). */
  storagePaths(): Promise<Set<string>>;
  /** The ids of the listed rows retained before `cutoffMs` (age pruning). */
  idsOlderThan(cutoffMs: number): Promise<string[]>;
  /** Up to `limit` listed rows, oldest first (retainedAtMs, then insertion order): budget pruning. */
  oldest(limit: number): Promise<RetentionRow[]>;
  /** How many rows are listed, and the bytes of all rows, pending ones included. */
  totals(): Promise<{ count: number; bytes: number }>;
  /** totals().bytes, asked after every retained version (pruning): answered without a pass over the rows. */
  keptBytes(): Promise<number>;
  /** MOVE: the rows of `from` and its subtree (pending and listed) follow it to `to`; rows already at `to` stay. */
  moveSubtree(from: DavPath, to: DavPath): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Stale-upload refusals and recent deletions (the data of versions/cleanupGuard.ts)
// ---------------------------------------------------------------------------------------------

export interface WriteRefusal {
  /** The stable keepdav code of the refusal (stale-version, lock-token-submitted...). */
  code: string;
  status: number;
  /** When it was recorded or last re-armed, by now(). */
  atMs: number;
}

export interface DeletedFile {
  etag: string | null;
  mtimeMs: number;
  size: number;
  /** When it was deleted, by now(). */
  atMs: number;
}

/**
 * Keyed by (path, clientId). The window ("recent") is the caller's policy: it compares atMs with
 * now(). A store may forget entries older than it likes to keep (SQLite: kept in process memory,
 * lost at restart, which only loses the protection, never data).
 */
export interface RefusalRecords {
  /** Records (or replaces) the refusal of `clientId`'s write to `path`, atMs = now(). */
  recordRefusal(path: DavPath, clientId: string, refusal: { code: string; status: number }): Promise<void>;
  /** The refusal recorded for (path, clientId), or null. */
  refusalOf(path: DavPath, clientId: string): Promise<WriteRefusal | null>;
  /** Sets the refusal's atMs to now() (a protected DELETE was refused again); no refusal: nothing changes. */
  rearmRefusal(path: DavPath, clientId: string): Promise<void>;
  /** Records (or replaces) the deletion by `clientId` of the file at `path`, atMs = now(). */
  recordDeletion(path: DavPath, clientId: string, file: Omit<DeletedFile, 'atMs'>): Promise<void>;
  /** The deletion recorded for (path, clientId), or null. */
  deletionOf(path: DavPath, clientId: string): Promise<DeletedFile | null>;
  /** Forgets the refusal and the deletion of (path, clientId) (its write succeeded). */
  settle(path: DavPath, clientId: string): Promise<void>;
  /** Forgets every refusal and deletion with atMs < cutoffMs; returns how many. */
  forgetBefore(cutoffMs: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Running tree operations and write exclusion (architecture rule 5)
// ---------------------------------------------------------------------------------------------

export interface WriteClaims {
  /**
   * Runs `action` once no other holder (on any instance sharing the state) overlaps `claims`
   * (a claim with `tree` covers its subtree), and releases them however `action` ends. Claims are
   * taken all at once (no deadlock between overlapping sets), first come first served.
   * When a claim overlaps a holder that declared an `operation` (a long COPY/MOVE/DELETE), the
   * call rejects at once with OperationInProgressError naming it (423 operation-in-progress)
   * instead of waiting. With `operation`, this holder is such an operation (startedAtMs = now()).
   */
  run<T>(claims: readonly PathClaim[], action: () => Promise<T>, operation?: Omit<RunningOperation, 'startedAtMs'>): Promise<T>;
  /** The declared operations running now (on every instance), oldest first. */
  running(): Promise<RunningOperation[]>;
  /** Whether a declared operation (on any instance) claims `path` now, alone or in a tree. */
  operationOver(path: DavPath): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/** The data members, the same on the store and inside a transaction. */
export interface StateAccess {
  readonly locks: LockRecords;
  readonly properties: PropertyRecords;
  readonly versions: VersionRecords;
  readonly journal: IntentJournalRecords;
  readonly retention: RetentionRecords;
  readonly refusals: RefusalRecords;
  /**
   * The dead properties and version records of each of `paths` (a batch of a streamed PROPFIND),
   * in one round trip: a network store answers both in one statement.
   */
  recordsOfMembers(paths: readonly DavPath[]): Promise<MemberRecords>;
  /** The authority's clock, ms since the epoch (SQLite: the injected clock; PostgreSQL: the database's). */
  now(): Promise<number>;
  /**
   * Runs `work` with every call made through `tx` in one transaction: committed when the promise
   * `work` returns resolves, rolled back (nothing of it visible, ever) when it rejects, and the
   * rejection rethrown. Other callers never observe a half-done transaction, and their writes do
   * not interleave with it (they wait, or the store serializes them). Nested: `tx.transaction`
   * is a savepoint inside the outer one. Inside `work` use `tx` only, never the outer store.
   * Keep `work` short: no filesystem step or network wait inside it.
   */
  transaction<T>(work: (tx: StateAccess) => Promise<T>): Promise<T>;
}

export interface StateStore extends StateAccess {
  /** Write exclusion and running tree operations; claims are held around transactions, never inside them. */
  readonly claims: WriteClaims;
  /**
   * A write that changes nothing anyone reads (the readiness check): resolves when the store
   * takes writes now, rejects with the driver's error (disk full, read-only, closed...) otherwise.
   */
  probeWrite(): Promise<void>;
  /** Waits for open transactions, then releases the store; calls after close reject. Idempotent. */
  close(): Promise<void>;
}
