/**
 * The bytes of retained versions (semantics.md, "Nothing is lost"), in a directory under the
 * state directory that no URL reaches. Each version (or each deleted tree, a "bundle") is kept
 * under a key `xxxxxxxx/<id>`; a file inside a bundle under `xxxxxxxx/<id>/<member path>`.
 * Bytes come in by hard link or rename, never by copy unless the state lies on another
 * filesystem; then they are copied under `<key>.partial` first and renamed into place, so a key
 * that exists is always whole. Host paths never leave storage/.
 */
import { constants as fsConstants, existsSync, readdirSync, rmdirSync, rmSync, type Dirent } from 'node:fs';
import { access, copyFile, link, lstat, mkdir, open, readdir, rename, rm, rmdir, statfs, unlink } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { errnoOf } from './storageErrors';
import { FileContent } from './fileContent';
import { inline, inlineAllowed } from './inlineCalls';
import { SoleWriterMemory } from './soleWriterMemory';
import type { KeptFile } from './resourceStore';

const PARTIAL = '.partial';

/** Whether `host` exists, asked without an error object for its absence (inline where allowed: inlineCalls.ts). */
async function exists(host: string): Promise<boolean> {
  return inlineAllowed() ? inline(() => existsSync(host)) : access(host).then(() => true, () => false);
}

export interface RetainedBytesOptions {
  /**
   * This process alone writes the kept bytes (the owner of an embedded state, stateOwnership.ts),
   * so it may remember what it did there instead of asking the disk (soleWriterMemory.ts): which key
   * directories hold other entries, and whether a partial copy can lie beside a key. Not so
   * where several instances share the state directory (PostgreSQL): false, the default.
   */
  soleWriter?: boolean;
}

export class RetainedBytes {
  /** What a sole writer did here (null for anyone else, who asks the disk). */
  private readonly memory: SoleWriterMemory | null;

  constructor(readonly dir: string, options: RetainedBytesOptions = {}) {
    this.memory = options.soleWriter === true ? new SoleWriterMemory() : null;
  }

  /** The key for a new version id (ids start with 8 hex digits of time). */
  keyOf(id: string): string {
    return `${id.slice(0, 8)}/${id}`;
  }

