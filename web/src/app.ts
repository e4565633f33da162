/**
 * keepdav's page for a collection. The server sends a plain index (a table of <a href> links,
 * which simple clients and browsers without script use) with this module; the module replaces it
 * with the page: breadcrumbs, a sortable, filterable list rendered virtually, uploads, versions,
 * trash, conflicts. It uses only the WebDAV and version/trash HTTP API every client uses.
 */
import { h, icon, button, clear, setSpriteUrl } from './dom.js';
import { displayName, humanSize, localTime, fullTime, iconFor } from './format.js';
import { propfind, whoami, lastSegment, requestUrl, BASE_HREF, type Entry, type Whoami } from './dav.js';
import { ListView } from './listView.js';
import { streamListing } from './listing.js';
import { comparator, filtered, type SortKey } from './listOrder.js';
import { Uploads, droppedFiles, pickedFiles } from './uploads.js';
import { newFolder, rename, remove, moveInto, moveAsk, showVersions, showTrash, lockSummary, explain, type ActionHost } from './actions.js';

/** While a folder arrives, the list is redrawn at most this often (each redraw re-sorts what has come). */
const REDRAW_MS = 300;

const root = document.documentElement;
root.classList.add('kd-js');
const uiPrefix = document.querySelector<HTMLMetaElement>('meta[name="keepdav-ui"]')?.content ?? '/.keepdav-ui/';
const base = BASE_HREF;
setSpriteUrl(`${uiPrefix}icons.svg`);

const state = {
  dir: location.pathname.endsWith('/') ? location.pathname : `${location.pathname}/`,
  /** Every member, in the order they arrived; `sorted` holds the first sorted.length of them, sorted. */
  entries: [] as Entry[],
  sorted: [] as Entry[],
  sortedOf: null as Entry[] | null,
  shown: [] as Entry[],
  /** The folder whose listing was last read completely (a reload of it keeps it on screen until the new one is complete). */
  listedDir: '',
  abort: null as AbortController | null,
  whoKnown: false,
  sort: 'name' as SortKey,
  descending: false,
  filter: '',
  who: { user: null, canWrite: false } as Whoami,
  busy: new Set<string>(),
  loading: 0,
};

const crumbs = h('nav', { class: 'kd-crumbs', 'aria-label': 'Folders' });
const userBadge = h('div', { class: 'kd-user' });
const filesInput = h('input', { type: 'file', multiple: true, class: 'kd-hidden-input', 'data-upload': 'files', tabindex: '-1' });
const folderInput = h('input', { type: 'file', multiple: true, webkitdirectory: true, class: 'kd-hidden-input', 'data-upload': 'folder', tabindex: '-1' });
const filterInput = h('input', { type: 'search', class: 'kd-input', placeholder: 'Filter this folder', 'aria-label': 'Filter by name', autocomplete: 'off', spellcheck: 'false' });
// Real buttons that open the pickers (a label around a hidden input cannot take the keyboard's focus).
const writeTools = h('div', { class: 'kd-write-tools' },
  button('Upload', 'upload', () => filesInput.click(), { class: 'kd-primary', 'data-action': 'upload', title: 'Upload files' }),
  button('Folder', 'folder-up', () => folderInput.click(), { 'data-action': 'upload-folder', title: 'Upload a folder' }),
  filesInput,
  folderInput,
  button('New folder', 'folder-plus', () => void newFolder(host), { 'data-action': 'new-folder', title: 'New folder' }));
const trashButton = button('Trash', 'trash', () => void showTrash(host), { 'data-action': 'trash', title: 'Deleted files in this folder' });
const headCells: Record<SortKey, HTMLButtonElement> = {
  name: button('Name', null, () => sortBy('name'), { class: 'kd-sort', 'data-sort': 'name' }),
  size: button('Size', null, () => sortBy('size'), { class: 'kd-sort', 'data-sort': 'size' }),
  modified: button('Modified', null, () => sortBy('modified'), { class: 'kd-sort', 'data-sort': 'modified' }),
};
const rows = h('div', { class: 'kd-rows', role: 'list', 'aria-label': 'Files and folders' });
const loadText = h('span', { class: 'kd-load-text' });
const loadNote = h('div', { class: 'kd-load', role: 'status', hidden: true }, h('progress', { 'aria-label': 'Loading the folder' }), loadText);
const empty = h('div', { class: 'kd-empty', hidden: true });
const footer = h('footer', { class: 'kd-foot' });
const dropHint = h('div', { class: 'kd-drop-hint', hidden: true }, icon('upload', 'kd-big'), h('p', {}, 'Drop to upload here'));

