/**
 * Members' plain-listing responses (plainListing.ts) as they were last rendered, reused while
 * nothing they are made of has changed. Clients list the same folders over and over (a mounted
 * drive polls every open window, a sync client walks its tree each run), and rendering each
 * member anew was most of a listing's main-thread time: its strings, the dates, the escaping, and
 * the collector's work to reclaim them.
 *
 * A response is a function of the request's property names, the member's path (its href, display
 * name and content type) and the stat fields, ETag and checksums it shows; the ETag is the version
 * record's when the record matches the file, otherwise derived from the inode, size and mtime. So
 * an entry is kept with the parsed request it was rendered for (the same frozen object for the
 * same body, parsedBodyCache.ts), those stat fields, the recorded ETag and the checksums text, and
 * is used only when every one of them is equal: the listing still gives each member's stat (read,
 * or kept while its directory did not change: storage/listingCache.ts) and looks up its record,
 * the cache only spares the rendering. One entry per path (a second property set replaces the
 * first), at most BUDGET_BYTES of text and bookkeeping; the oldest entries go first, and all of
 * them once no listing came for FORGET_AFTER_MS. One listing uses at most half of that
 * (listingShare), found or added, so a folder too large to keep keeps its first members and does
 * not push out every other folder's on each listing only to miss them all again the next time.
 *
 * Usage:
 *   const rendered = renderedMembersOf(services);
 *   const text = rendered.get(request, stat, recordedEtag) ?? rendered.remember(request, stat, recordedEtag, render());
 */
import type { Services } from '../context';
import type { PropfindRequest } from '../../xml/requests';
import type { ResourceStat } from '../../storage/resourceStore';
import type { DavPath } from '../../paths/davPath';

/**
 * Text and bookkeeping kept per server: about 20,000 members of a typical listing (measured: 580
 * bytes of heap each), so a folder of 10,000 is kept whole. With 3 MiB, 7,300 of its members were
 * rendered anew on every listing: 17 ms a listing against 6.4-9.5 with them kept, and a higher
 * peak (90 MiB against 86) from the garbage of rendering them.
 */
export const BUDGET_BYTES = 12 * 1024 * 1024;
/** Everything kept is let go once no listing has used it for this long (a server between busy spells holds none of it). */
export const FORGET_AFTER_MS = 5_000;
/** What an entry costs besides its text (the entry, its map slot, the path key), estimated. */
const ENTRY_OVERHEAD = 160;

/** The stat fields a member's response shows, or its derived ETag is made of (the device is neither). */
type ShownStat = Pick<ResourceStat, 'isCollection' | 'size' | 'mtimeMs' | 'ctimeMs' | 'birthtimeMs' | 'ino'>;

/** A rendered response and what it was rendered from. */
interface RenderedMember extends KeptText, ShownStat {
  request: PropfindRequest;
  recordedEtag: string | null;
  /** The oc:checksums text shown (null when not asked or unknown): a large upload's digests may be recorded after its ETag. */
  checksums: string | null;
}

/** A response's text with its UTF-8 length, so a batch's bytes are allocated once. */
export interface MemberText {
  text: string;
  byteLength: number;
}

/** A kept response, with what keeping it costs (as `usage` counts bytes). */
export interface KeptText extends MemberText {
  cost: number;
}

export class RenderedMembers {
  private readonly entries = new Map<DavPath, RenderedMember>();
  private bytes = 0;
  private lastListingAt = 0;
  private forgetting: NodeJS.Timeout | null = null;

