/**
 * Closing the server (SIGTERM in the CLI: RunningServer.close): requests in flight get the grace
 * time, and one cut at its end is still recorded, a 499 access line marked aborted, before close()
 * resolves and the process exits (README: one access line per request). What it was writing is not
 * stored, and the old content stays.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server';
import { resolveConfig } from '../../src/config';

test('an upload cut at the end of the grace time is logged (499, aborted) before close() resolves, and stores nothing', async () => {
  const base = await mkdtemp(join(tmpdir(), 'keepdav-shutdown-'));
  try {
    const root = join(base, 'root');
    await mkdir(root);
    await writeFile(join(root, 'slow.bin'), 'old content');
    const lines: string[] = [];
    const server = await startServer(resolveConfig({ root, stateDir: join(base, 'state'), port: 0 }), (l: string) => lines.push(l));
    const upload = request({ port: server.port, method: 'PUT', path: '/slow.bin', headers: { 'Content-Length': 1_000_000 } });
    const cut = new Promise<string>((resolve) => upload.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error')));
    upload.write(Buffer.alloc(1000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.close(300);
    const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.kind === 'access');
    expect(access).toEqual([expect.objectContaining({ method: 'PUT', path: '/slow.bin', status: 499, aborted: true })]);
    expect(await cut).toMatch(/ECONNRESET|EPIPE/);
    expect(await readFile(join(root, 'slow.bin'), 'utf8')).toBe('old content');
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