const app = h('div', { class: 'kd-app' },
  h('header', { class: 'kd-top' },
    h('a', { class: 'kd-brand', href: base, 'data-nav': base }, icon('logo'), h('span', {}, 'keepdav')),
    crumbs, userBadge),
  h('div', { class: 'kd-toolbar' }, writeTools, trashButton,
    h('div', { class: 'kd-filter' }, icon('search'), filterInput)),
  h('main', { class: 'kd-list' },
    h('div', { class: 'kd-list-head', role: 'presentation' }, h('span', { class: 'kd-col-icon' }), headCells.name, headCells.size, headCells.modified, h('span', { class: 'kd-col-menu' })),
    loadNote, rows, empty),
  footer, dropHint);
// The plain index the server sent (one page of it, for browsers without script) gives way to the page.
for (const plain of Array.from(document.querySelectorAll('body > h1, body > table, body > .kd-pages'))) plain.remove();
document.body.prepend(app);

const host: ActionHost = {
  dirHref: () => state.dir,
  reload: () => load(),
  busy: (href) => {
    state.busy.add(href);
    list.refresh();
  },
};
const uploads = new Uploads((dirHref, fileHref) => scheduleReload(dirHref, fileHref));
const rowHeight = () => (matchMedia('(max-width: 640px)').matches ? 60 : 48);
const list = new ListView(rows, rowHeight, renderRow);

let reloadTimer = 0;
const written = new Set<string>();
let relist = false;
/**
 * After uploads: files written into the folder shown are read back one by one (PROPFIND Depth 0)
 * and put into the list, so a folder of 100,000 is not listed again for each upload; anything
 * else (new folders, uploads elsewhere) lists the folder again.
 */
function scheduleReload(dirHref: string, fileHref?: string): void {
  if (fileHref && dirHref === state.dir) written.add(fileHref);
  else relist = true;
  clearTimeout(reloadTimer);
  reloadTimer = window.setTimeout(() => void refreshWritten(), 250);
}

async function refreshWritten(): Promise<void> {
  const hrefs = [...written];
  written.clear();
  const dir = state.dir;
  if (relist || state.listedDir !== dir) {
    relist = false;
    return load();
  }
  const ticket = state.loading;
  const found = await Promise.all(hrefs.map((href) => propfind(href, '0').then((r) => r.self, () => null)));
  if (ticket !== state.loading || state.dir !== dir || state.listedDir !== dir) return;
  const fresh = new Map<string, Entry>();
  for (const e of found) if (e) fresh.set(e.href, e);
  const entries = state.entries.map((e) => {
    const now = fresh.get(e.href);
    if (!now) return e;
    fresh.delete(e.href);
    return now;
  });
  for (const e of fresh.values()) entries.push(e);
  state.entries = entries;
  applyView(true);
}

/**
 * Reads the folder shown as a stream (listing.ts). A folder just opened fills in as it arrives,
 * redrawn every REDRAW_MS with the count so far; a reload of the folder on screen keeps the old
 * list until the new one is complete, then swaps it in.
 */
