/**
 * The running server's admin address, recorded in the state directory (`admin.json`) at start
 * and removed at a clean stop, so `keepdav scrub|prune|reindex` can reach the server that owns
 * that state rather than working on it behind the server's back.
 */
import { writeFileSync, readFileSync, rmSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_ADDRESS_FILE = 'admin.json';

export interface AdminAddress {
  url: string;
  pid: number;
}

export function recordAdminAddress(stateDir: string, address: AdminAddress): void {
  const file = join(stateDir, ADMIN_ADDRESS_FILE);
  writeFileSync(file + '.tmp', JSON.stringify(address) + '\n', { mode: 0o600 });
  renameSync(file + '.tmp', file);
}

export function forgetAdminAddress(stateDir: string, pid: number): void {
  if (readAdminAddress(stateDir)?.pid === pid) rmSync(join(stateDir, ADMIN_ADDRESS_FILE), { force: true });
}

/** The recorded address when its process is still alive (a crash leaves a stale file: ignored). */
export function readAdminAddress(stateDir: string): AdminAddress | null {
  let address: AdminAddress;
  try {
    address = JSON.parse(readFileSync(join(stateDir, ADMIN_ADDRESS_FILE), 'utf8')) as AdminAddress;
  } catch {
    return null;
  }
  if (typeof address?.url !== 'string' || !Number.isInteger(address.pid)) return null;
  try {
    process.kill(address.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return address;
}
