/**
 * Uploads: each File is sent as the body of one PUT by XMLHttpRequest, which streams it from disk
 * (never read into memory, so several GiB cost no memory) and reports upload progress. Folders are
 * created first (MKCOL). Each PUT states the file's own modification time (X-OC-Mtime), so that
 * uploading an older copy over a newer file is refused (409 stale-version) and shown, not swallowed.
 */
import { h, button, clear } from './dom.js';
import { displayName, humanSize, localTime } from './format.js';
import { UI_HEADERS, parseProblem, childHref, send, propfind, requestUrl, type Problem } from './dav.js';
import { choose, inform } from './dialogs.js';

const PARALLEL = 3;

/** Stands for an empty folder in a drop: the folder is created (MKCOL), nothing is uploaded. */
export const EMPTY_FOLDER = '.keepdav-empty-folder';

type State = 'queued' | 'running' | 'deciding' | 'done' | 'failed' | 'cancelled';

interface Upload {
  file: File;
  dirHref: string;
  name: string;
  state: State;
  loaded: number;
  xhr: XMLHttpRequest | null;
  message: string;
  row: HTMLElement;
  bar: HTMLProgressElement;
  status: HTMLElement;
}

export interface PickedFile {
  file: File;
  /** Folders below the target to create first (from a dropped or picked folder). */
  dirs: string[];
}

interface PutResult {
  status: number;
  problem: Problem | null;
}

export class Uploads {
  private readonly items: Upload[] = [];
  private readonly folders = new Map<string, Promise<void>>();
  private running = 0;
  private dialogs: Promise<unknown> = Promise.resolve();
  private readonly panel: HTMLElement;
  private readonly list: HTMLElement;
  private readonly overall: HTMLProgressElement;
  private readonly summary: HTMLElement;

  /** `onChange(dirHref, fileHref?)`: something changed in dirHref (fileHref: that file was written). */
  constructor(private readonly onChange: (dirHref: string, fileHref?: string) => void) {
    this.overall = h('progress', { class: 'kd-overall', max: '1', value: '0', 'aria-label': 'All uploads' });
    this.summary = h('span', { class: 'kd-upload-summary' });
    this.list = h('ul', { class: 'kd-upload-list' });
    const collapse = button('', 'chevron', () => this.panel.classList.toggle('kd-collapsed'), { class: 'kd-ghost', 'aria-label': 'Collapse', title: 'Collapse' });
    const close = button('', 'x', () => this.clearFinished(), { class: 'kd-ghost', 'aria-label': 'Clear finished uploads', title: 'Clear finished' });
    this.panel = h('section', { class: 'kd-uploads', hidden: true, 'aria-label': 'Uploads' },
      h('header', {}, h('div', { class: 'kd-upload-title' }, this.summary, this.overall), collapse, close),
      this.list);
    document.body.appendChild(this.panel);
  }

  /** Starts uploading at once into `dirHref`, creating the picked folders first. */
  add(files: PickedFile[], dirHref: string): void {
    if (files.length === 0) return;
    this.panel.hidden = false;
    this.panel.classList.remove('kd-collapsed');
    for (const { file, dirs } of files) {
      if (file.name === EMPTY_FOLDER) {
        void this.ensureFolders(dirHref, dirs).then(() => this.onChange(dirHref), () => undefined);
        continue;
      }
      let dir = dirHref;
      for (const d of dirs) dir = childHref(dir, d, true);
      const bar = h('progress', { max: String(Math.max(file.size, 1)), value: '0', 'aria-label': `Progress of ${file.name}` });
      const status = h('span', { class: 'kd-upload-status' }, 'waiting');
      const row = h('li', { class: 'kd-upload kd-queued' });
      const item: Upload = { file, dirHref: dir, name: file.name, state: 'queued', loaded: 0, xhr: null, message: '', row, bar, status };
      row.append(
        h('div', { class: 'kd-upload-name', title: displayName([...dirs, file.name].join('/')) }, displayName([...dirs, file.name].join('/'))),
        bar, status,
        button('', 'x', () => this.cancel(item), { class: 'kd-ghost kd-cancel', 'aria-label': `Cancel ${displayName(file.name)}`, title: 'Cancel' }),
      );
      this.list.appendChild(row);
      this.items.push(item);
      void this.ensureFolders(dirHref, dirs).catch(() => undefined);
    }
    this.render();
    this.pump();
  }

  private ensureFolders(base: string, dirs: string[]): Promise<void> {
    let chain: Promise<void> = Promise.resolve();
    let href = base;
    for (const d of dirs) {
      href = childHref(href, d, true);
      const target = href;
      const prev = chain;
      if (!this.folders.has(target)) {
        this.folders.set(target, prev.then(() => send('MKCOL', target, {}, [201, 405]).then(() => undefined)));
      }
      chain = this.folders.get(target)!;
    }
    return chain;
  }