async function load(): Promise<void> {
  const ticket = ++state.loading;
  state.abort?.abort();
  const abort = new AbortController();
  state.abort = abort;
  const dir = state.dir;
  const fresh = dir !== state.listedDir;
  const current = () => ticket === state.loading;
  // A reload dims the list it is about to replace; a folder just opened fills in at full strength.
  app.classList.toggle('kd-loading', !fresh);
  document.title = `${dir === base ? 'keepdav' : displayName(lastSegment(dir))} \u2014 keepdav`;
  if (fresh) {
    state.listedDir = '';
    state.entries = [];
    renderChrome();
    applyView(true);
  }
  const incoming: Entry[] = [];
  let drawn = 0;
  const asked = whoami(`${base}.keepdav-ui/`, dir).then((who) => {
    if (!current()) return;
    state.who = who;
    state.whoKnown = true;
    renderChrome();
    list.refresh();
  });
  try {
    await streamListing(dir, (members, progress) => {
      if (!current()) return;
      for (const m of members) incoming.push(m);
      showProgress(progress.entries);
      if (!fresh) return;
      state.entries = incoming;
      const now = performance.now();
      if (drawn === 0 || now - drawn >= REDRAW_MS) {
        drawn = now;
        applyView(true);
      }
    }, abort.signal);
    await asked;
    if (!current()) return;
    state.entries = incoming;
    state.listedDir = dir;
    state.busy.clear();
    applyView(true);
  } catch (err) {
    if (current() && !abort.signal.aborted) await explain('open this folder', err);
  } finally {
    if (current()) {
      app.classList.remove('kd-loading');
      loadNote.hidden = true;
    }
  }
}

function showProgress(count: number): void {
  loadNote.hidden = false;
  loadNote.dataset.count = String(count);
  clear(loadText);
  loadText.append(`Loading\u2026 ${count.toLocaleString()} ${count === 1 ? 'entry' : 'entries'} so far`);
}

function navigate(href: string, push = true): void {
  if (push) history.pushState(null, '', href);
  state.dir = href;
  state.filter = '';
  filterInput.value = '';
  window.scrollTo(0, 0);
  void load();
}

window.addEventListener('popstate', () => navigate(location.pathname, false));

function renderChrome(): void {
  root.classList.toggle('kd-can-write', state.who.canWrite);
  writeTools.hidden = !state.who.canWrite;
  clear(userBadge);
  if (state.who.user !== null) userBadge.append(icon('user'), h('span', { class: 'kd-user-name' }, displayName(state.who.user)));
  // Anonymous where users exist: the browser signs in only when challenged, which ?signin does.
  if (state.who.user === null && state.who.canSignIn) userBadge.append(h('a', { class: 'kd-btn kd-small', href: `${base}?signin&to=${encodeURIComponent(state.dir)}`, 'data-action': 'sign-in' }, 'Sign in'));
  if (state.whoKnown && !state.who.canWrite) userBadge.append(h('span', { class: 'kd-badge', 'data-readonly': '' }, 'read-only'));
  clear(crumbs);
  const parts = state.dir.slice(base.length).split('/').filter(Boolean);
  let href = base;
  const trail: HTMLElement[] = [crumb('All files', base, parts.length === 0)];
  parts.forEach((p, i) => {
    href = `${href}${p}/`;
    trail.push(crumb(lastSegment(href), href, i === parts.length - 1));
  });
  trail.forEach((c, i) => {
    if (i > 0) crumbs.append(icon('chevron-right', 'kd-sep'));
    crumbs.append(c);
  });
}

function crumb(label: string, href: string, current: boolean): HTMLElement {
  const a = h('a', { href, class: 'kd-crumb', 'data-nav': href, 'aria-current': current ? 'page' : undefined }, displayName(label));
  dropTarget(a, href);
  return a;
}

function sortBy(key: SortKey): void {
  state.descending = state.sort === key ? !state.descending : key !== 'name';
  state.sort = key;
  applyView(true);
}

/** Brings `sorted` up to date with `entries` (a new listing, new arrivals, another order). */
function resort(): void {
  if (state.sortedOf !== state.entries || state.sorted.length > state.entries.length) {
    state.sorted = state.entries.slice();
    state.sortedOf = state.entries;
  } else {
    for (let i = state.sorted.length; i < state.entries.length; i++) state.sorted.push(state.entries[i]);
  }
  state.sorted.sort(comparator(state.sort, state.descending));
}

