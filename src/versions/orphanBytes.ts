/**
 * Kept bytes that no retention row names: the one rule for them, applied alike at start-up
 * (after recovery) and by the scrub (issue 8: the two used to disagree, start-up deleting what the
 * scrub re-indexed). semantics.md "Nothing is lost" decides it: such bytes are re-indexed as
 * versions of `/recovered/<key>` (reason `recovered`), listable and restorable like any other.
 * Only what can never be a whole version goes: half-kept copies (a copy across disks cut short:
 * its source stayed whole, and recovery already judged it) and the temporaries of an interrupted
 * upload that were inside a deleted tree (`.keepdav-` names, which no URL can reach).
 */
import { createHash } from 'node:crypto';
import type { ResourceStore } from '../storage/resourceStore';
import { hasReservedSegment } from '../storage/containment';
import { derivedTag } from '../storage/resourceStat';
import type { RetentionStore } from './retention';

/** Where re-indexed orphans are listed: `keepdav versions /recovered/...` or `?versions` there. */
export const RECOVERED_PREFIX = '/recovered/';

export interface OrphanReport {
  /** The versions re-indexed (all of them; callers name as many as they like). */
  reindexed: Array<{ id: string; path: string; size: number }>;
  /** Kept entries freed: half-kept copies, reserved-name temporaries, empty directories. */
  removed: number;
}

export interface OrphanOptions {
  /**
   * Free the leftovers too: only when no write can be in flight (start-up, before serving), since
   * a copy across disks being made right now looks like a half-kept one. The scrub, which runs
   * while the server serves, leaves them for the next start.
   */
  freeLeftovers: boolean;
  /** Awaited after each kept file (a maintenance task yields there). */
  step?: () => Promise<void>;
}

/**
 * Re-indexes every kept file no row names (and, with `freeLeftovers`, frees the half-kept
 * leftovers). A file is re-checked against the rows just before it is adopted, so a version being
 * retained meanwhile is never taken for an orphan.
 */
export async function settleOrphanBytes(retention: RetentionStore, store: ResourceStore, options: OrphanOptions): Promise<OrphanReport> {
  const report: OrphanReport = { reindexed: [], removed: 0 };
  const known = await retention.storagePaths();
  const reserved: string[] = [];
  for await (const key of store.allKeptFiles()) {
    if (!retention.isKnownStorage(key, known)) {
      if (hasReservedSegment(key)) reserved.push(key);
      else await adoptIfOrphan(retention, store, key, report);
    }
    await options.step?.();
  }
  if (!options.freeLeftovers) return report;
  for (const key of reserved) {
    await store.removeKept(key);
    report.removed += 1;
  }
  // Everything whole is named now: what the sweep frees is half-kept copies and empty directories.
  report.removed += await store.sweepKept(await retention.storagePaths());
  return report;
}

async function adoptIfOrphan(retention: RetentionStore, store: ResourceStore, key: string, report: OrphanReport): Promise<void> {
  const kept = await store.keptFingerprint(key).catch(() => null);
  if (kept === null || kept.isDirectory || retention.isKnownStorage(key, await retention.storagePaths())) return;
  const id = orphanId(key);
  const path = RECOVERED_PREFIX + key;
  await retention.adopt({
    id, path, retainedAtMs: retainedTimeOf(key, kept.mtimeMs), size: kept.size, etag: derivedTag(kept), mtimeMs: kept.mtimeMs, reason: 'recovered',
  }, key);
  report.reindexed.push({ id, path, size: kept.size });
}

/** A stable id for bytes found at `key`: the time-ordered prefix of its bundle, then a hash of the key. */
function orphanId(key: string): string {
  const top = key.split('/')[0];
  const prefix = /^[0-9a-f]{8}$/.test(top) ? top : '00000000';
  return prefix + createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Version ids start with 8 hex digits of the retention time in seconds; else the file's mtime. */
function retainedTimeOf(key: string, mtimeMs: number): number {
  const top = key.split('/')[0];
  return /^[0-9a-f]{8}$/.test(top) ? parseInt(top, 16) * 1000 : mtimeMs;
}
