/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Debian's chromium driven by puppeteer-core (which downloads no browser): one headless browser
 * per test file, with a fresh profile and the flags that keep it from reaching the network.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

export interface BrowserSession {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<BrowserSession> {
  const puppeteer = await import('puppeteer-core');
  const profile = mkdtempSync(join(tmpdir(), 'keepdav-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${profile}`],
    userDataDir: profile,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the list shows a row for `name` (the page's data-name is the exact stored name). */
export async function waitForRow(page: Page, name: string, present = true): Promise<void> {
  await page.waitForFunction(
    (n: string, want: boolean) => [...document.querySelectorAll<HTMLElement>('.kd-row')].some((r) => r.dataset.name === n) === want,
    { timeout: 15_000 },
    name,
    present,
  );
}

/** Opens a row's action menu and picks `action` (download, versions, rename, move-up, delete). */
export async function rowAction(page: Page, name: string, action: string): Promise<void> {
  await waitForRow(page, name);
  await page.evaluate((n: string) => {
    const row = [...document.querySelectorAll<HTMLElement>('.kd-row')].find((r) => r.dataset.name === n)!;
    row.querySelector<HTMLButtonElement>('.kd-more')!.click();
  }, name);
  const item = await page.waitForSelector(`.kd-menu [data-action="${action}"]`, { timeout: 5000 });
  await item!.click();
}

/** Clicks the button of an open dialog (`name` is its data-dialog) whose data-choice or text is `choice`. */
export async function chooseInDialog(page: Page, dialog: string, choice: string): Promise<void> {
  await page.waitForSelector(`dialog[data-dialog="${dialog}"][open]`, { timeout: 15_000 });
  await page.evaluate((d: string, c: string) => {
    const dlg = document.querySelector(`dialog[data-dialog="${d}"][open]`)!;
    const b = [...dlg.querySelectorAll<HTMLElement>('button, a')].find((x) => x.dataset.choice === c || x.textContent?.trim() === c);
    if (!b) throw new Error(`no ${c} in dialog ${d}`);
    b.click();
  }, dialog, choice);
}

/** The text of the open dialog `name`. */
export async function dialogText(page: Page, dialog: string): Promise<string> {
  const el = await page.waitForSelector(`dialog[data-dialog="${dialog}"][open]`, { timeout: 15_000 });
  return el!.evaluate((d) => (d as HTMLElement).innerText);
}
