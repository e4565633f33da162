/**
 * The scrub: checks every file against its version record and every retained version against
 * its bytes, and repairs what the index got wrong. What it fixes: version records of files that
 * are gone (removed), retained versions whose bytes are gone (forgotten), and bytes the retention
 * directory holds without a record: re-indexed as versions of `/recovered/<storage path>`
 * (reason `recovered`), listable and restorable like any other, by the same rule start-up applies
 * (versions/orphanBytes.ts). What it only reports: files changed behind the server's back (their ETag already
 * follows the file) and retained versions whose size differs from their record.
 */
import type { Services } from '../methods/context';
import { settleOrphanBytes } from '../versions/orphanBytes';
import { OperationInProgressError } from '../concurrency/pathMutex';
import type { TaskContext } from './taskRunner';
import { eachFileClaimed } from './walk';

/** At most this many paths are named per finding in a result (the counts are always exact). */
const NAMED = 100;

function named(list: string[], item: string): void {
  if (list.length < NAMED) list.push(item);
}

export async function scrub(services: Services, ctx: TaskContext): Promise<Record<string, unknown>> {
  const { store, versions, retention, state } = services;
  const writes = state.claims;
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
  const { seen, busy } = await eachFileClaimed(store, writes, ctx, async (now) => {
    const record = await versions.recordOf(now.path);
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
  for (const path of await versions.recordedPaths()) {
    if (!seen.has(path)) {
      await writes.run([{ path, tree: false }], async () => {
        const now = await store.stat(path).catch(() => null);
        if (now === null) {
          await state.versions.forgetSubtree(path);
          report.staleRecordsRemoved += 1;
        }
      }).catch((err: unknown) => {
        if (!(err instanceof OperationInProgressError)) throw err;
      });
    }
    await ctx.step();
  }

  ctx.phase('retained');
  for (const version of await retention.records()) {
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
  // The one rule for unnamed kept bytes (versions/orphanBytes.ts); half-kept leftovers wait for the next start.
  const orphans = await settleOrphanBytes(retention, store, { freeLeftovers: false, step: () => ctx.step() });
  report.orphansReindexed = orphans.reindexed.length;
  report.reindexed = orphans.reindexed.slice(0, NAMED);
  return report;
}
