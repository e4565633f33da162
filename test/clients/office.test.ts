/**
 * Microsoft Office (Word/Excel) replayed (clients.md, "Microsoft Office" and "Lock habits"):
 * LOCK of the document and of its owner file `~$name`, refresh, save under the lock, the Word
 * 2016 `Lock-Token` variant, a second user meeting the lock, and the settings made for Office
 * (`lockTokenHeaderSubmits`, `hideLockRoot`, the lock timeout floor).
 */
import { startTestServer, type TestServer } from '../support/testServer';
import { first, text } from '../support/xmlQuery';
import {
  DAV,
  MS,
  ReplayClient,
  UA,
  activeLocksIn,
  bytesOf,
  disk,
  discoverLocks,
  expectConflict,
  hdr,
  lockFacts,
  lockToken,
  microsoftLockinfo,
  win32Proppatch,
} from './replayKit';
import type { ConfigInput } from '../../src/config';

const XML = { 'Content-Type': 'text/xml; charset="utf-8"' };
const DOC = 'quarterly.docx';
const OWNER_FILE = '~$quarterly.docx';

/** Opens a document the way Word does: LOCK the document, then LOCK the owner file. */
async function openInWord(word: ReplayClient, doc: string, ownerFile: string) {
  const docLock = await word.send('LOCK', `/${doc}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('alice'));
  const ownerLock = await word.send('LOCK', `/${ownerFile}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('alice'));
  return { docLock, ownerLock };
}

