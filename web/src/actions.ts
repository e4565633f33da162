/** What the user can do to entries: new folder, rename and move, delete with undo, versions, trash. */
import { h, button } from './dom.js';
import { displayName, humanSize, localTime, fullTime, preciseTime } from './format.js';
import { ask, choose, inform, toast } from './dialogs.js';
import { send, move, versions, restore, childHref, parentHref, absolute, HttpProblem, BASE_HREF, type Entry, type VersionInfo } from './dav.js';
import { lockText } from './uploads.js';

export interface ActionHost {
  dirHref(): string;
  reload(): Promise<void>;
  /** Marks an entry as being worked on (greyed) until the next reload. */
  busy(href: string): void;
}

/** Explains a failed request in plain words, with the server's own message. */
export async function explain(what: string, err: unknown): Promise<void> {
  if (!(err instanceof HttpProblem)) {
    await inform(`Could not ${what}`, [String((err as Error)?.message ?? err)], 'error');
    return;
  }
  const p = err.problem;
  if (p.status === 423) {
    const text = await lockText(String(p.lockroot ?? ''));
    await inform(`Could not ${what}`, [`It is ${text}.`, 'Try again when the lock is released or has expired.'], 'error');
    return;
  }
  const plain: Record<string, string> = {
    'destination-exists': 'Something with that name is already there.',
    'parent-missing': 'The folder it would go into does not exist (any more).',
    'duplicate-name': 'A name that looks the same is already taken.',
    'access-denied': 'You may not do this here.',
    'into-itself': 'A folder cannot be moved into itself.',
    'precondition-failed': 'It was changed on the server since this list was shown; look at it again first.',
    'stale-delete': 'An upload of an older copy of it was refused a moment ago, so the server protects the newer version it has.',
    'refused-upload-delete': 'An upload of it was refused a moment ago, so the server protects the version it has.',
  };
  await inform(`Could not ${what}`, [plain[p.code] ?? '', `The server said: ${p.detail}`].filter(Boolean), 'error');
}

function checkName(name: string): string | null {
  if (name === '.' || name === '..' || /[/\\\u0000]/.test(name)) return 'A name cannot contain / or \\ and cannot be . or ..';
  if (name.startsWith('.keepdav-')) return 'Names starting with .keepdav- are reserved.';
  return null;
}

export async function newFolder(host: ActionHost): Promise<void> {
  const name = await ask('New folder', 'Name', 'New folder', 'Create', 'new-folder');
  if (!name) return;
  const bad = checkName(name);
  if (bad) return inform('Could not create the folder', [bad], 'error');
  try {
    await send('MKCOL', childHref(host.dirHref(), name, true), {}, [201]);
    toast(`Created ${displayName(name)}`);
  } catch (err) {
    await explain('create the folder', err);
  }
  await host.reload();
}

/** Rename in place (MOVE to a sibling). */
export async function rename(host: ActionHost, e: Entry): Promise<void> {
  const name = await ask(`Rename ${displayName(e.name)}`, 'New name', e.name, 'Rename', 'rename');
  if (!name || name === e.name) return;
  const bad = checkName(name);
  if (bad) return inform('Could not rename', [bad], 'error');
  await moveTo(host, e, childHref(parentHref(e.href), name, e.isCollection), `renamed to ${displayName(name)}`);
}

/** MOVE (RFC 4918 §9.9) without overwriting: an existing target is shown, never silently replaced. */
export async function moveTo(host: ActionHost, e: Entry, to: string, done: string): Promise<void> {
  host.busy(e.href);
  try {
    await move(e.href, to, false);
    toast(`${displayName(e.name)} ${done}`);
  } catch (err) {
    await explain(`move ${displayName(e.name)}`, err);
  }
  await host.reload();
}

/** Asks for a folder (a path below the served root, as the breadcrumbs show it) and moves the entry there. */
export async function moveAsk(host: ActionHost, e: Entry, base: string): Promise<void> {
  const here = decodeURIComponent(host.dirHref().slice(base.length - 1));
  const answer = await ask(`Move ${displayName(e.name)} to`, 'Folder (e.g. /Documents/2026/)', here, 'Move', 'move');
  if (!answer) return;
  const segments = answer.split('/').filter(Boolean);
  const bad = segments.map(checkName).find((x) => x !== null);
  if (bad) return inform('Could not move', [bad], 'error');
  await moveInto(host, e, base + segments.map((x) => `${encodeURIComponent(x)}/`).join(''));
}

