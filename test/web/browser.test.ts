/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The page in a real browser (Debian's chromium through puppeteer-core), checking both what the
 * page shows and what is on disk afterwards (issue 10, "Tests in a real browser"). One browser and
 * one server for the file; each test opens a page on its own folder.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, utimesSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Dialog } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../support/testServer';
import { itWhenInstalled, tempDir, removeDir } from '../support/realClientKit';
import { startAuthServer, htpasswdLine, basic, type AuthServer } from '../support/authKit';
import { chromiumInstalled, launchChromium, waitForRow, rowAction, chooseInDialog, dialogText, type BrowserSession } from '../support/browserKit';

const itBrowser = itWhenInstalled('chromium', chromiumInstalled(), 'apt-get install -y chromium');
jest.setTimeout(60_000);

let server: TestServer;
let chromium: BrowserSession | undefined;
let local: string;
const alerts: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  local = tempDir('browser');
  if (chromiumInstalled()) chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await server.close();
  removeDir(local);
});

/** A page on a fresh folder `/dir/` of the server; every JavaScript dialog (alert...) is recorded and dismissed. */
async function openFolder(dir: string): Promise<Page> {
  mkdirSync(join(server.root, dir), { recursive: true });
  const page = await chromium!.browser.newPage();
  page.on('dialog', (d: Dialog) => {
    alerts.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  await page.setViewport({ width: 1200, height: 800 });
  await page.goto(`${server.url}${dir}/`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('.kd-app');
  return page;
}

function localFile(name: string, content: string | Buffer, mtime?: Date): string {
  const path = join(local, name);
  writeFileSync(path, content);
  if (mtime) utimesSync(path, mtime, mtime);
  return path;
}

async function pick(page: Page, ...paths: string[]): Promise<void> {
  const input = await page.$('input[data-upload="files"]');
  await input!.uploadFile(...paths);
}

async function waitForUploadsDone(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n: number) => document.querySelectorAll('.kd-upload.kd-done').length >= n, { timeout: 30_000 }, count);
}

describe('the page in chromium', () => {
  itBrowser('uploads by the file picker with a progress bar per file and overall', async () => {
    const page = await openFolder('picker');
    const big = Buffer.alloc(6 * 1024 * 1024, 7);
    await pick(page, localFile('big.bin', big), localFile('small.txt', 'hello'));
    await waitForUploadsDone(page, 2);
    const bars = await page.$$eval('.kd-upload progress', (els) => els.map((e) => [(e as HTMLProgressElement).value, (e as HTMLProgressElement).max]));
    expect(bars).toEqual([[big.length, big.length], [5, 5]]);
    const overall = await page.$eval('.kd-overall', (e) => [(e as HTMLProgressElement).value, (e as HTMLProgressElement).max]);
    expect(overall).toEqual([big.length + 5, big.length + 5]);
    expect(await page.$eval('.kd-upload-summary', (e) => e.textContent)).toBe('2 uploaded');
    await waitForRow(page, 'big.bin');
    expect(readFileSync(join(server.root, 'picker', 'big.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(server.root, 'picker', 'small.txt'), 'utf8')).toBe('hello');
    await page.close();
  });

  itBrowser('shows progress while a file is on its way, and cancelling it leaves nothing on disk', async () => {
    const page = await openFolder('cancel');
    const cdp = await page.createCDPSession();
    // Slow the upload down (Chromium's own network emulation) so that it is seen half-way.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
    await pick(page, localFile('slow.bin', Buffer.alloc(32 * 1024 * 1024, 1)));
    await page.waitForFunction(() => {
      const bar = document.querySelector('.kd-upload progress') as HTMLProgressElement | null;
      return bar !== null && bar.value > 0 && bar.value < bar.max;
    }, { timeout: 30_000 });
    expect(await page.$eval('.kd-upload-status', (e) => e.textContent)).toMatch(/^\d+% of 34 MB$/);
    expect(await page.$eval('.kd-upload-summary', (e) => e.textContent)).toMatch(/^Uploading 1 file \u00b7 \d+%$/);
    await page.click('.kd-upload .kd-cancel');
    await page.waitForSelector('.kd-upload.kd-cancelled');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    // The server drops the temporary of an aborted PUT; nothing is ever visible under its name.
    await waitForRow(page, 'slow.bin', false);
    expect(readdirSync(join(server.root, 'cancel')).filter((n) => !n.startsWith('.keepdav-tmp-'))).toEqual([]);
    expect((await server.request('HEAD', '/cancel/slow.bin')).status).toBe(404);
    await page.close();
  });

  itBrowser('uploads a whole folder picked with the folder picker, creating its folders', async () => {
    const page = await openFolder('folder-pick');
    const tree = join(local, 'album');
    mkdirSync(join(tree, 'day 1'), { recursive: true });
    writeFileSync(join(tree, 'cover.jpg'), 'cover');
    writeFileSync(join(tree, 'day 1', 'beach.jpg'), 'beach');
    const input = await page.$('input[data-upload="folder"]');
    await input!.uploadFile(tree);
    await waitForUploadsDone(page, 2);
    await waitForRow(page, 'album');
    expect(readFileSync(join(server.root, 'folder-pick', 'album', 'cover.jpg'), 'utf8')).toBe('cover');
    expect(readFileSync(join(server.root, 'folder-pick', 'album', 'day 1', 'beach.jpg'), 'utf8')).toBe('beach');
    await page.close();
  });

  itBrowser('uploads files dropped on the page', async () => {
    const page = await openFolder('dropped');
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped bytes'], 'drop one.txt', { type: 'text/plain' }));
      dt.items.add(new File(['second'], 'drop-two.txt'));
      const target = document.querySelector('.kd-list')!;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await waitForUploadsDone(page, 2);
    await waitForRow(page, 'drop one.txt');
    expect(readFileSync(join(server.root, 'dropped', 'drop one.txt'), 'utf8')).toBe('dropped bytes');
    expect(readFileSync(join(server.root, 'dropped', 'drop-two.txt'), 'utf8')).toBe('second');
    await page.close();
  });

  describe('a stale upload (409 stale-version) is explained and resolved', () => {
    const old = new Date('2020-01-02T03:04:05Z');
    async function staleUpload(dir: string): Promise<{ page: Page; text: string }> {
      mkdirSync(join(server.root, dir), { recursive: true });
      writeFileSync(join(server.root, dir, 'report.txt'), 'newer on the server');
      const page = await openFolder(dir);
      await pick(page, localFile('report.txt', 'older local copy', old));
      return { page, text: await dialogText(page, 'stale-version') };
    }

    itBrowser('replace anyway: PUT with If-Match on the version shown', async () => {
      const { page, text } = await staleUpload('stale-replace');
      expect(text).toContain('newer than the one you are uploading');
      expect(text).toContain('On the server');
      expect(text).toMatch(/version [0-9a-f]/);
      await chooseInDialog(page, 'stale-version', 'replace');
      await waitForUploadsDone(page, 1);
      expect(readFileSync(join(server.root, 'stale-replace', 'report.txt'), 'utf8')).toBe('older local copy');
      const versions = JSON.parse((await server.request('GET', '/stale-replace/report.txt?versions')).text).versions as Array<{ reason: string }>;
      expect(versions.map((v) => v.reason)).toEqual(['overwrite']);
      await page.close();
    });

    itBrowser('keep both: the upload goes under a new name, the newer file stays', async () => {
      const { page } = await staleUpload('stale-keep');
      await chooseInDialog(page, 'stale-version', 'keep');
      await waitForUploadsDone(page, 1);
      await waitForRow(page, 'report (2).txt');
      expect(readFileSync(join(server.root, 'stale-keep', 'report.txt'), 'utf8')).toBe('newer on the server');
      expect(readFileSync(join(server.root, 'stale-keep', 'report (2).txt'), 'utf8')).toBe('older local copy');
      await page.close();
    });

    itBrowser('cancel: nothing is written and the upload says why', async () => {
      const { page } = await staleUpload('stale-cancel');
      await chooseInDialog(page, 'stale-version', 'cancel');
      await page.waitForSelector('.kd-upload.kd-cancelled');
      expect(await page.$eval('.kd-upload-status', (e) => e.textContent)).toContain('newer file on the server was kept');
      expect(readdirSync(join(server.root, 'stale-cancel'))).toEqual(['report.txt']);
      expect(readFileSync(join(server.root, 'stale-cancel', 'report.txt'), 'utf8')).toBe('newer on the server');
      await page.close();
    });
  });

  itBrowser('lists the versions of a file and restores one', async () => {
    await server.request('PUT', '/versions/plan.txt', { body: 'first draft' }).catch(() => undefined);
    mkdirSync(join(server.root, 'versions'), { recursive: true });
    await server.request('PUT', '/versions/plan.txt', { body: 'first draft' });
    await server.request('PUT', '/versions/plan.txt', { body: 'second draft, longer' });
    await server.request('PUT', '/versions/plan.txt', { body: 'third' });
    const page = await openFolder('versions');
    await rowAction(page, 'plan.txt', 'versions');
    const text = await dialogText(page, 'versions');
    expect(text).toContain('replaced by an upload');
    expect(text).toContain('20 bytes');
    const restoreButtons = await page.$$('dialog[data-dialog="versions"] [data-version]');
    expect(restoreButtons).toHaveLength(2);
    await restoreButtons[1].click();
    await page.waitForFunction(() => document.querySelector('.kd-toast.kd-show')?.textContent?.includes('Restored the version'));
    expect(readFileSync(join(server.root, 'versions', 'plan.txt'), 'utf8')).toBe('first draft');
    await page.close();
  });

  itBrowser('deletes a file and brings it back with Undo', async () => {
    mkdirSync(join(server.root, 'undo'), { recursive: true });
    writeFileSync(join(server.root, 'undo', 'keep me.txt'), 'precious');
    const page = await openFolder('undo');
    await rowAction(page, 'keep me.txt', 'delete');
    await waitForRow(page, 'keep me.txt', false);
    expect(existsSync(join(server.root, 'undo', 'keep me.txt'))).toBe(false);
    const undo = await page.waitForSelector('.kd-toast.kd-show .kd-toast-action');
    await undo!.click();
    await waitForRow(page, 'keep me.txt');
    expect(readFileSync(join(server.root, 'undo', 'keep me.txt'), 'utf8')).toBe('precious');
    await page.close();
  });

  itBrowser('deletes a folder and brings it back, with its files, with Undo', async () => {
    mkdirSync(join(server.root, 'undo-dir', 'album', 'inner'), { recursive: true });
    writeFileSync(join(server.root, 'undo-dir', 'album', 'one.jpg'), 'one');
    writeFileSync(join(server.root, 'undo-dir', 'album', 'inner', 'two.jpg'), 'two');
    // Deleted on its own a moment before: the folder's Undo must not bring it back.
    await server.request('PUT', '/undo-dir/album/unwanted.txt', { body: 'unwanted' });
    expect((await server.request('DELETE', '/undo-dir/album/unwanted.txt')).status).toBe(204);
    const page = await openFolder('undo-dir');
    await rowAction(page, 'album', 'delete');
    await waitForRow(page, 'album', false);
    expect(existsSync(join(server.root, 'undo-dir', 'album'))).toBe(false);
    await (await page.waitForSelector('.kd-toast.kd-show .kd-toast-action'))!.click();
    await page.waitForFunction(() => document.querySelector('.kd-toast.kd-show')?.textContent?.includes('Restored'));
    expect(readFileSync(join(server.root, 'undo-dir', 'album', 'one.jpg'), 'utf8')).toBe('one');
    expect(readFileSync(join(server.root, 'undo-dir', 'album', 'inner', 'two.jpg'), 'utf8')).toBe('two');
    expect(existsSync(join(server.root, 'undo-dir', 'album', 'unwanted.txt'))).toBe(false);
    await page.close();
  });

  itBrowser('lists the trash of a folder and restores to the old place and under a new name', async () => {
    mkdirSync(join(server.root, 'bin'), { recursive: true });
    for (const n of ['gone.txt', 'renamed.txt']) {
      await server.request('PUT', `/bin/${n}`, { body: `content of ${n}` });
      await server.request('DELETE', `/bin/${n}`);
    }
    const page = await openFolder('bin');
    await page.click('[data-action="trash"]');
    const text = await dialogText(page, 'trash');
    expect(text).toContain('gone.txt');
    expect(text).toContain('renamed.txt');
    await page.click('dialog[data-dialog="trash"] li[data-trash="/bin/gone.txt"] [data-restore="here"]');
    await waitForRow(page, 'gone.txt');
    expect(readFileSync(join(server.root, 'bin', 'gone.txt'), 'utf8')).toBe('content of gone.txt');

    await page.click('[data-action="trash"]');
    await page.waitForSelector('dialog[data-dialog="trash"][open] li[data-trash="/bin/renamed.txt"]');
    expect(await page.$('dialog[data-dialog="trash"] li[data-trash="/bin/gone.txt"]')).toBeNull();
    await page.click('dialog[data-dialog="trash"] li[data-trash="/bin/renamed.txt"] [data-restore="as"]');
    await page.waitForSelector('dialog[data-dialog="restore-as"][open] input');
    await page.$eval('dialog[data-dialog="restore-as"] input', (i) => ((i as HTMLInputElement).value = ''));
    await page.type('dialog[data-dialog="restore-as"] input', 'back again.txt');
    await page.keyboard.press('Enter');
    await waitForRow(page, 'back again.txt');
    expect(readFileSync(join(server.root, 'bin', 'back again.txt'), 'utf8')).toBe('content of renamed.txt');
    expect(existsSync(join(server.root, 'bin', 'renamed.txt'))).toBe(false);
    await page.close();
  });

  itBrowser('shows a long trash a page at a time: the newest 1,000, then older ones on demand', async () => {
    mkdirSync(join(server.root, 'heap', 'pile'), { recursive: true });
    for (let i = 0; i < 1003; i++) writeFileSync(join(server.root, 'heap', 'pile', `f${i}.txt`), `${i}`);
    expect((await server.request('DELETE', '/heap/pile')).status).toBe(204);
    const page = await openFolder('heap');
    await page.click('[data-action="trash"]');
    await page.waitForSelector('dialog[data-dialog="trash"][open] [data-trash-more]');
    expect(await page.$$('dialog[data-dialog="trash"] li[data-trash]')).toHaveLength(1000);
    await page.click('dialog[data-dialog="trash"] [data-trash-more]');
    await page.waitForFunction(() => document.querySelectorAll('dialog[data-dialog="trash"] li[data-trash]').length === 1003);
    expect(await page.$('dialog[data-dialog="trash"] [data-trash-more]')).toBeNull();
    const shown = await page.$$eval('dialog[data-dialog="trash"] li[data-trash]', (rows) => rows.map((r) => r.getAttribute('data-trash')));
    expect(new Set(shown).size).toBe(1003);
    await page.close();
  });

  itBrowser('shows a lock on the file (owner, expiry) and explains a 423 on upload with who holds the lock', async () => {
    mkdirSync(join(server.root, 'locked'), { recursive: true });
    writeFileSync(join(server.root, 'locked', 'doc.odt'), 'in use');
    const lock = await server.request('LOCK', '/locked/doc.odt', {
      headers: { Timeout: 'Second-3600', 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>Carol on her laptop</D:owner></D:lockinfo>',
    });
    expect(lock.status).toBe(200);
    const page = await openFolder('locked');
    await waitForRow(page, 'doc.odt');
    expect(await page.$eval('.kd-row [data-lock]', (e) => (e as HTMLElement).dataset.lock)).toMatch(/^Locked by Carol on her laptop until /);
    await pick(page, localFile('doc.odt', 'my edit'));
    const text = await dialogText(page, 'error');
    expect(text).toMatch(/locked by Carol on her laptop until/);
    await chooseInDialog(page, 'error', 'OK');
    await page.waitForSelector('.kd-upload.kd-failed');
    expect(readFileSync(join(server.root, 'locked', 'doc.odt'), 'utf8')).toBe('in use');
    await page.close();
  });

  itBrowser('shows the server\'s message when an upload fails (409 parent-missing)', async () => {
    const page = await openFolder('vanishing');
    await server.request('DELETE', '/vanishing/');
    await pick(page, localFile('late.txt', 'too late'));
    await page.waitForSelector('.kd-upload.kd-failed');
    expect(await page.$eval('.kd-upload.kd-failed .kd-upload-status', (e) => e.textContent)).toMatch(/parent collection \/vanishing\/ does not exist/);
    expect(existsSync(join(server.root, 'vanishing'))).toBe(false);
    await page.close();
  });

  itBrowser('keeps 10,000 entries to a few rows in the page, scrolls to the last and filters', async () => {
    mkdirSync(join(server.root, 'many'), { recursive: true });
    for (let i = 0; i < 10_000; i++) writeFileSync(join(server.root, 'many', `file-${String(i).padStart(5, '0')}.txt`), '');
    const page = await openFolder('many');
    await waitForRow(page, 'file-00000.txt');
    expect(await page.$eval('.kd-foot', (e) => e.textContent)).toContain('10000 files');
    expect((await page.$$('.kd-row')).length).toBeLessThan(100);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await waitForRow(page, 'file-09999.txt');
    expect((await page.$$('.kd-row')).length).toBeLessThan(100);
    await page.type('.kd-filter input', '00424');
    await page.waitForFunction(() => document.querySelectorAll('.kd-row').length === 1);
    await waitForRow(page, 'file-00424.txt');
    await page.$eval('.kd-filter input', (i) => {
      (i as HTMLInputElement).value = '';
      i.dispatchEvent(new Event('input'));
    });
    await page.click('.kd-sort[data-sort="name"]');
    await page.waitForFunction(() => (document.querySelector('.kd-row') as HTMLElement | null)?.dataset.name === 'file-09999.txt');
    expect(await page.$eval('.kd-sort[data-sort="name"]', (e) => [e.getAttribute('aria-pressed'), e.getAttribute('aria-label')])).toEqual(['true', 'Name, sorted descending: press to reverse']);
    await page.close();
  });

  itBrowser('renames, and moves by dragging onto a folder and onto a breadcrumb', async () => {
    mkdirSync(join(server.root, 'moves', 'inbox'), { recursive: true });
    writeFileSync(join(server.root, 'moves', 'a.txt'), 'A');
    const page = await openFolder('moves');
    await rowAction(page, 'a.txt', 'rename');
    await page.waitForSelector('dialog[data-dialog="rename"][open] input');
    await page.$eval('dialog[data-dialog="rename"] input', (i) => ((i as HTMLInputElement).value = ''));
    await page.type('dialog[data-dialog="rename"] input', 'b.txt');
    await page.keyboard.press('Enter');
    await waitForRow(page, 'b.txt');
    expect(readFileSync(join(server.root, 'moves', 'b.txt'), 'utf8')).toBe('A');
    expect(existsSync(join(server.root, 'moves', 'a.txt'))).toBe(false);

    const drag = (from: string, toSelector: string, toName: string | null) => page.evaluate((f: string, sel: string, n: string | null) => {
      const rowOf = (x: string) => [...document.querySelectorAll<HTMLElement>('.kd-row')].find((r) => r.dataset.name === x)!;
      const source = rowOf(f);
      const target = n === null ? document.querySelector<HTMLElement>(sel)! : rowOf(n);
      const dt = new DataTransfer();
      source.dispatchEvent(new DragEvent('dragstart', { dataTransfer: dt, bubbles: true }));
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, from, toSelector, toName);
    await drag('b.txt', '', 'inbox');
    await waitForRow(page, 'b.txt', false);
    expect(readFileSync(join(server.root, 'moves', 'inbox', 'b.txt'), 'utf8')).toBe('A');

    await page.click('.kd-row.kd-dir a.kd-name');
    await waitForRow(page, 'b.txt');
    expect(await page.$$eval('.kd-crumb', (els) => els.map((e) => e.textContent))).toEqual(['All files', 'moves', 'inbox']);
    await drag('b.txt', '.kd-crumb:first-of-type', null);
    await waitForRow(page, 'b.txt', false);
    expect(readFileSync(join(server.root, 'b.txt'), 'utf8')).toBe('A');

    // "Move to…" (for touch screens, where nothing is dragged): back into /moves/inbox/, by its path.
    await page.click('.kd-crumb:first-of-type');
    await rowAction(page, 'b.txt', 'move');
    await page.waitForSelector('dialog[data-dialog="move"][open] input');
    await page.$eval('dialog[data-dialog="move"] input', (i) => ((i as HTMLInputElement).value = ''));
    await page.type('dialog[data-dialog="move"] input', '/moves/inbox/');
    await page.keyboard.press('Enter');
    await waitForRow(page, 'b.txt', false);
    expect(readFileSync(join(server.root, 'moves', 'inbox', 'b.txt'), 'utf8')).toBe('A');

    // A file goes into a folder whose name merely begins with the file's ("report" into "reports/").
    mkdirSync(join(server.root, 'moves', 'reports'));
    writeFileSync(join(server.root, 'moves', 'report'), 'R');
    await page.goto(`${server.url}moves/`, { waitUntil: 'networkidle0' });
    await waitForRow(page, 'report');
    await drag('report', '', 'reports');
    await waitForRow(page, 'report', false);
    expect(readFileSync(join(server.root, 'moves', 'reports', 'report'), 'utf8')).toBe('R');
    await page.close();
  });

  itBrowser('shows a file named with markup as text, and opening it runs nothing', async () => {
    const name = '<img src=x onerror=alert(1)>.html';
    const page = await openFolder('xss');
    await pick(page, localFile(name, '<script>alert("stored")</script><img src=x onerror="alert(2)">'));
    await waitForUploadsDone(page, 1);
    await waitForRow(page, name);
    expect(readFileSync(join(server.root, 'xss', name), 'utf8')).toContain('<script>');
    expect(await page.$$('.kd-row img')).toHaveLength(0);
    const shown = await page.$$eval('.kd-row a.kd-name', (els) => els.map((e) => e.textContent));
    expect(shown).toContain(name);
    await page.click('.kd-row a.kd-name');
    await page.waitForFunction(() => location.pathname.endsWith('.html'));
    await page.goto(`${server.url}xss/`, { waitUntil: 'networkidle0' });
    expect(alerts).toEqual([]);
    await page.close();
  });

  itBrowser('shows control characters and right-to-left marks in names as visible codes', async () => {
    mkdirSync(join(server.root, 'bidi'), { recursive: true });
    writeFileSync(join(server.root, 'bidi', 'invoice\u202Etxt.exe'), 'x');
    const page = await openFolder('bidi');
    await waitForRow(page, 'invoice\u202Etxt.exe');
    const shown = await page.$$eval('.kd-row a.kd-name', (els) => els.map((e) => e.textContent));
    expect(shown).toEqual(['invoice\u2039U+202E\u203Atxt.exe']);
    await page.close();
  });
});

describe('the page with users', () => {
  let auth: AuthServer;
  beforeAll(async () => {
    auth = await startAuthServer([htpasswdLine('alice', 'alice-pw', 'bcryptjs'), htpasswdLine('bob', 'bob-pw', 'bcryptjs')], {
      access: [{ path: '/', who: ['alice'], allow: 'write' }, { path: '/', who: ['bob'], allow: 'read' }] as never,
    });
    mkdirSync(join(auth.root, 'docs'));
    await auth.request('PUT', '/docs/plan.txt', { body: 'one', headers: basic('alice', 'alice-pw') });
    await auth.request('PUT', '/docs/plan.txt', { body: 'two', headers: basic('alice', 'alice-pw') });
    await auth.request('PUT', '/docs/old.txt', { body: 'old', headers: basic('alice', 'alice-pw') });
    await auth.request('DELETE', '/docs/old.txt', { headers: basic('alice', 'alice-pw') });
  });
  afterAll(() => auth.close());

  async function signedIn(user: string, password: string): Promise<Page> {
    // A context of its own: Chromium caches Basic credentials per profile, not per page.
    const context = await chromium!.browser.createBrowserContext();
    const page = await context.newPage();
    page.once('close', () => void context.close());
    await page.authenticate({ username: user, password });
    await page.setViewport({ width: 1200, height: 800 });
    await page.goto(`${auth.url}docs/`, { waitUntil: 'networkidle0' });
    await waitForRow(page, 'plan.txt');
    return page;
  }

  itBrowser('a user without write access sees who they are and no write actions', async () => {
    const page = await signedIn('bob', 'bob-pw');
    expect(await page.$eval('.kd-user', (e) => (e as HTMLElement).innerText)).toMatch(/bob\s*read-only/);
    expect(await page.$eval('.kd-write-tools', (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await page.$eval('.kd-row', (e) => (e as HTMLElement).draggable)).toBe(false);
    await rowAction(page, 'plan.txt', 'versions');
    await page.waitForSelector('dialog[data-dialog="versions"][open] .kd-version-row');
    expect(await page.$$('dialog[data-dialog="versions"] [data-version]')).toHaveLength(0);
    expect(await page.$$('dialog[data-dialog="versions"] a[download]')).toHaveLength(1);
    await page.keyboard.press('Escape');
    await page.click('.kd-row .kd-more');
    await page.waitForSelector('.kd-menu');
    expect(await page.$$eval('.kd-menu [data-action]', (els) => els.map((e) => (e as HTMLElement).dataset.action))).toEqual(['download', 'versions']);
    await page.keyboard.press('Escape');
    await page.click('[data-action="trash"]');
    await page.waitForSelector('dialog[data-dialog="trash"][open] li[data-trash]');
    expect(await page.$$('dialog[data-dialog="trash"] [data-restore]')).toHaveLength(0);
    await page.close();
  });

  itBrowser('a user with write access gets the write actions and their requests pass the access rules', async () => {
    const page = await signedIn('alice', 'alice-pw');
    expect((await page.$eval('.kd-user', (e) => (e as HTMLElement).innerText)).trim()).toBe('alice');
    expect(await page.$eval('.kd-write-tools', (e) => (e as HTMLElement).hidden)).toBe(false);
    await page.click('[data-action="new-folder"]');
    await page.waitForSelector('dialog[data-dialog="new-folder"][open] input');
    await page.$eval('dialog[data-dialog="new-folder"] input', (i) => ((i as HTMLInputElement).value = ''));
    await page.type('dialog[data-dialog="new-folder"] input', 'made by alice');
    await page.keyboard.press('Enter');
    await waitForRow(page, 'made by alice');
    expect(existsSync(join(auth.root, 'docs', 'made by alice'))).toBe(true);
    await page.close();
  });
});
