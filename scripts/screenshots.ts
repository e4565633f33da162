/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Writes docs/screenshots/*.png: the page's main views at desktop and phone widths, made with the
 * same driver the browser tests use (Debian's chromium through puppeteer-core). Run with
 * `npm run screenshots` on a machine with chromium (apt-get install -y chromium).
 */
import { mkdirSync, writeFileSync, truncateSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../test/support/testServer';
import { launchChromium, chromiumInstalled, rowAction, waitForRow } from '../test/support/browserKit';
import { tempDir, removeDir } from '../test/support/realClientKit';

const OUT = join(__dirname, '..', 'docs', 'screenshots');
const DAY = 24 * 3600 * 1000;

async function seed(server: TestServer): Promise<void> {
  const root = server.root;
  const now = Date.now();
  const file = (rel: string, size: number, agoMs: number, content?: string) => {
    const path = join(root, rel);
    writeFileSync(path, content ?? '');
    if (content === undefined) truncateSync(path, size);
    const t = new Date(now - agoMs);
    utimesSync(path, t, t);
  };
  for (const dir of ['Documents', 'Photos', 'Projects', 'Shared with team']) mkdirSync(join(root, dir));
  // A large folder, to show the listing arriving (the page reads it as it streams); made before any
  // request, as the agent's idle connection would not outlive the time it takes.
  mkdirSync(join(root, 'Photos', 'Scans 2019'));
  for (let i = 1; i <= 30_000; i++) file(`Photos/Scans 2019/scan-${String(i).padStart(5, '0')}.tif`, 0, 200 * DAY - i * 60_000);
  file('Budget 2026.ods', 48_213, 2 * 3600 * 1000);
  file('Holiday in Lisbon.jpg', 3_214_000, 3 * DAY);
  file('Meeting notes.md', 0, 20 * 60 * 1000, '# Notes\n');
  file('Quarterly report.pdf', 1_284_000, 9 * DAY);
  file('backup-2026-11.tar.gz', 2_400_000_000, 31 * DAY);
  file('interview.mp3', 18_700_000, 60 * DAY);
  file('deploy.sh', 2_140, 5 * DAY);
  file('Contract draft.docx', 91_000, 12 * DAY);
  await server.request('PUT', '/Contract%20draft.docx', { body: 'first draft' });
  await server.request('PUT', '/Contract%20draft.docx', { body: 'second draft with changes' });
  await server.request('PUT', '/Contract%20draft.docx', { body: 'final draft, signed by both parties' });
  await server.request('LOCK', '/Quarterly%20report.pdf', {
    headers: { Timeout: 'Second-3600', 'Content-Type': 'application/xml' },
    body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>Alice (LibreOffice)</D:owner></D:lockinfo>',
  });
  await server.request('PUT', '/old-notes.txt', { body: 'notes I no longer need' });
  await server.request('DELETE', '/old-notes.txt');
  await server.request('PUT', '/Photos/IMG_2041.jpg', { body: 'jpeg' });
  await server.request('DELETE', '/Photos/IMG_2041.jpg');
}

async function shot(page: Page, name: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
  await page.screenshot({ path: join(OUT, `${name}.png`) });
  console.log(`wrote docs/screenshots/${name}.png`);
}

async function views(page: Page, server: TestServer, prefix: string, local: string): Promise<void> {
  await page.goto(server.url, { waitUntil: 'networkidle0' });
  await waitForRow(page, 'Budget 2026.ods');
  await shot(page, `${prefix}-folder`);

  await rowAction(page, 'Contract draft.docx', 'versions');
  await page.waitForSelector('dialog[data-dialog="versions"][open]');
  await shot(page, `${prefix}-versions`);
  await page.keyboard.press('Escape');

  // A stale upload: the local copy is older than the server's file.
  const stale = join(local, 'Meeting notes.md');
  writeFileSync(stale, '# Notes (old copy)\n');
  utimesSync(stale, new Date('2026-01-05T10:00:00Z'), new Date('2026-01-05T10:00:00Z'));
  const big = join(local, 'Screen recording.mov');
  writeFileSync(big, '');
  truncateSync(big, 64 * 1024 * 1024);
  const cdp = await page.createCDPSession();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
  const input = await page.$('input[data-upload="files"]');
  await input!.uploadFile(big, stale);
  await page.waitForSelector('dialog[data-dialog="stale-version"][open]');
  await shot(page, `${prefix}-conflict`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => (document.querySelector('.kd-overall') as HTMLProgressElement | null)?.value ?? 0 > 0);
  await new Promise((r) => setTimeout(r, 1500));
  await shot(page, `${prefix}-uploading`);
  await page.evaluate(() => document.querySelectorAll<HTMLButtonElement>('.kd-upload .kd-cancel').forEach((b) => b.click()));
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.evaluate(() => document.querySelector<HTMLButtonElement>('.kd-uploads header .kd-ghost[aria-label="Clear finished uploads"]')?.click());

  await page.click('[data-action="trash"]');
  await page.waitForSelector('dialog[data-dialog="trash"][open]');
  await shot(page, `${prefix}-trash`);
  await page.keyboard.press('Escape');

  // The large folder while it arrives (the listing slowed down so that it is seen half-way).
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 256 * 1024, uploadThroughput: -1 });
  await page.goto(`${server.url}Photos/Scans%202019/`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.kd-load:not([hidden])')?.dataset.count ?? 0) > 500 && document.querySelector('.kd-row'));
  await shot(page, `${prefix}-large-folder`);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
}

async function main(): Promise<void> {
  if (!chromiumInstalled()) {
    console.error('chromium is not installed (apt-get install -y chromium)');
    process.exit(1);
  }
  mkdirSync(OUT, { recursive: true });
  const server = await startTestServer();
  const local = tempDir('screenshots');
  const chromium = await launchChromium();
  try {
    await seed(server);
    const page = await chromium.browser.newPage();
    await page.emulateTimezone('Europe/Berlin');
    await page.setViewport({ width: 1280, height: 760 });
    await views(page, server, 'desktop', local);
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await views(page, server, 'phone', local);
  } finally {
    await chromium.close();
    await server.close();
    removeDir(local);
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