  private pump(): void {
    while (this.running < PARALLEL) {
      const next = this.items.find((u) => u.state === 'queued');
      if (!next) break;
      next.state = 'running';
      this.running++;
      void this.run(next).finally(() => {
        this.running--;
        this.render();
        this.pump();
      });
    }
    this.render();
  }

  private async run(u: Upload): Promise<void> {
    try {
      await (this.folders.get(u.dirHref) ?? Promise.resolve());
    } catch (err) {
      return this.fail(u, `could not create the folder: ${(err as Error).message}`);
    }
    let headers: Record<string, string> = { 'X-OC-Mtime': String(Math.floor(u.file.lastModified / 1000)) };
    for (;;) {
      if ((u.state as State) === 'cancelled') return;
      const result = await this.put(u, childHref(u.dirHref, u.name, false), headers);
      if ((u.state as State) === 'cancelled') return;
      if (result.status === 201 || result.status === 204) {
        u.state = 'done';
        u.message = result.status === 201 ? 'uploaded' : 'replaced (the old one is kept as a version)';
        this.onChange(u.dirHref, childHref(u.dirHref, u.name, false));
        return;
      }
      const p = result.problem!;
      if ((result.status === 409 && p.code === 'stale-version') || (result.status === 412 && headers['If-Match'])) {
        u.state = 'deciding';
        this.render();
        const choice = await this.serial(() => this.askStale(u, p));
        if ((u.state as State) === 'cancelled') return;
        u.state = 'running';
        // RFC 9110 §13.1.1: replace exactly the version the user was shown; a newer one asks again (412).
        if (choice === 'replace') headers = { 'X-OC-Mtime': String(Math.floor(u.file.lastModified / 1000)), 'If-Match': String(p.etag) };
        else if (choice === 'keep') {
          u.name = await this.freeName(u.dirHref, u.name);
          headers = { 'X-OC-Mtime': String(Math.floor(u.file.lastModified / 1000)), 'If-None-Match': '*' };
        } else {
          u.state = 'cancelled';
          u.message = 'cancelled: the newer file on the server was kept';
          return;
        }
        continue;
      }
      if (result.status === 423) {
        const text = await lockText(String(p.lockroot ?? childHref(u.dirHref, u.name, false)));
        await this.serial(() => inform('The file is locked', [`${displayName(u.name)} could not be uploaded: ${text}.`, 'Try again when the lock is released or has expired.'], 'error'));
        return this.fail(u, `locked: ${text}`);
      }
      return this.fail(u, p.detail);
    }
  }

  /** Runs dialogs one at a time, in order, however many uploads need one. */
  private serial<T>(show: () => Promise<T>): Promise<T> {
    const next = this.dialogs.then(show, show);
    this.dialogs = next.catch(() => undefined);
    return next;
  }

  private askStale(u: Upload, p: Problem): Promise<'replace' | 'keep' | 'cancel'> {
    const serverMs = p.lastmodified ? Date.parse(String(p.lastmodified)) : Number(p.mtime) * 1000;
    const body = [
      h('p', {}, 'The file ', h('strong', { class: 'kd-name' }, displayName(u.name)), ' on the server is newer than the one you are uploading.'),
      h('dl', { class: 'kd-facts' },
        h('dt', {}, 'On the server'), h('dd', {}, `modified ${localTime(serverMs)}`, h('span', { class: 'kd-version' }, ` version ${String(p.version ?? p.etag ?? '').replace(/^W\//, '').replace(/"/g, '').slice(0, 12)}`)),
        h('dt', {}, 'Your file'), h('dd', {}, `modified ${localTime(u.file.lastModified)}, ${humanSize(u.file.size)}`)),
      h('p', { class: 'kd-hint' }, 'Replacing keeps the server\u2019s version in the file\u2019s history, so it can be restored later.'),
    ];
    return choose<'replace' | 'keep' | 'cancel'>('Newer version on the server', body, [
      { label: 'Cancel', value: 'cancel' },
      { label: 'Keep both', value: 'keep' },
      { label: 'Replace anyway', value: 'replace', primary: true },
    ], 'cancel', 'stale-version');
  }