/** Draws the list: `sort` when the entries or the order changed, else only the filter is applied again. */
function applyView(sort = false): void {
  if (sort) resort();
  state.shown = filtered(state.sorted, state.filter);
  for (const [key, cell] of Object.entries(headCells)) {
    const active = key === state.sort;
    cell.classList.toggle('kd-active', active);
    // The list is a list, not a grid: aria-sort (a column header's) would be ignored; the buttons say it.
    const label = cell.textContent ?? key;
    cell.setAttribute('aria-label', active ? `${label}, sorted ${state.descending ? 'descending' : 'ascending'}: press to reverse` : `Sort by ${label.toLowerCase()}`);
    cell.setAttribute('aria-pressed', String(active));
    cell.dataset.dir = active ? (state.descending ? 'desc' : 'asc') : '';
  }
  list.setItems(state.shown);
  const loading = state.listedDir !== state.dir;
  empty.hidden = state.shown.length > 0 || (loading && state.entries.length === 0);
  clear(empty);
  if (state.entries.length === 0) {
    empty.append(icon('folder', 'kd-big'), h('p', {}, 'This folder is empty.'));
    if (state.who.canWrite) empty.append(h('p', { class: 'kd-hint' }, 'Drop files or folders here, or use Upload.'));
  } else if (state.shown.length === 0) {
    empty.append(icon('search', 'kd-big'), h('p', {}, 'Nothing here matches \u201c', displayName(state.filter), '\u201d.'));
  }
  let folders = 0;
  let bytes = 0;
  for (const e of state.entries) {
    if (e.isCollection) folders++;
    else bytes += Math.max(e.size, 0);
  }
  const files = state.entries.length - folders;
  clear(footer);
  footer.append(`${folders} folder${folders === 1 ? '' : 's'}, ${files} file${files === 1 ? '' : 's'} \u00b7 ${humanSize(bytes)}${state.shown.length !== state.entries.length ? ` \u00b7 ${state.shown.length} shown` : ''}`);
}

function renderRow(e: Entry): HTMLElement {
  const name = displayName(e.name);
  const link = h('a', { class: 'kd-name', href: e.href, 'data-focus-key': e.href, title: name, draggable: 'false' }, h('bdi', {}, name));
  if (e.isCollection) link.dataset.nav = e.href;
  const lock = e.locks.length ? h('span', { class: 'kd-lock', title: lockSummary(e), 'data-lock': lockSummary(e) }, icon('lock'), h('span', { class: 'kd-lock-text' }, lockSummary(e))) : null;
  const size = e.isCollection ? '' : humanSize(e.size);
  const when = localTime(e.mtimeMs);
  const row = h('div', { class: `kd-row${e.isCollection ? ' kd-dir' : ''}${state.busy.has(e.href) ? ' kd-busy' : ''}`, role: 'listitem', 'data-href': e.href, 'data-name': e.name },
    h('span', { class: 'kd-col-icon' }, icon(iconFor(e.name, e.isCollection), `kd-type-${iconFor(e.name, e.isCollection)}`)),
    h('span', { class: 'kd-col-name' }, link, lock, h('span', { class: 'kd-sub' }, [size, when].filter(Boolean).join(' \u00b7 '))),
    h('span', { class: 'kd-col-size' }, size),
    h('span', { class: 'kd-col-modified', title: fullTime(e.mtimeMs) }, when),
    h('span', { class: 'kd-col-menu' }, button('', 'more', (ev) => openMenu(e, ev.currentTarget as HTMLElement), { class: 'kd-ghost kd-more', 'aria-label': `Actions for ${name}`, title: 'Actions', 'data-menu': e.name })));
  if (state.who.canWrite) {
    row.draggable = true;
    row.addEventListener('dragstart', (ev) => {
      ev.dataTransfer?.setData('application/x-keepdav-href', e.href);
      ev.dataTransfer?.setData('text/uri-list', requestUrl(e.href));
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = 'move';
    });
  }
  if (e.isCollection) dropTarget(row, e.href);
  return row;
}

let menu: HTMLElement | null = null;
function closeMenu(): void {
  menu?.remove();
  menu = null;
}
document.addEventListener('click', (ev) => {
  if (menu && !menu.contains(ev.target as Node)) closeMenu();
}, true);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') closeMenu();
});

