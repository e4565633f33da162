/**
 * Readiness (GET /readyz): the state store is open and takes a write, the root and the state
 * directory take a small write, and neither disk is full. Each check gives ok or the reason.
 */
import { statfs } from 'node:fs/promises';
import type { Services } from '../methods/context';
import { probeWrite } from '../storage/diskUsage';

/** Below this much free space a disk counts as full: an upload could not complete. */
export const FULL_BELOW_BYTES = 1024 * 1024;

export interface Readiness {
  ready: boolean;
  /** Why not, the first failing check's reason (absent when ready). */
  reason?: string;
  checks: Record<string, string>;
}

async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return 'no space left';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? (err instanceof Error ? err.message : String(err));
}

export function createReadinessCheck(services: Services): () => Promise<Readiness> {
  const { root, stateDir } = services.config;
  return async () => {
    const checks: Record<string, string> = {};
    const failures: string[] = [];
    const check = async (name: string, describe: string, probe: () => Promise<void> | void) => {
      try {
        await probe();
        checks[name] = 'ok';
      } catch (err) {
        checks[name] = reasonOf(err);
        failures.push(`${describe}: ${checks[name]}`);
      }
    };
    await check('stateStore', 'the state store does not take writes', () => services.state.probeWrite());
    await check('stateDir', `the state directory ${stateDir} is not writable`, () => probeWrite(stateDir));
    await check('root', `the root ${root} is not writable`, () => services.store.probeWritable());
    for (const [name, freeOf] of [['stateDisk', () => freeBytes(stateDir)], ['dataDisk', async () => (await services.store.space()).free]] as const) {
      await check(name, `the ${name === 'dataDisk' ? 'data' : 'state'} disk is full`, async () => {
        const free = await freeOf();
        if (free < FULL_BELOW_BYTES) throw Object.assign(new Error(`${free} bytes free`), { code: `${free} bytes free` });
      });
    }
    return failures.length === 0 ? { ready: true, checks } : { ready: false, reason: failures.join('; '), checks };
  };
}