export async function moveInto(host: ActionHost, e: Entry, folderHref: string): Promise<void> {
  const to = childHref(folderHref, e.name, e.isCollection);
  if (to === e.href) return; // already there
  // Only a folder can be moved into itself ("/report" is no ancestor of "/reports/").
  if (e.isCollection && folderHref.startsWith(e.href)) return inform(`Could not move ${displayName(e.name)}`, ['A folder cannot be moved into itself.'], 'error');
  await moveTo(host, e, to, `moved to ${displayName(shownPath(folderHref))}`);
}

/** A folder's path as the breadcrumbs show it: below the served root, decoded. */
function shownPath(folderHref: string): string {
  const below = folderHref.startsWith(BASE_HREF) ? folderHref.slice(BASE_HREF.length - 1) : folderHref;
  try {
    return decodeURIComponent(below);
  } catch {
    return below;
  }
}

/** DELETE, with an Undo that brings the deleted files back from the trash (their retained versions). */
export async function remove(host: ActionHost, e: Entry): Promise<void> {
  host.busy(e.href);
  const at = Date.now();
  // What the folder's trash already holds: its Undo brings back only what this delete adds to it.
  const before = e.isCollection ? new Set((await deletedSince(e.href, at - 60_000).catch(() => [])).map((t) => t.versionId)) : new Set<string>();
  try {
    await send('DELETE', e.href, {}, [200, 204]);
  } catch (err) {
    let deleted = false;
    try {
      deleted = await deleteAnyway(e, err);
    } catch (again) {
      await explain(`delete ${displayName(e.name)}`, again);
      return host.reload();
    }
    if (!deleted) {
      await explain(`delete ${displayName(e.name)}`, err);
      return host.reload();
    }
  }
  await host.reload();
  toast(`Deleted ${displayName(e.name)}`, { label: 'Undo', run: () => void undoDelete(host, e, at, before) }, 12000);
}

/**
 * The server refuses an unconditional DELETE of a file for a minute after it refused this
 * client's upload of it (README "No client's clean-up destroys another's save"): a clean-up by a
 * sync client, not a person. Here a person asked, so the page says what is at stake and, if they
 * confirm, deletes exactly the version on the server now (If-Match with its ETag, RFC 9110
 * §13.1.1). True when it was deleted so.
 */
async function deleteAnyway(e: Entry, err: unknown): Promise<boolean> {
  if (e.isCollection || !(err instanceof HttpProblem) || !['stale-delete', 'refused-upload-delete'].includes(err.problem.code)) return false;
  const sure = await choose(`Delete ${displayName(e.name)}?`, [
    h('p', {}, 'An upload of this file was refused a moment ago (an older copy over a newer one, or another conflict), so the server protects the version it has.'),
    h('p', {}, 'Delete that version anyway? It stays in the trash, from where it can be restored.'),
  ], [{ label: 'Delete anyway', value: true, danger: true }, { label: 'Keep it', value: false, primary: true }], false, 'delete-anyway');
  if (!sure) return false;
  const etag = (await send('HEAD', e.href, {}, [200])).headers.get('etag');
  await send('DELETE', e.href, etag ? { 'If-Match': etag } : {}, [200, 204]);
  return true;
}

/**
 * Brings back what one DELETE removed. A folder's files are the trash entries that delete added
 * (not in `before`, the folder's trash just before it), not files deleted from it earlier. Empty
 * folders are not kept (versions are of files).
 */