function openMenu(e: Entry, anchor: HTMLElement): void {
  closeMenu();
  const item = (label: string, iconName: string, run: () => void, action: string) => button(label, iconName, () => {
    closeMenu();
    run();
  }, { class: 'kd-menu-item', role: 'menuitem', 'data-action': action });
  const write = state.who.canWrite;
  menu = h('div', { class: 'kd-menu', role: 'menu', 'aria-label': `Actions for ${displayName(e.name)}` },
    e.isCollection ? item('Open', 'folder', () => navigate(e.href), 'open') : h('a', { class: 'kd-menu-item', role: 'menuitem', href: e.href, download: e.name, 'data-action': 'download' }, icon('download'), h('span', { class: 'kd-label' }, 'Download')),
    e.isCollection ? null : item('Versions', 'history', () => void showVersions(host, e), 'versions'),
    write ? item('Rename', 'edit', () => void rename(host, e), 'rename') : null,
    write ? item('Move to\u2026', 'folder-up', () => void moveAsk(host, e, base), 'move') : null,
    write ? item('Delete', 'trash', () => void remove(host, e), 'delete') : null);
  document.body.appendChild(menu);
  const r = anchor.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  menu.style.top = `${Math.min(r.bottom + 4, window.innerHeight - m.height - 8) + window.scrollY}px`;
  menu.style.left = `${Math.max(8, r.right - m.width) + window.scrollX}px`;
  (menu.querySelector('.kd-menu-item') as HTMLElement | null)?.focus();
}

/** Folders and breadcrumbs accept dragged entries (MOVE) and dropped files (upload into them). */
function dropTarget(el: HTMLElement, folderHref: string): void {
  el.addEventListener('dragover', (ev) => {
    if (!state.who.canWrite) return;
    ev.preventDefault();
    ev.stopPropagation();
    el.classList.add('kd-drop');
    dropHint.hidden = true;
  });
  el.addEventListener('dragleave', () => el.classList.remove('kd-drop'));
  el.addEventListener('drop', (ev) => {
    el.classList.remove('kd-drop');
    if (!state.who.canWrite || !ev.dataTransfer) return;
    ev.preventDefault();
    ev.stopPropagation();
    dropHint.hidden = true;
    const dragged = ev.dataTransfer.getData('application/x-keepdav-href');
    if (dragged) {
      const entry = state.entries.find((x) => x.href === dragged);
      if (entry && entry.href !== folderHref) void moveInto(host, entry, folderHref);
      return;
    }
    void droppedFiles(ev.dataTransfer).then((files) => uploads.add(files, folderHref));
  });
}

filesInput.addEventListener('change', () => {
  uploads.add(pickedFiles(filesInput), state.dir);
  filesInput.value = '';
});
folderInput.addEventListener('change', () => {
  uploads.add(pickedFiles(folderInput), state.dir);
  folderInput.value = '';
});
filterInput.addEventListener('input', () => {
  state.filter = filterInput.value;
  window.scrollTo(0, 0);
  applyView();
});

// Drops anywhere else on the page upload into the folder shown.
document.addEventListener('dragover', (ev) => {
  if (!state.who.canWrite || !ev.dataTransfer?.types.includes('Files')) return;
  ev.preventDefault();
  dropHint.hidden = false;
});
document.addEventListener('dragleave', (ev) => {
  if (ev.relatedTarget === null) dropHint.hidden = true;
});
document.addEventListener('drop', (ev) => {
  dropHint.hidden = true;
  if (!state.who.canWrite || !ev.dataTransfer || ev.dataTransfer.getData('application/x-keepdav-href')) return;
  ev.preventDefault();
  void droppedFiles(ev.dataTransfer).then((files) => uploads.add(files, state.dir));
});

// Folder links and breadcrumbs navigate without reloading the page (the listing is one PROPFIND).
document.addEventListener('click', (ev) => {
  const a = (ev.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(a.dataset.nav!);
});

void load();
