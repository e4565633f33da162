/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * An upload of several GiB through the file picker, in a real browser (issue 10: "Uploads of
 * several GiB stream with no memory growth in the browser, and can be cancelled"). The local file
 * is sparse (truncate) with random marks written at a few offsets, so it costs no disk; the server
 * really stores it. While it travels, the page's JS heap (CDP Performance.getMetrics) and the
 * anonymous memory of the browser's processes are sampled: neither may grow with the file. It lands
 * whole (size, the marks, the server's SHA-1 against ours), and a second upload cancelled midway
 * leaves nothing in the served tree.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statfsSync, statSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, CDPSession } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../support/testServer';
import { retryWhile } from '../support/retryWhile';
import { itWhenInstalled, tempDir, removeDir } from '../support/realClientKit';
import { chromiumInstalled, launchChromium, waitForRow, type BrowserSession } from '../support/browserKit';

const itBrowser = itWhenInstalled('chromium', chromiumInstalled(), 'apt-get install -y chromium');
jest.setTimeout(30 * 60_000);

const GiB = 1024 ** 3;
/** Past 2 GiB and 32-bit lengths, and not a round number. */
const SIZE = 3 * GiB + 12_345;
const MARK = 64 * 1024;
const MARK_OFFSETS = [0, GiB - 7, 2 * GiB + 3, SIZE - MARK];
/** The server stores one whole copy and part of another: ask for that and 2 GiB to spare. */
const NEEDED = 2 * SIZE + 2 * GiB;

let server: TestServer;
let chromium: BrowserSession | undefined;
let local: string;
const report: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  local = tempDir('large-upload');
  if (chromiumInstalled()) chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await server.close();
  removeDir(local);
  if (report.length) console.log(`a ${(SIZE / GiB).toFixed(2)} GiB upload in chromium:\n  ${report.join('\n  ')}`);
});

/** A sparse file of SIZE bytes with random marks at MARK_OFFSETS; returns the marks. */
function sparseFile(path: string): Buffer[] {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, SIZE);
    return MARK_OFFSETS.map((offset) => {
      const mark = randomBytes(MARK);
      writeSync(fd, mark, 0, MARK, offset);
      return mark;
    });
  } finally {
    closeSync(fd);
  }
}

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

async function sha1Of(path: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Anonymous resident memory (RssAnon: heap, buffers; not file pages) of the browser and all its child processes. */
function browserAnonBytes(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* the process ended meanwhile */
    }
  }
  let total = 0;
  const walk = (pid: number): void => {
    try {
      const kb = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += kb ? Number(kb[1]) * 1024 : 0;
    } catch {
      /* ended */
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(rootPid);
  return total;
}

async function jsHeap(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
}

interface Sample {
  heap: number;
  anon: number;
  loaded: number;
}

/** Samples memory and the progress bar of the upload named `name` until `until` says stop. */
async function sampleWhile(page: Page, cdp: CDPSession, name: string, until: (s: Sample) => boolean): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (;;) {
    const state = await page.evaluate((n: string) => {
      const row = [...document.querySelectorAll('.kd-upload')].find((r) => r.querySelector('.kd-upload-name')?.textContent === n);
      return { loaded: (row?.querySelector('progress') as HTMLProgressElement | null)?.value ?? 0, finished: !!row && !row.classList.contains('kd-running') && !row.classList.contains('kd-queued') };
    }, name);
    const sample = { heap: await jsHeap(cdp), anon: browserAnonBytes(chromium!.browser.process()!.pid!), loaded: state.loaded };
    samples.push(sample);
    if (state.finished || until(sample)) return samples;
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 500)));
  }
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