async function undoDelete(host: ActionHost, e: Entry, at: number, before: ReadonlySet<string>): Promise<void> {
  try {
    if (e.isCollection) {
      const items = (await deletedSince(e.href, at - 60_000)).filter((t) => !before.has(t.versionId));
      await send('MKCOL', e.href, {}, [201, 405]);
      for (const t of items) await restoreDeleted(t.href, t.versionId);
      if (items.length === 0) {
        await inform(`Brought back ${displayName(e.name)} empty`, ['None of its files were kept (retention is off or full, or it held none), and empty folders are not kept.'], 'error');
      } else {
        toast(`Restored ${displayName(e.name)}: ${items.length} file${items.length === 1 ? '' : 's'} (empty folders inside are not kept)`);
      }
    } else {
      const v = (await versions(e.href)).find((x) => x.reason === 'delete');
      if (!v) throw new Error('the deleted file was not kept (retention is off or full)');
      await restore(e.href, v.id);
      toast(`Restored ${displayName(e.name)}`);
    }
  } catch (err) {
    await explain(`restore ${displayName(e.name)}`, err);
  }
  await host.reload();
}

export interface TrashItem {
  href: string;
  path: string;
  name: string;
  deletedAt: string;
  size: number;
  lastModified: string;
  versionId: string;
}

/** One page of GET ?trash (newest deletion first); `next` is the URL of the following page. */
interface TrashPage {
  deleted: TrashItem[];
  next?: string;
}

async function trashPage(url: string): Promise<TrashPage> {
  const res = await send('GET', url, { Accept: 'application/json' }, [200]);
  return (await res.json()) as TrashPage;
}

export function trashOf(dirHref: string): Promise<TrashPage> {
  return trashPage(`${dirHref}?trash`);
}

/** What was deleted at or below `dirHref` since `since` (ms): the pages are followed while they are that recent. */
async function deletedSince(dirHref: string, since: number): Promise<TrashItem[]> {
  const items: TrashItem[] = [];
  for (let url: string | undefined = `${dirHref}?trash`; url; ) {
    const page = await trashPage(url);
    const recent = page.deleted.filter((t) => Date.parse(t.deletedAt) >= since);
    items.push(...recent);
    url = recent.length === page.deleted.length ? page.next : undefined;
  }
  return items;
}

/** POST ?restore=ID, to the old place or (Destination) to another; missing folders on the way are created. */
async function restoreDeleted(href: string, id: string, to?: string): Promise<void> {
  const headers: Record<string, string> = to ? { Destination: absolute(to), Overwrite: 'F' } : { Overwrite: 'F' };
  const url = `${href}?restore=${encodeURIComponent(id)}`;
  try {
    await send('POST', url, headers, [201, 204]);
  } catch (err) {
    if (!(err instanceof HttpProblem) || err.problem.code !== 'parent-missing') throw err;
    const target = to ?? href;
    const missing: string[] = [];
    for (let dir = parentHref(target); dir.length > 1; dir = parentHref(dir)) missing.unshift(dir);
    for (const dir of missing) await send('MKCOL', dir, {}, [201, 405]);
    await send('POST', url, headers, [201, 204]);
  }
}

export async function showVersions(host: ActionHost, e: Entry): Promise<void> {
  let list: VersionInfo[];
  try {
    list = await versions(e.href);
  } catch (err) {
    return explain(`list the versions of ${displayName(e.name)}`, err);
  }
  const reasons: Record<string, string> = { overwrite: 'replaced by an upload', delete: 'deleted', restore: 'replaced by a restore' };
  const canWrite = document.documentElement.classList.contains('kd-can-write');
  const rows = list.map((v) => {
    const when = Date.parse(v.retained);
    const restoreButton = canWrite ? button('Restore', 'history', () => void doRestore(v), { class: 'kd-small', 'data-version': v.id }) : null;
    return h('li', { class: 'kd-version-row' },
      h('div', { class: 'kd-version-main' },
        h('span', { class: 'kd-version-time', title: fullTime(when) }, preciseTime(when)),
        h('span', { class: 'kd-version-meta' }, `${humanSize(v.size)} \u00b7 ${reasons[v.reason] ?? v.reason} \u00b7 modified ${localTime(Date.parse(v.lastModified))}`)),
      h('div', { class: 'kd-version-actions' },
        h('a', { class: 'kd-btn kd-small', href: `${e.href}?version=${encodeURIComponent(v.id)}`, download: e.name }, 'Download'),
        restoreButton));
  });
  const current = h('p', { class: 'kd-hint' }, `Current: ${humanSize(e.size)}, modified ${localTime(e.mtimeMs)}. Restoring keeps the current content as a version too.`);
  const body = list.length ? [current, h('ul', { class: 'kd-versions' }, ...rows)] : [h('p', {}, 'No earlier versions are kept of this file yet. Every overwrite, restore or delete keeps one.')];
  const doRestore = async (v: VersionInfo) => {
    document.querySelector('dialog[data-dialog="versions"]')?.querySelector<HTMLButtonElement>('.kd-close')?.click();
    try {
      await restore(e.href, v.id);
      await host.reload();
      toast(`Restored the version of ${displayName(e.name)} from ${localTime(Date.parse(v.lastModified))}`);
    } catch (err) {
      await explain(`restore ${displayName(e.name)}`, err);
    }
  };
  await choose(`Versions of ${displayName(e.name)}`, body, [{ label: 'Close', value: undefined, primary: true }], undefined, 'versions');
}

