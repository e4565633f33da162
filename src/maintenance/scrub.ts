/**
 * The scrub: checks every file against its version record and every retained version against
 * its bytes, and repairs what the index got wrong. What it fixes: version records of files that
 * are gone (removed), retained versions whose bytes are gone (forgotten), and bytes the retention
 * directory holds without a record (a crash between the rename and the row): re-indexed as
 * versions of `/recovered/<storage path>` (reason `recovered`), listable and restorable like any
 * other. What it only reports: files changed behind the server's back (their ETag already
 * follows the file) and retained versions whose size differs from their record.
 */
import { createHash } from 'node:crypto';
import type { Services } from '../methods/context';
import { derivedEtag } from '../versions/versionStore';
import { OperationInProgressError } from '../concurrency/pathMutex';
import type { TaskContext } from './taskRunner';
import { eachFileClaimed } from './walk';

/** Where re-indexed orphans are listed: `keepdav versions /recovered/...` or `?versions` there. */
export const RECOVERED_PREFIX = '/recovered/';
/** At most this many paths are named per finding in a result (the counts are always exact). */
const NAMED = 100;

function named(list: string[], item: string): void {
  if (list.length < NAMED) list.push(item);
}

export async function scrub(services: Services, ctx: TaskContext): Promise<Record<string, unknown>> {
  const { store, versions, retention, writes } = services;
  const report = {
    filesChecked: 0,
    filesMatching: 0,
    filesUnrecorded: 0,
    filesChangedOutside: 0,
    filesBusy: 0,
    staleRecordsRemoved: 0,
    retainedChecked: 0,
    retainedDamaged: 0,
    retainedMissingForgotten: 0,
    orphansReindexed: 0,
    changedOutside: [] as string[],
    damaged: [] as string[],
    reindexed: [] as Array<{ id: string; path: string; size: number }>,
  };

  ctx.phase('files');
  const { seen, busy } = await eachFileClaimed(store, writes, ctx, (now) => {
    const record = versions.recordOf(now.path);
    if (!record) report.filesUnrecorded += 1;
    else if (record.ino === now.ino && record.size === now.size && record.mtimeMs === now.mtimeMs) report.filesMatching += 1;
    else {
      report.filesChangedOutside += 1;
      named(report.changedOutside, now.path);
    }
  });
  report.filesChecked = seen.size;
  report.filesBusy = busy;

  ctx.phase('records');
  for (const path of versions.recordedPaths()) {
    if (!seen.has(path)) {
      await writes.run([{ path, tree: false }], async () => {
        const now = await store.stat(path).catch(() => null);
        if (now === null) {
          versions.forgetSubtree(path);
          report.staleRecordsRemoved += 1;
        }
      }).catch((err: unknown) => {
        if (!(err instanceof OperationInProgressError)) throw err;
      });
    }
    await ctx.step();
  }

  ctx.phase('retained');
  for (const version of [...retention.records()]) {
    report.retainedChecked += 1;
    const bytes = await store.keptFingerprint(version.storage).catch(() => null);
    if (bytes === null) {
      await retention.discard(version.id);
      report.retainedMissingForgotten += 1;
    } else if (bytes.isDirectory || bytes.size !== version.size) {
      report.retainedDamaged += 1;
      named(report.damaged, `${version.path} (version ${version.id})`);
    }
    await ctx.step();
  }

  ctx.phase('orphans');
  const known = retention.storagePaths();
  for await (const storage of store.allKeptFiles()) {
    if (!retention.isKnownStorage(storage, known)) {
      const stats = await store.keptFingerprint(storage).catch(() => null);
      // Re-checked after the await: a version being retained right now is not an orphan.
      if (stats && !stats.isDirectory && !retention.isKnownStorage(storage, retention.storagePaths())) {
        const id = orphanId(storage);
        const path = RECOVERED_PREFIX + storage;
        retention.adopt({ id, path, retainedAtMs: retainedTimeOf(storage, stats.mtimeMs), size: stats.size, etag: derivedEtag(stats), mtimeMs: stats.mtimeMs, reason: 'recovered' }, storage);
        report.orphansReindexed += 1;
        if (report.reindexed.length < NAMED) report.reindexed.push({ id, path, size: stats.size });
      }
    }
    await ctx.step();
  }
  return report;
}

/** A stable id for bytes found at `storage`: the time-ordered prefix of its bundle, then a hash of the path. */
function orphanId(storage: string): string {
  const top = storage.split('/')[0];
  const prefix = /^[0-9a-f]{8}$/.test(top) ? top : '00000000';
  return prefix + createHash('sha256').update(storage).digest('hex').slice(0, 16);
}

/** Version ids start with 8 hex digits of the retention time in seconds; else the file's mtime. */
function retainedTimeOf(storage: string, mtimeMs: number): number {
  const top = storage.split('/')[0];
  return /^[0-9a-f]{8}$/.test(top) ? parseInt(top, 16) * 1000 : mtimeMs;
}
