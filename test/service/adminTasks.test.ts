/**
 * The admin listener's maintenance tasks: 202 and an id, progress while running, one task at a
 * time (409 AutomationConflict naming the running one, also under two concurrent starts),
 * cancel, the scrub re-indexing bytes a crash left in the retention directory, the prune
 * applying retention now. Also the command line's `keepdav scrub` against a running server.
 */
import { request as httpRequest } from 'node:http';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { startTestServer, type TestServer } from '../support/testServer';
import { admin, taskWhenDone } from '../support/adminKit';
import { KEEPDAV_BIN, KEEPDAV_NODE_FLAGS } from '../support/keepdavBin';
import { STREAMED_BODY_MIN, uploadTemporaries } from '../support/uploadTemporaries';

const CONFLICT_MESSAGE = 'Task locked. Cannot start a new automation since job is already running.';
const BIN = KEEPDAV_BIN;

/** Runs the CLI without blocking this process (the server answering it may run in here). */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...KEEPDAV_NODE_FLAGS, BIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

let t: TestServer;
let adminUrl: string;

beforeAll(async () => {
  t = await startTestServer({ adminListen: '127.0.0.1:0' });
  adminUrl = t.server.adminUrl!;
  for (const name of ['a.txt', 'b.txt', 'slow.bin']) expect((await t.request('PUT', `/${name}`, { body: `content of ${name}` })).status).toBe(201);
});

afterAll(async () => {
  await t.close();
});

/** Starts a PUT of /slow.bin that sends 10 of its bytes and waits; `finish` sends the rest. */
async function stalledPut(): Promise<{ finish(): Promise<number> }> {
  const length = STREAMED_BODY_MIN + 1000;
  const req = httpRequest({ host: '127.0.0.1', port: t.port, method: 'PUT', path: '/slow.bin', headers: { 'Content-Length': length }, agent: false });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.write('x'.repeat(10));
  // The upload is under way (holding /slow.bin's write claim) once its temporary file exists.
  while ((await uploadTemporaries(t)).length === 0) await new Promise((r) => setTimeout(r, 5));
  return {
    finish() {
      req.end('y'.repeat(length - 10));
      return answered;
    },
  };
}