  /** "report (2).odt", the first such name not taken in the folder (asked name by name: a folder may hold 100,000). */
  private async freeName(dirHref: string, name: string): Promise<string> {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let n = 2; ; n++) {
      const candidate = `${stem} (${n})${ext}`;
      // keepdav answers a name equal to a member's after NFC normalization as that member, so 404 means free.
      const res = await send('HEAD', childHref(dirHref, candidate, false), {}, [200, 404]);
      if (res.status === 404) return candidate;
    }
  }

  private put(u: Upload, href: string, headers: Record<string, string>): Promise<PutResult> {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      u.xhr = xhr;
      u.loaded = 0;
      xhr.open('PUT', requestUrl(href));
      for (const [k, v] of Object.entries({ ...UI_HEADERS, ...headers })) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (ev) => {
        u.loaded = ev.loaded;
        this.render();
      };
      xhr.onload = () => {
        u.xhr = null;
        u.loaded = u.file.size;
        const ok = xhr.status === 201 || xhr.status === 204;
        resolve({ status: xhr.status, problem: ok ? null : parseProblem(xhr.status, xhr.getResponseHeader('content-type') ?? '', xhr.responseText) });
      };
      xhr.onerror = () => resolve({ status: 0, problem: parseProblem(0, '', '') });
      xhr.onabort = () => resolve({ status: -1, problem: { status: -1, code: 'cancelled', detail: 'cancelled' } });
      xhr.send(u.file);
      this.render();
    });
  }

  private fail(u: Upload, message: string): void {
    u.state = 'failed';
    u.message = message;
  }

  cancel(u: Upload): void {
    if (u.state === 'done' || u.state === 'failed') {
      this.remove(u);
      return;
    }
    u.state = 'cancelled';
    u.message = 'cancelled';
    u.xhr?.abort();
    this.render();
  }

  private remove(u: Upload): void {
    this.items.splice(this.items.indexOf(u), 1);
    u.row.remove();
    this.render();
  }

  private clearFinished(): void {
    for (const u of [...this.items]) if (u.state !== 'queued' && u.state !== 'running' && u.state !== 'deciding') this.remove(u);
    if (this.items.length === 0) this.panel.hidden = true;
  }

  private render(): void {
    let total = 0;
    let loaded = 0;
    let active = 0;
    let failed = 0;
    for (const u of this.items) {
      u.row.className = `kd-upload kd-${u.state}`;
      u.bar.value = u.state === 'done' ? Math.max(u.file.size, 1) : u.state === 'cancelled' ? 0 : u.loaded;
      const percent = u.file.size > 0 ? Math.floor((100 * u.loaded) / u.file.size) : 0;
      clear(u.status);
      u.status.append(u.state === 'running' ? `${percent}% of ${humanSize(u.file.size)}` : u.state === 'queued' ? 'waiting' : u.state === 'deciding' ? 'newer version on the server: waiting for your choice' : u.message);
      if (u.state === 'cancelled') continue;
      total += u.file.size;
      loaded += u.state === 'done' || u.state === 'failed' ? u.file.size : u.loaded;
      if (u.state === 'queued' || u.state === 'running' || u.state === 'deciding') active++;
      if (u.state === 'failed') failed++;
    }
    this.overall.max = Math.max(total, 1);
    this.overall.value = total === 0 ? 0 : loaded;
    const done = this.items.filter((u) => u.state === 'done').length;
    clear(this.summary);
    this.summary.append(active > 0
      ? `Uploading ${active} file${active === 1 ? '' : 's'} \u00b7 ${total ? Math.floor((100 * loaded) / total) : 0}%`
      : `${done} uploaded${failed ? `, ${failed} failed` : ''}`);
    this.panel.classList.toggle('kd-busy', active > 0);
  }
}

/** The files of a drop, with whole folders walked (File System entries, also in Chromium and Firefox). */
export async function droppedFiles(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(dt.items ?? []).map((i) => (i.kind === 'file' && 'webkitGetAsEntry' in i ? i.webkitGetAsEntry() : null));
  if (entries.length === 0 || entries.some((e) => e === null)) return Array.from(dt.files).map((file) => ({ file, dirs: [] }));
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry, dirs: string[]): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, dirs });
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    const children: FileSystemEntry[] = [];
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      children.push(...batch);
    }
    if (children.length === 0) out.push({ file: new File([], EMPTY_FOLDER), dirs: [...dirs, entry.name] });
    for (const c of children) await walk(c, [...dirs, entry.name]);
  };
  for (const e of entries) await walk(e!, []);
  return out;
}

export function pickedFiles(input: HTMLInputElement): PickedFile[] {
  return Array.from(input.files ?? []).map((file) => {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath ?? '';
    return { file, dirs: rel ? rel.split('/').slice(0, -1) : [] };
  });
}

/** "held by alice until 14:05" from the lock root's lockdiscovery (PROPFIND, RFC 4918 §15.8). */
export async function lockText(href: string): Promise<string> {
  try {
    const { self } = await propfind(href, '0');
    const lock = self?.locks[0];
    if (!lock) return 'locked by another client';
    return `locked by ${displayName(lock.owner)} ${Number.isFinite(lock.expiresMs) ? `until ${localTime(lock.expiresMs)}` : 'with no expiry'}`;
  } catch {
    return 'locked by another client';
  }
}