export async function showTrash(host: ActionHost): Promise<void> {
  let page: TrashPage;
  try {
    page = await trashOf(host.dirHref());
  } catch (err) {
    return explain('list the trash', err);
  }
  const items = page.deleted;
  const canWrite = document.documentElement.classList.contains('kd-can-write');
  const base = host.dirHref();
  const close = () => document.querySelector('dialog[data-dialog="trash"]')?.querySelector<HTMLButtonElement>('.kd-close')?.click();
  const bring = async (t: TrashItem, to?: string) => {
    close();
    try {
      await restoreDeleted(t.href, t.versionId, to);
      toast(`Restored ${displayName(to ? decodeURIComponent(to.slice(to.lastIndexOf('/') + 1)) : t.name)}`);
    } catch (err) {
      await explain(`restore ${displayName(t.name)}`, err);
    }
    await host.reload();
  };
  const elsewhere = async (t: TrashItem) => {
    close();
    const name = await ask(`Restore ${displayName(t.name)} as`, 'New name (in the same folder)', t.name, 'Restore', 'restore-as');
    if (!name) return;
    const bad = checkName(name);
    if (bad) return inform('Could not restore', [bad], 'error');
    await bring(t, childHref(parentHref(t.href), name, false));
  };
  const rowOf = (t: TrashItem) => {
    const rel = decodeURIComponent(t.href.startsWith(base) ? t.href.slice(base.length) : t.href);
    return h('li', { class: 'kd-version-row', 'data-trash': t.href },
      h('div', { class: 'kd-version-main' },
        h('span', { class: 'kd-name' }, displayName(rel)),
        h('span', { class: 'kd-version-meta' }, `${humanSize(t.size)} \u00b7 deleted ${localTime(Date.parse(t.deletedAt))}`)),
      canWrite ? h('div', { class: 'kd-version-actions' },
        button('Restore', 'history', () => void bring(t), { class: 'kd-small', 'data-restore': 'here' }),
        button('Restore as\u2026', null, () => void elsewhere(t), { class: 'kd-small', 'data-restore': 'as' })) : null);
  };
  const list = h('ul', { class: 'kd-versions' }, ...items.map(rowOf));
  // The trash comes in pages, newest deletion first: older ones a page at a time, on demand.
  let next = page.next;
  const older: HTMLButtonElement = button('Show older', null, () => void showOlder(), { class: 'kd-small', 'data-trash-more': '' });
  const showOlder = async () => {
    if (!next) return;
    older.disabled = true;
    try {
      const more = await trashPage(next);
      list.append(...more.deleted.map(rowOf));
      next = more.next;
    } catch (err) {
      close();
      return explain('list the trash', err);
    }
    older.disabled = false;
    if (!next) older.remove();
  };
  const body = items.length ? (next ? [list, older] : [list]) : [h('p', {}, 'Nothing deleted in this folder can be brought back.')];
  await choose(`Deleted from ${base === BASE_HREF ? 'All files' : displayName(decodeURIComponent(base))}`, body, [{ label: 'Close', value: undefined, primary: true }], undefined, 'trash');
}

/** The line shown for a locked entry: owner and expiry. */
export function lockSummary(e: Entry): string {
  const l = e.locks[0];
  if (!l) return '';
  return `Locked by ${displayName(l.owner)}${Number.isFinite(l.expiresMs) ? ` until ${localTime(l.expiresMs)}` : ''}`;
}
