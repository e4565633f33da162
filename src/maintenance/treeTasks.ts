/**
 * The reindex (version records rebuilt from the tree) and the prune (the retention policy applied
 * now, to every path, the age limit included), and the table of all task bodies.
 */
import type { Services } from '../methods/context';
import type { TaskBody, TaskContext, TaskName } from './taskRunner';
import { eachFileClaimed } from './walk';
import { scrub } from './scrub';

/**
 * Every file's record is rewritten from its current fingerprint, keeping the ETag clients were
 * given (the recorded one when the file is unchanged, the fingerprint's otherwise), and records
 * of files that are gone are removed.
 */
export async function reindex(services: Services, ctx: TaskContext): Promise<Record<string, unknown>> {
  const { store, versions, state } = services;
  const report = { filesIndexed: 0, filesBusy: 0, recordsRemoved: 0 };
  ctx.phase('files');
  const { seen, busy } = await eachFileClaimed(store, state.claims, ctx, async (now) => {
    await versions.recordMetadataChange(now.path, now, now);
    report.filesIndexed += 1;
  });
  report.filesBusy = busy;
  ctx.phase('records');
  for (const path of await versions.recordedPaths()) {
    if (!seen.has(path) && (await store.stat(path).catch(() => null)) === null) {
      await state.versions.forgetSubtree(path);
      report.recordsRemoved += 1;
    }
    await ctx.step();
  }
  return report;
}

/** How many paths one prune call covers between yields. */
const PRUNE_BATCH = 100;

export async function prune(services: Services, ctx: TaskContext): Promise<Record<string, unknown>> {
  const { retention } = services;
  ctx.phase('paths');
  const paths = await retention.versionedPaths();
  let pruned = await retention.freeingSpace(() => retention.pruneAll([]));
  for (let i = 0; i < paths.length; i += PRUNE_BATCH) {
    pruned += await retention.prune(paths.slice(i, i + PRUNE_BATCH));
    for (let n = i; n < Math.min(paths.length, i + PRUNE_BATCH); n++) await ctx.step();
  }
  const { count, bytes } = await retention.totals();
  return { versionsPruned: pruned, versionsKept: count, bytesKept: bytes };
}

/** The task bodies over one set of services. */
export function taskBodies(services: Services): Record<TaskName, TaskBody> {
  return {
    scrub: (ctx) => scrub(services, ctx),
    prune: (ctx) => prune(services, ctx),
    reindex: (ctx) => reindex(services, ctx),
  };
}