  constructor(
    private readonly budgetBytes = BUDGET_BYTES,
    private readonly forgetAfterMs = FORGET_AFTER_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A listing is using what is kept: it stays for another forgetAfterMs at least. */
  listingStarts(): void {
    this.lastListingAt = this.now();
    if (this.forgetting === null && this.forgetAfterMs > 0) {
      this.forgetting = setInterval(() => this.forgetIfUnused(), this.forgetAfterMs).unref();
    }
  }

  /** Lets everything go when no listing started for forgetAfterMs (called by the timer; tests call it too). */
  forgetIfUnused(): void {
    if (this.now() - this.lastListingAt < this.forgetAfterMs) return;
    this.entries.clear();
    this.bytes = 0;
    if (this.forgetting !== null) clearInterval(this.forgetting);
    this.forgetting = null;
  }

  /** How many bytes (as `usage` counts them) one listing may use, found or added. */
  get listingShare(): number {
    return this.budgetBytes / 2;
  }

  /** The text rendered for this member under `request`, if neither changed since. */
  get(request: PropfindRequest, stat: ResourceStat, recordedEtag: string | null, checksums: string | null = null): KeptText | undefined {
    const entry = this.entries.get(stat.path);
    if (
      entry === undefined ||
      entry.request !== request ||
      entry.isCollection !== stat.isCollection ||
      entry.size !== stat.size ||
      entry.mtimeMs !== stat.mtimeMs ||
      entry.ctimeMs !== stat.ctimeMs ||
      entry.birthtimeMs !== stat.birthtimeMs ||
      entry.ino !== stat.ino ||
      entry.recordedEtag !== recordedEtag ||
      entry.checksums !== checksums
    ) {
      return undefined;
    }
    return entry;
  }

  /** Keeps `text`, rendered for this member under `request`; returns it with its length and cost. */
  remember(request: PropfindRequest, stat: ResourceStat, recordedEtag: string | null, text: string, checksums: string | null = null): KeptText {
    const { path, isCollection, size, mtimeMs, ctimeMs, birthtimeMs, ino } = stat;
    const byteLength = Buffer.byteLength(text);
    const entry: RenderedMember = { request, isCollection, size, mtimeMs, ctimeMs, birthtimeMs, ino, recordedEtag, checksums, text, byteLength, cost: byteLength + path.length + ENTRY_OVERHEAD };
    this.forget(path);
    this.entries.set(path, entry);
    this.bytes += entry.cost;
    if (this.bytes > this.budgetBytes) this.evictOldest();
    return entry;
  }

  /** How many members and bytes are kept (for tests). */
  get usage(): { members: number; bytes: number } {
    return { members: this.entries.size, bytes: this.bytes };
  }

  private forget(path: DavPath): void {
    const old = this.entries.get(path);
    if (old === undefined) return;
    this.entries.delete(path);
    this.bytes -= old.cost;
  }

  /**
   * Drops the oldest entries down to three quarters of the budget, in one pass: a Map keeps the
   * slots of deleted entries until it is rebuilt, so starting from the oldest again for every
   * entry would walk past all those deleted before (a listing of 10,000 spent a fifth of its time
   * there).
   */
  private evictOldest(): void {
    const target = (this.budgetBytes * 3) / 4;
    for (const [path, entry] of this.entries) {
      if (this.bytes <= target) break;
      this.entries.delete(path);
      this.bytes -= entry.cost;
    }
  }
}

/** One cache per server: its base path decides the hrefs. */
const perServer = new WeakMap<Services, RenderedMembers>();

export function renderedMembersOf(services: Services): RenderedMembers {
  let rendered = perServer.get(services);
  if (rendered === undefined) perServer.set(services, (rendered = new RenderedMembers()));
  return rendered;
}

/** `text` with its UTF-8 length, for a response that is not kept. */
export function textOf(text: string): MemberText {
  return { text, byteLength: Buffer.byteLength(text) };
}

/** The UTF-8 bytes of `texts`, in one buffer. */
export function bytesOf(texts: readonly MemberText[]): Buffer {
  let total = 0;
  for (const t of texts) total += t.byteLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  // A text as long in bytes as in characters is ASCII, the same in Latin-1, whose copy is faster.
  for (const t of texts) at += out.write(t.text, at, t.byteLength, t.byteLength === t.text.length ? 'latin1' : 'utf8');
  return out;
}

/** A batch's bytes by the first of the kept texts they were made of (see keptBytesOf). */
const bytesFrom = new WeakMap<KeptText, { texts: readonly MemberText[]; bytes: Buffer }>();

/**
 * The UTF-8 bytes of a batch's `texts`: the same buffer as the last time this batch was written
 * from the very same kept texts (RenderedMembers entries, which stay the same objects while
 * nothing they show changed), else made anew. A busy listing of 1,000 files made 300 KB of
 * buffers each time (under 16 connections, 16.6 MiB of them waiting to be collected). The buffer
 * is found through its first text, and goes when that text's entry does.
 */
export function keptBytesOf(texts: readonly MemberText[]): Buffer {
  const first = texts[0];
  if (first === undefined || !isKept(first)) return bytesOf(texts);
  const kept = bytesFrom.get(first);
  if (kept !== undefined && kept.texts.length === texts.length && kept.texts.every((t, i) => t === texts[i])) return kept.bytes;
  const bytes = bytesOf(texts);
  if (texts.every(isKept)) bytesFrom.set(first, { texts, bytes });
  return bytes;
}

/** A text kept by RenderedMembers (textOf's are not). */
function isKept(text: MemberText): text is KeptText {
  return 'cost' in text;
}
