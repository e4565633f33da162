/**
 * The state of a server from before the state-store seam (test/fixtures/pre-seam-state, made by
 * keepdav at commit 92abdfd: a PUT, an overwrite, a DELETE, a PROPPATCH and a LOCK; made-by.json
 * says what it answered) opens with the schema module's migration 1 and keeps every lock,
 * property, version and deleted file; its tables end up exactly as a new database's.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { resolveConfig } from '../../../src/config';
import { startServer, type RunningServer } from '../../../src/server';
import { silentLogger } from '../../../src/logging/logger';
import { SCHEMA_VERSION, migrate, schemaVersionOf, NewerSchemaError } from '../../../src/state/sqlite/schema';
import { TestClock } from '../../support/testClock';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'pre-seam-state');

interface MadeBy {
  token: string;
  versions: string[];
  madeAtMs: number;
}

function tablesOf(db: Database.Database): Record<string, unknown> {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
  const indexes = db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
  return { indexes, ...Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`PRAGMA table_info(${name})`).all()])) };
}

describe('a state database made before the seam', () => {
  let base: string;
  let server: RunningServer | null = null;
  let made: MadeBy;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'keepdav-migration-'));
    await cp(FIXTURE, base, { recursive: true, preserveTimestamps: true });
    made = JSON.parse(await readFile(join(base, 'made-by.json'), 'utf8')) as MadeBy;
  });
  afterEach(async () => {
    await server?.close(1000);
    server = null;
    await rm(base, { recursive: true, force: true });
  });

  test('is at schema version 0 and migrates to the same tables a new database has', () => {
    const old = new Database(join(base, 'state', 'keepdav.sqlite'));
    expect(schemaVersionOf(old)).toBe(0);
    expect(migrate(old)).toEqual([1, 2]);
    expect(schemaVersionOf(old)).toBe(SCHEMA_VERSION);
    expect(migrate(old)).toEqual([]);
    const fresh = new Database(':memory:');
    migrate(fresh);
    expect(tablesOf(old)).toEqual(tablesOf(fresh));
    old.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    expect(() => migrate(old)).toThrow(NewerSchemaError);
    old.close();
  });

  test('a server started on it keeps its lock, property, versions and trash', async () => {
    // The server's clock stands a minute after the fixture was made, so its day-long lock is still on.
    const clock = new TestClock(made.madeAtMs + 60_000);
    server = await startServer(resolveConfig({ root: join(base, 'root'), stateDir: join(base, 'state'), port: 0, host: '127.0.0.1' }), silentLogger(), { clock: clock.now });
    const url = (path: string) => new URL(path.slice(1), server!.url);
    expect((await fetch(url('/docs/a.txt'), { method: 'PUT', body: 'no token' })).status).toBe(423);
    const withToken = await fetch(url('/docs/a.txt'), { method: 'PUT', body: 'third', headers: { If: `(${made.token})` } });
    expect(withToken.status).toBe(204);

    const propfind = await fetch(url('/docs/a.txt'), {
      method: 'PROPFIND', headers: { Depth: '0', 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:x"><D:prop><Z:color/><D:lockdiscovery/></D:prop></D:propfind>',
    });
    const xml = await propfind.text();
    expect(xml).toContain('blue');
    expect(xml).toContain(made.token.slice(1, -1));

    const versions = (await (await fetch(url('/docs/a.txt?versions'))).json()) as { versions: Array<{ id: string }> };
    expect(versions.versions.map((v) => v.id)).toEqual(expect.arrayContaining(made.versions));
    expect(versions.versions).toHaveLength(made.versions.length + 1); // "second", kept by the PUT above
    expect(await (await fetch(url(`/docs/a.txt?version=${made.versions[0]}`))).text()).toBe('first');

    const trash = (await (await fetch(url('/docs/?trash'))).json()) as { deleted: Array<{ path: string }> };
    expect(trash.deleted.map((d) => d.path)).toEqual(['/docs/gone.txt']);
  });
});