describe('an upload of several GiB', () => {
  itBrowser('streams from the picked file with no memory growth, advances its progress bar, lands whole, and a cancelled one leaves nothing', async () => {
    const free = statfsSync(server.root).bavail * statfsSync(server.root).bsize;
    if (free < NEEDED) throw new Error(`this test needs ${(NEEDED / GiB).toFixed(1)} GiB free under ${server.root}, there are ${(free / GiB).toFixed(1)} GiB`);
    const big = join(local, 'big.bin');
    const marks = sparseFile(big);
    const expectedSha1 = await sha1Of(big);

    const page = await chromium!.browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    const cdp = await page.createCDPSession();
    await cdp.send('Performance.enable');
    const folder = join(server.root, 'uploads');
    mkdirSync(folder);
    await page.goto(`${server.url}uploads/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.kd-app');
    await cdp.send('HeapProfiler.collectGarbage');
    const heapBefore = await jsHeap(cdp);
    const anonBefore = browserAnonBytes(chromium!.browser.process()!.pid!);

    const started = Date.now();
    await (await page.$('input[data-upload="files"]'))!.uploadFile(big);
    const samples = await sampleWhile(page, cdp, 'big.bin', () => false);
    await page.waitForSelector('.kd-upload.kd-done', { timeout: 60_000 });
    const seconds = (Date.now() - started) / 1000;
    const maxHeap = Math.max(...samples.map((s) => s.heap));
    const maxAnon = Math.max(...samples.map((s) => s.anon));
    report.push(`uploaded in ${seconds.toFixed(1)} s (${mib(SIZE / seconds)}/s), ${samples.length} samples`);
    report.push(`page JS heap: ${mib(heapBefore)} before, at most ${mib(maxHeap)} during`);
    report.push(`browser processes' anonymous memory: ${mib(anonBefore)} before, at most ${mib(maxAnon)} during`);

    // The progress bar advanced through the upload, and memory did not follow the file.
    const progress = samples.map((s) => s.loaded).filter((l) => l > 0 && l < SIZE);
    expect(new Set(progress).size).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    expect(maxHeap - heapBefore).toBeLessThan(32 * 1048576);
    expect(maxAnon - anonBefore).toBeLessThan(SIZE / 8);
    expect(await page.$eval('.kd-upload.kd-done progress', (e) => (e as HTMLProgressElement).value)).toBe(SIZE);

    // It landed whole: its size, the marks where they were written, the zeros between, the server's SHA-1.
    await waitForRow(page, 'big.bin');
    const stored = join(folder, 'big.bin');
    expect(statSync(stored).size).toBe(SIZE);
    MARK_OFFSETS.forEach((offset, i) => expect(readAt(stored, offset, MARK).equals(marks[i])).toBe(true));
    expect(readAt(stored, GiB + GiB / 2, MARK).equals(Buffer.alloc(MARK))).toBe(true);
    const head = await server.request('HEAD', '/uploads/big.bin');
    expect(head.headers['content-length']).toBe(String(SIZE));
    // Nothing claimed, so its digests are read back after the answer (README "Checksums").
    const checksum = () => server.request('HEAD', '/uploads/big.bin').then((r) => r.headers['oc-checksum']);
    expect(await retryWhile(checksum, (shown) => shown === undefined, 60_000, 250)).toBe(`SHA1:${expectedSha1}`);

    // A second one, cancelled midway: the page says so and the served tree holds only the first.
    const other = join(local, 'cancel me.bin');
    sparseFile(other);
    await (await page.$('input[data-upload="files"]'))!.uploadFile(other);
    const partial = await sampleWhile(page, cdp, 'cancel me.bin', (s) => s.loaded > SIZE / 10);
    expect(partial[partial.length - 1].loaded).toBeGreaterThan(SIZE / 10);
    expect(partial[partial.length - 1].loaded).toBeLessThan(SIZE);
    await page.evaluate(() => {
      const row = [...document.querySelectorAll('.kd-upload')].find((r) => r.querySelector('.kd-upload-name')?.textContent === 'cancel me.bin')!;
      row.querySelector<HTMLButtonElement>('.kd-cancel')!.click();
    });
    await page.waitForSelector('.kd-upload.kd-cancelled');
    expect(await page.$eval('.kd-upload.kd-cancelled .kd-upload-status', (e) => e.textContent)).toBe('cancelled');
    // The server drops the aborted PUT's temporary file: wait until the tree holds only big.bin.
    const deadline = Date.now() + 60_000;
    while (readdirSync(folder).filter((n) => n !== 'big.bin').length > 0 && Date.now() < deadline) {
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 250)));
    }
    expect(readdirSync(folder)).toEqual(['big.bin']);
    expect(existsSync(join(folder, 'cancel me.bin'))).toBe(false);
    expect((await server.request('HEAD', '/uploads/cancel%20me.bin')).status).toBe(404);
    expect(statSync(stored).size).toBe(SIZE);
    await page.close();
  });
});