  /** Size, mtime and inode of what is kept under `key`, or null when nothing is. */
  async fingerprint(key: string): Promise<{ size: number; mtimeMs: number; ino: number; isDirectory: boolean } | null> {
    const st = await lstat(this.hostOf(key)).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return null;
      throw err;
    });
    return st && { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, isDirectory: st.isDirectory() };
  }

  /** Bytes free and in all on the filesystem holding the retained bytes (or its nearest existing ancestor). */
  async filesystemSpace(): Promise<{ free: number; total: number }> {
    for (let at = this.dir; ; at = dirname(at)) {
      try {
        const fs = await statfs(at);
        return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT' || dirname(at) === at) throw err;
      }
    }
  }

  /**
   * Creates the directory of `target` one level at a time below `dir`: a recursive mkdir reports
   * ENOENT where the disk has no inode left, a single mkdir says ENOSPC (507, not 500).
   */
  private async ensureParent(target: string): Promise<void> {
    const parent = dirname(target);
    const levels: string[] = [];
    for (let at = parent; at !== this.dir && at.startsWith(this.dir + sep); at = dirname(at)) levels.unshift(at);
    for (const dir of [this.dir, ...levels]) {
      try {
        await mkdir(dir);
        const keyDirectory = this.keyDirectoryAt(dir);
        if (keyDirectory !== null) this.memory?.directoryMade(keyDirectory);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
    }
  }

  /** Runs `copy`, which makes a partial copy beside a key and renames it into place (or fails, leaving it). */
  private async copyingPartial(copy: () => Promise<void>): Promise<void> {
    this.memory?.copyBegins();
    try {
      await copy();
    } finally {
      this.memory?.copyEnded();
    }
  }

  /** Something now lies under `key`: one more entry in its key directory. */
  private placed(key: string): void {
    const slash = key.indexOf('/');
    if (slash > 0) this.memory?.placed(key.slice(0, slash));
  }

  /** The name of the key directory at host path `dir`, or null when `dir` is no key directory. */
  private keyDirectoryAt(dir: string): string | null {
    return dirname(dir) === this.dir ? basename(dir) : null;
  }

  /**
   * Runs `place` (a link or rename to `target`), creating `target`'s directories first only when
   * it finds them missing. A key's directory is one per second of version ids, so it exists for
   * nearly every call: trying first saves two failing mkdirs (each a thread-pool round trip and an
   * error object) on every overwrite. Measured with wrk, 16 connections overwriting 4 KiB files:
   * 1,315-1,380 overwrites/s against 1,050-1,200, 950-1,040 µs of CPU each against 1,100-1,290.
   */
  private async placeAt(target: string, place: () => Promise<void>): Promise<void> {
    try {
      await place();
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      // The directory was missing (or the source: then the second try says so again).
      await this.ensureParent(target);
      await place();
    }
  }

  /**
   * Whether a file in `rootHost` can be hard-linked in here (one trial, removed after): false on
   * another filesystem, or another mount of the same one (a bind mount, a systemd ReadWritePaths
   * entry, a container volume), where every version kept is a copy. True when it cannot be told.
   */
  async linksFrom(rootHost: string): Promise<boolean> {
    const trial = join(rootHost, `.keepdav-tmp-linktrial-${process.pid}-${Date.now()}`);
    const landed = join(this.dir, `linktrial-${process.pid}${PARTIAL}`);
    try {
      await mkdir(this.dir, { recursive: true });
      await (await open(trial, 'wx', 0o600)).close();
    } catch {
      return true; // a read-only root: nothing will be kept from it anyway
    }
    try {
      await link(trial, landed);
      await unlink(landed).catch(() => undefined);
      return true;
    } catch (err) {
      return !['EXDEV', 'EPERM', 'ENOTSUP'].includes(errnoOf(err) ?? '');
    } finally {
      await unlink(trial).catch(() => undefined);
    }
  }

  /** Keeps the file at `sourceHost` (a real file, symlinks already resolved) under `key`, by hard link. */
  async linkIn(sourceHost: string, key: string): Promise<void> {
    const target = this.hostOf(key);
    try {
      await this.placeAt(target, () => link(sourceHost, target));
    } catch (err) {
      if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP'].includes(errnoOf(err) ?? '')) throw err;
      await this.ensureParent(target);
      await this.copyingPartial(async () => {
        await copyFile(sourceHost, target + PARTIAL);
        await rename(target + PARTIAL, target);
      });
    }
    this.placed(key);
  }

  /** Moves the entry at `sourceHost` (a file or a directory tree) under `key`, by one rename. */
  async moveIn(sourceHost: string, key: string): Promise<void> {
    const target = this.hostOf(key);
    try {
      await this.placeAt(target, () => rename(sourceHost, target));
      this.placed(key);
      return;
    } catch (err) {
      if (errnoOf(err) !== 'EXDEV') throw err;
    }
    await this.ensureParent(target);
    await this.copyingPartial(async () => {
      await copyTreeAcross(sourceHost, target + PARTIAL);
      await rename(target + PARTIAL, target);
    });
    this.placed(key);
    await rm(sourceHost, { recursive: true, force: true });
  }

  /** Puts what `moveIn` took back at `targetHost` (absent), by one rename: an operation rolled back. */
  async moveBack(key: string, targetHost: string): Promise<void> {
    await rename(this.hostOf(key), targetHost);
    await this.remove(key);
  }

  /** The regular files kept under `key` (one for a file, all members of a tree). */
  async files(key: string): Promise<KeptFile[]> {
    const found: KeptFile[] = [];
    const walk = async (below: string): Promise<void> => {
      const sub = below === '' ? key : `${key}/${below}`;
      // Only a member gone meanwhile is passed over: one that cannot be reached (ENAMETOOLONG: its
      // path here is longer than the system allows) must fail the scan, or it would be taken away unlisted.
      const st = await lstat(this.hostOf(sub)).catch((err: unknown) => {
        if (errnoOf(err) === 'ENOENT') return null;
        throw err;
      });
      if (st?.isDirectory()) {
        for (const name of await readdir(this.hostOf(sub))) await walk(below === '' ? name : `${below}/${name}`);
      } else if (st?.isFile()) {
        found.push({ key: sub, below, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
      }
    };
    await walk('');
    return found;
  }

  /** The bytes kept under `key` (sent as a file's are: storage/fileContent.ts); null when they are missing. */
  async open(key: string): Promise<FileContent | null> {
    const file = await open(this.hostOf(key), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch(() => null);
    if (file === null) return null;
    const st = await file.stat().catch(() => null);
    if (!st?.isFile()) {
      await file.close();
      return null;
    }
    return new FileContent(file, 0, st.size - 1);
  }

  /**
   * Frees what is kept under `key` (and a partial copy), then the directories it no longer needs.
   * A single file (a version; pruning removes one on every overwrite) goes by one unlink; a bundle
   * or anything unlink refuses by a recursive rm; a partial copy is looked for unless a sole writer
   * knows there is none. The key directory is removed when this was its last entry: a sole writer
   * tries only then (soleWriterMemory.ts), anyone else on every removal.
   */
  async remove(key: string): Promise<void> {
    const host = this.hostOf(key);
    await unlink(host).catch(async (err: unknown) => {
      if (errnoOf(err) !== 'ENOENT') await rm(host, { recursive: true, force: true });
    });
    if ((this.memory?.partialsMayExist ?? true) && (await exists(host + PARTIAL))) await rm(host + PARTIAL, { recursive: true, force: true });
    for (let dir = dirname(host); dir.startsWith(this.dir + sep) && dir !== this.dir; dir = dirname(dir)) {
      // Here the key's own entry in its key directory is gone (unlinked, or removed as the level below).
      const keyDirectory = this.keyDirectoryAt(dir);
      if (keyDirectory !== null && this.memory?.removedMayEmpty(keyDirectory) === false) break;
      try {
        await rmdir(dir);
      } catch {
        if (keyDirectory !== null) this.memory?.forget(keyDirectory);
        break;
      }
    }
  }

  /**
   * Removes every file no key in `known` names (what a crash or an interrupted prune left
   * behind), partial copies, and empty directories. Returns how many entries went. Runs at
   * start-up, before anything is served: one blocking readdir per directory, no stat per file.
   */
  async sweep(known: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    const walk = (rel: string): boolean => {
      const host = rel === '' ? this.dir : this.hostOf(rel);
      let entries: Dirent[];
      try {
        entries = readdirSync(host, { withFileTypes: true });
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return true;
        throw err;
      }
      let empty = true;
      for (const e of entries) {
        const r = rel === '' ? e.name : `${rel}/${e.name}`;
        if (known.has(r) || isInside(r, known)) empty = false;
        else if (e.isDirectory() && !e.name.endsWith(PARTIAL)) {
          if (walk(r)) {
            try {
              rmdirSync(this.hostOf(r));
            } catch {
              empty = false;
            }
          } else empty = false;
        } else {
          try {
            rmSync(this.hostOf(r), { recursive: true, force: true });
            removed += 1;
          } catch {
            // What cannot be removed (a tree too deep for the system's path limit) stays: start-up goes on.
            empty = false;
          }
        }
      }
      return empty;
    };
    walk('');
    // Every partial copy went (none is a key); one under way is told apart by the memory.
    this.memory?.swept();
    return removed;
  }

  /** The keys of every regular file kept (partial copies left out), depth first. */
  async *allFiles(prefix = ''): AsyncGenerator<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(prefix === '' ? this.dir : this.hostOf(prefix), { withFileTypes: true });
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.endsWith(PARTIAL)) continue;
      const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) yield* this.allFiles(key);
      else if (entry.isFile()) yield key;
    }
  }

  /**
   * The host path of `key`; a key that is not "/"-separated names (no "", ".", "..", NUL) throws
   * RangeError. A backslash is an ordinary character of a name here: a kept tree holds whatever
   * names its folders held, also those WebDAV cannot address.
   */
  private hostOf(key: string): string {
    const segments = key.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) {
      throw new RangeError(`not a key of kept bytes: ${JSON.stringify(key)}`);
    }
    return join(this.dir, ...segments);
  }
}

/** Whether `rel` lies inside a kept directory (never true for files; cheap prefix checks). */
function isInside(rel: string, known: ReadonlySet<string>): boolean {
  for (let at = rel.lastIndexOf('/'); at > 0; at = rel.lastIndexOf('/', at - 1)) {
    if (known.has(rel.slice(0, at))) return true;
  }
  return false;
}

async function copyTreeAcross(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  if (st.isDirectory()) {
    await mkdir(to, { recursive: true });
    for (const name of await readdir(from)) await copyTreeAcross(join(from, name), join(to, name));
  } else if (st.isFile()) {
    await copyFile(from, to);
  }
}