describe('Microsoft Office', () => {
  let t: TestServer;
  let word: ReplayClient;
  let otherUser: ReplayClient;
  const original = bytesOf(3000, 1);

  beforeAll(async () => {
    t = await startTestServer();
    word = new ReplayClient(t, UA.word);
    otherUser = new ReplayClient(t, UA.excelOtherUser);
    expect((await t.request('PUT', `/${DOC}`, { body: original })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('open, refresh, save, second user, close', () => {
    let token = '';
    let ownerToken = '';
    const saved = bytesOf(4200, 2);

    test('LOCK of the existing document: 200; LOCK of the unmapped ~$ owner file: 201 and an empty file', async () => {
      const { docLock, ownerLock } = await openInWord(word, DOC, OWNER_FILE);
      expect(docLock.status).toBe(200);
      token = lockToken(docLock);
      const facts = lockFacts(activeLocksIn(docLock.xml())[0]);
      expect(facts).toMatchObject({ token, scope: 'exclusive', timeout: 'Second-3600', lockroot: `/${DOC}` });

      expect(ownerLock.status).toBe(201);
      ownerToken = lockToken(ownerLock);
      expect(ownerToken).not.toBe(token);
      expect(lockFacts(activeLocksIn(ownerLock.xml())[0]).lockroot).toBe(`/${OWNER_FILE}`);
      expect(await disk(t).size(OWNER_FILE)).toBe(0);
    });

    test('refresh: LOCK with If: (<T>) and no body: 200, no Lock-Token header, body = lockdiscovery with the same token', async () => {
      const res = await word.send('LOCK', `/${DOC}`, { Timeout: 'Second-3600', If: `(<${token}>)` });
      expect(res.status).toBe(200);
      expect(hdr(res, 'lock-token')).toBeUndefined();
      const root = res.xml();
      expect(`{${root.ns}}${root.local}`).toBe('{DAV:}prop');
      expect(first(root, DAV, 'lockdiscovery')).toBeDefined();
      const locks = activeLocksIn(root);
      expect(locks).toHaveLength(1);
      expect(lockFacts(locks[0])).toMatchObject({ token, timeout: 'Second-3600', lockroot: `/${DOC}` });
    });

    test('save: PUT with If: (<T>): 204 and the new bytes on disk', async () => {
      const res = await word.send('PUT', `/${DOC}`, { If: `(<${token}>)`, 'Content-Type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }, saved);
      expect(res.status).toBe(204);
      expect(hdr(res, 'etag')).toMatch(/^"[^"]+"$/);
      expect((await disk(t).bytes(DOC)).equals(saved)).toBe(true);
    });

    test('Word 2016 variant: PUT naming the lock only in Lock-Token: <T>: 423 by default (lockTokenHeaderSubmits off), file unchanged', async () => {
      // Decision (README `--lock-token-header`): a Lock-Token header is not a submitted token unless configured.
      const res = await word.send('PUT', `/${DOC}`, { 'Lock-Token': `<${token}>` }, 'word 2016 save');
      expectConflict(res, 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: [`/${DOC}`] });
      expect((await disk(t).bytes(DOC)).equals(saved)).toBe(true);
    });

    test('second user: LOCK: 423 with DAV:no-conflicting-lock naming the locked document', async () => {
      const res = await otherUser.send('LOCK', `/${DOC}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('bob'));
      expectConflict(res, 423, 'no-conflicting-lock', { element: 'no-conflicting-lock', hrefs: [`/${DOC}`] });
      expect(hdr(res, 'lock-token')).toBeUndefined();
      // The first user's lock is untouched.
      expect((await discoverLocks(word, `/${DOC}`)).map((l) => lockFacts(l).token)).toEqual([token]);
    });

    test('second user: PUT without the token: 423 with DAV:lock-token-submitted naming the lock root; file unchanged', async () => {
      const res = await otherUser.send('PUT', `/${DOC}`, {}, 'bob was here');
      expectConflict(res, 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: [`/${DOC}`] });
      expect(hdr(res, 'etag')).toMatch(/^"[^"]+"$/);
      expect((await disk(t).bytes(DOC)).equals(saved)).toBe(true);
    });

    test('PROPPATCH Win32* with no token while locked: 423 (keepdav decision: no principals, so no same-user exception; Sabre does the same)', async () => {
      const res = await word.send('PROPPATCH', `/${DOC}`, XML, win32Proppatch({ Win32FileAttributes: '00000020' }));
      expectConflict(res, 423, 'lock-token-submitted', { element: 'lock-token-submitted', hrefs: [`/${DOC}`] });
      const withToken = await word.send('PROPPATCH', `/${DOC}`, { ...XML, If: `(<${token}>)` }, win32Proppatch({ Win32FileAttributes: '00000020' }));
      expect(withToken.status).toBe(207);
    });

    test('close: UNLOCK both; DELETE of the owner file; the document is free again', async () => {
      expect((await word.send('UNLOCK', `/${DOC}`, { 'Lock-Token': `<${token}>` })).status).toBe(204);
      expect((await word.send('UNLOCK', `/${OWNER_FILE}`, { 'Lock-Token': `<${ownerToken}>` })).status).toBe(204);
      expect((await word.send('DELETE', `/${OWNER_FILE}`)).status).toBe(204);
      expect(await disk(t).exists(OWNER_FILE)).toBe(false);
      const relock = await otherUser.send('LOCK', `/${DOC}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('bob'));
      expect(relock.status).toBe(200);
      expect((await otherUser.send('UNLOCK', `/${DOC}`, { 'Lock-Token': hdr(relock, 'lock-token')! })).status).toBe(204);
    });
  });

  describe('settings made for Office', () => {
    const servers: TestServer[] = [];
    const boot = async (overrides: Partial<ConfigInput>) => {
      const s = await startTestServer(overrides);
      servers.push(s);
      expect((await s.request('PUT', `/${DOC}`, { body: original })).status).toBe(201);
      return { s, word: new ReplayClient(s, UA.word) };
    };
    afterAll(async () => {
      for (const s of servers) await s.close();
    });

    test('{ lockTokenHeaderSubmits: true }: the Word 2016 PUT with Lock-Token: <T> is accepted (204); without any token still 423', async () => {
      const { s, word: w } = await boot({ lockTokenHeaderSubmits: true });
      const lock = await w.send('LOCK', `/${DOC}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('alice'));
      expect(lock.status).toBe(200);
      const token = lockToken(lock);
      const saved = bytesOf(1234, 9);
      const res = await w.send('PUT', `/${DOC}`, { 'Lock-Token': `<${token}>` }, saved);
      expect(res.status).toBe(204);
      expect((await disk(s).bytes(DOC)).equals(saved)).toBe(true);

      const other = new ReplayClient(s, UA.excelOtherUser);
      expectConflict(await other.send('PUT', `/${DOC}`, {}, 'x'), 423, 'lock-token-submitted');
      // A Lock-Token naming some other lock is not this lock's token.
      expectConflict(await other.send('PUT', `/${DOC}`, { 'Lock-Token': '<urn:uuid:00000000-0000-4000-8000-000000000000>' }, 'x'), 423, 'lock-token-submitted');
      expect((await disk(s).bytes(DOC)).equals(saved)).toBe(true);
    });

    test('{ lockTokenHeaderSubmits: true }: only PUT, DELETE and PROPPATCH count the header; one that does not parse is no token, not a 400', async () => {
      const { s, word: w } = await boot({ lockTokenHeaderSubmits: true });
      const DIR = 'office-dir';
      expect((await s.request('MKCOL', `/${DIR}`)).status).toBe(201);
      const lock = await w.send('LOCK', `/${DIR}`, { ...XML, Timeout: 'Second-3600', Depth: '0' }, microsoftLockinfo('alice'));
      expect(lock.status).toBe(200);
      const token = lockToken(lock);
      // Adding a member to the locked folder by MKCOL or MOVE needs the token in If, as without the setting.
      expectConflict(await w.send('MKCOL', `/${DIR}/sub`, { 'Lock-Token': `<${token}>` }), 423, 'lock-token-submitted');
      expectConflict(await w.send('MOVE', `/${DOC}`, { 'Lock-Token': `<${token}>`, Destination: `${s.url}/${DIR}/${DOC}` }), 423, 'lock-token-submitted');
      expect(await disk(s).exists(`${DIR}/sub`)).toBe(false);
      expect(await disk(s).exists(DOC)).toBe(true);
      // A malformed Lock-Token changes nothing on a read, and on a counted method it is simply no token.
      expect((await w.send('GET', `/${DOC}`, { 'Lock-Token': 'garbage' })).status).toBe(200);
      expect((await w.send('PROPFIND', `/${DOC}`, { 'Lock-Token': 'garbage', Depth: '0' })).status).toBe(207);
      const docLock = await w.send('LOCK', `/${DOC}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('alice'));
      expect(docLock.status).toBe(200);
      expectConflict(await w.send('PUT', `/${DOC}`, { 'Lock-Token': 'garbage' }, 'x'), 423, 'lock-token-submitted');
      expect((await w.send('PUT', `/${DOC}`, { 'Lock-Token': `<${lockToken(docLock)}>` }, 'saved')).status).toBe(204);
      expect((await disk(s).bytes(DOC)).toString()).toBe('saved');
    });

    test('{ hideLockRoot: true }: no DAV:lockroot in the LOCK answer, the refresh answer, or lockdiscovery', async () => {
      const { word: w } = await boot({ hideLockRoot: true });
      const lock = await w.send('LOCK', `/${DOC}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('alice'));
      expect(lock.status).toBe(200);
      const token = lockToken(lock);
      const granted = activeLocksIn(lock.xml());
      expect(granted).toHaveLength(1);
      expect(lockFacts(granted[0])).toMatchObject({ token, lockroot: undefined });
      expect(first(lock.xml(), DAV, 'lockroot')).toBeUndefined();

      const refreshed = await w.send('LOCK', `/${DOC}`, { Timeout: 'Second-3600', If: `(<${token}>)` });
      expect(refreshed.status).toBe(200);
      expect(first(refreshed.xml(), DAV, 'lockroot')).toBeUndefined();
      expect(activeLocksIn(refreshed.xml())).toHaveLength(1);

      const discovered = await discoverLocks(w, `/${DOC}`);
      expect(discovered.map((l) => lockFacts(l).token)).toEqual([token]);
      expect(discovered.map((l) => first(l, DAV, 'lockroot'))).toEqual([undefined]);
    });

    test('{ lockTimeout: { minSeconds: 600 } }: Office asking Second-120 is granted Second-600 (LOCK and refresh)', async () => {
      const { word: w } = await boot({ lockTimeout: { minSeconds: 600 } });
      const lock = await w.send('LOCK', `/${DOC}`, { ...XML, Timeout: 'Second-120' }, microsoftLockinfo('alice'));
      expect(lock.status).toBe(200);
      const token = lockToken(lock);
      expect(lockFacts(activeLocksIn(lock.xml())[0]).timeout).toBe('Second-600');
      const refreshed = await w.send('LOCK', `/${DOC}`, { Timeout: 'Second-120', If: `(<${token}>)` });
      expect(refreshed.status).toBe(200);
      expect(lockFacts(activeLocksIn(refreshed.xml())[0]).timeout).toBe('Second-600');
    });
  });

  test('Word and Excel of several users LOCK the same unmapped ~$ owner file at once: exactly one 201, the others 423', async () => {
    const path = '/~$race.xlsx';
    const users = Array.from({ length: 8 }, (_, i) => new ReplayClient(t, `${UA.excelOtherUser} #${i}`));
    const answers = await Promise.all(users.map((u, i) => u.send('LOCK', path, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo(`user${i}`))));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, ...Array(7).fill(423)]);
    for (const a of answers.filter((x) => x.status === 423)) expectConflict(a, 423, 'no-conflicting-lock');
    expect(await discoverLocks(word, path)).toHaveLength(1);
    expect(await disk(t).size(path.slice(1))).toBe(0);
  });

  test('the ~$ owner file keeps its Win32 attributes (hidden) set by PROPPATCH under its own lock', async () => {
    const owner = '~$budget.xlsx';
    const lock = await word.send('LOCK', `/${owner}`, { ...XML, Timeout: 'Second-3600' }, microsoftLockinfo('alice'));
    expect(lock.status).toBe(201);
    const token = lockToken(lock);
    const res = await word.send('PROPPATCH', `/${owner}`, { ...XML, If: `(<${token}>)` }, win32Proppatch({ Win32FileAttributes: '00000022' }));
    expect(res.status).toBe(207);
    const found = await word.send('PROPFIND', `/${owner}`, { ...XML, Depth: '0' },
      '<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:"><Z:Win32FileAttributes/></D:prop></D:propfind>');
    expect(found.status).toBe(207);
    expect(text(found.xml(), MS, 'Win32FileAttributes')).toBe('00000022');
  });
});