describe('maintenance tasks on the admin listener', () => {
  it('runs one task at a time: two concurrent starts give one 202 and one 409 naming the running task; progress; cancel', async () => {
    const upload = await stalledPut();
    const [first, second] = await Promise.all([admin(adminUrl, 'POST', '/tasks', { task: 'scrub' }), admin(adminUrl, 'POST', '/tasks', { task: 'prune' })]);
    const answers = [first, second].sort((x, y) => x.status - y.status);
    expect(answers.map((a) => a.status)).toEqual([202, 409]);
    const started = answers[0].json();
    expect(started.id).toMatch(/^[0-9a-f-]{36}$/);
    const refusedTask = answers[1] === first ? 'scrub' : 'prune';
    expect(answers[1].json()).toEqual({ code: 'AutomationConflict', task: refusedTask, message: CONFLICT_MESSAGE, runningTaskId: started.id });

    // While the scrub waits for the upload's file, it is running and says how far it got.
    const third = await admin(adminUrl, 'POST', '/tasks', { task: 'reindex' });
    expect(third.status).toBe(409);
    expect(third.json()).toEqual({ code: 'AutomationConflict', task: 'reindex', message: CONFLICT_MESSAGE, runningTaskId: started.id });
    const running = (await admin(adminUrl, 'GET', `/tasks/${started.id}`)).json();
    expect(running).toMatchObject({ id: started.id, state: 'running', progress: { phase: 'files' } });
    expect(typeof running.progress.done).toBe('number');
    // The WebDAV server keeps serving meanwhile.
    expect((await t.request('GET', '/a.txt')).text).toBe('content of a.txt');

    const cancel = await admin(adminUrl, 'DELETE', `/tasks/${started.id}`);
    expect(cancel.status).toBe(202);
    expect(await upload.finish()).toBe(204);
    const ended = await taskWhenDone(adminUrl, started.id);
    expect(ended.state).toBe('cancelled');
    expect(ended.result).toBeUndefined();

    const list = (await admin(adminUrl, 'GET', '/tasks')).json();
    expect(list.tasks.map((x: { id: string }) => x.id)).toContain(started.id);
    // Once it ended, a new task starts.
    const again = await admin(adminUrl, 'POST', '/tasks', { task: 'reindex' });
    expect(again.status).toBe(202);
    const reindexed = await taskWhenDone(adminUrl, again.json().id);
    expect(reindexed).toMatchObject({ state: 'succeeded', result: { filesIndexed: 3, recordsRemoved: 0 } });
  });

  it('scrub re-indexes bytes a crash left in the retention directory without a record, and they can be read back', async () => {
    const storage = '5f000000/5f000000aaaabbbbccccdddd';
    await mkdir(join(t.stateDir, 'retained', '5f000000'), { recursive: true });
    await writeFile(join(t.stateDir, 'retained', storage), 'bytes a crash orphaned');
    const started = await admin(adminUrl, 'POST', '/tasks', { task: 'scrub' });
    expect(started.status).toBe(202);
    const done = await taskWhenDone(adminUrl, started.json().id);
    expect(done.state).toBe('succeeded');
    expect(done.result).toMatchObject({ filesChecked: 3, orphansReindexed: 1, retainedMissingForgotten: 0, staleRecordsRemoved: 0 });
    const [found] = done.result.reindexed;
    expect(found).toMatchObject({ path: `/recovered/${storage}`, size: 'bytes a crash orphaned'.length });

    const listed = await t.request('GET', `/recovered/${storage}?versions`);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text).versions).toEqual([expect.objectContaining({ id: found.id, reason: 'recovered' })]);
    const bytes = await t.request('GET', `/recovered/${storage}?version=${found.id}`);
    expect(bytes.text).toBe('bytes a crash orphaned');

    // A second scrub finds nothing more to fix.
    const again = await taskWhenDone(adminUrl, (await admin(adminUrl, 'POST', '/tasks', { task: 'scrub' })).json().id);
    expect(again.result).toMatchObject({ orphansReindexed: 0, retainedMissingForgotten: 0 });
    expect(again.result.retainedChecked).toBe(done.result.retainedChecked + 1);
  });

  it('scrub removes the record of a file deleted behind the server, and the CLI runs it in the server', async () => {
    // b.txt has a version record; remove the file outside keepdav.
    await rm(join(t.root, 'b.txt'));
    const run = await runCli(['scrub', '--root', t.root, '--state', t.stateDir]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`runs in the server at ${adminUrl}`);
    const record = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(record).toMatchObject({ task: 'scrub', state: 'succeeded', result: { staleRecordsRemoved: 1 } });
  });

  it('the CLI refuses to run a task beside a server that has no admin listener, saying how, and changes nothing', async () => {
    const plain = await startTestServer();
    try {
      expect((await plain.request('PUT', '/p.txt', { body: 'kept' })).status).toBe(201);
      const run = await runCli(['scrub', '--root', plain.root, '--state', plain.stateDir]);
      expect(run.status).not.toBe(0);
      expect(run.stderr.split('\n')[0]).toContain(`the state directory ${plain.stateDir} is in use by keepdav pid ${process.pid}`);
      expect(run.stderr).toContain('start it with --admin-listen so that `keepdav scrub` runs in it, or stop it first');
      expect((await plain.request('GET', '/p.txt')).text).toBe('kept');
      // Once the server is stopped the command runs directly.
      await plain.stop();
      const alone = await runCli(['scrub', '--root', plain.root, '--state', plain.stateDir]);
      expect(alone.status).toBe(0);
      expect(JSON.parse(alone.stdout.slice(alone.stdout.indexOf('{')))).toMatchObject({ task: 'scrub', state: 'succeeded' });
    } finally {
      await plain.close();
    }
  });

  it('refuses an unknown task or a body that is not JSON with 400', async () => {
    expect((await admin(adminUrl, 'POST', '/tasks', { task: 'defrag' })).json()).toMatchObject({ code: 'UnknownTask' });
    expect((await admin(adminUrl, 'POST', '/tasks', 'not json')).status).toBe(400);
    expect((await admin(adminUrl, 'GET', '/tasks/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});

describe('prune task', () => {
  it('applies the retention policy now, the age limit included', async () => {
    const p = await startTestServer({ adminListen: '127.0.0.1:0', retention: { maxAgeMs: 1 } });
    try {
      for (const body of ['one', 'two', 'three']) await p.request('PUT', '/doc.txt', { body });
      const before = JSON.parse((await p.request('GET', '/doc.txt?versions')).text).versions;
      expect(before.length).toBeGreaterThan(0);
      const done = await taskWhenDone(p.server.adminUrl!, (await admin(p.server.adminUrl!, 'POST', '/tasks', { task: 'prune' })).json().id);
      expect(done).toMatchObject({ state: 'succeeded', result: { versionsPruned: before.length, versionsKept: 0, bytesKept: 0 } });
      expect(JSON.parse((await p.request('GET', '/doc.txt?versions')).text).versions).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
