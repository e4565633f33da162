/**
 * The temporary files of uploads (`.keepdav-tmp-*`), in progress or left behind, wherever the
 * server puts them: its uploads directory (`uploads` in the state directory,
 * src/storage/uploadsDirectory.ts), the root itself, and each of `dirs` (relative to the root),
 * where a write whose directory cannot be renamed from the uploads directory puts them. Paths
 * relative to the root, or to the state directory for those in `uploads`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SMALL_BODY_MAX } from '../../src/storage/smallBodyWrite';

/**
 * A body at least this long streams into its temporary as it arrives, so uploadTemporaries sees
 * an upload of it under way; a shorter one of announced length is read into memory first and has
 * a temporary only for the moment it is written (src/storage/smallBodyWrite.ts).
 */
export const STREAMED_BODY_MIN = SMALL_BODY_MAX + 1;

export async function uploadTemporaries(server: { root: string; stateDir: string }, ...dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const [base, dir] of [[server.stateDir, 'uploads'], ...['', ...dirs].map((d) => [server.root, d])]) {
    const names = await readdir(join(base, dir)).catch(() => [] as string[]);
    found.push(...names.filter((n) => n.startsWith('.keepdav-tmp-')).map((n) => join(dir, n)));
  }
  return found;
}
