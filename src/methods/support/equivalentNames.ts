/**
 * Names that are the same to a person but not to the filesystem (semantics.md): "é" precomposed
 * (NFC, Windows and Linux) and decomposed (NFD, macOS), and with --case-insensitive "A" and "a".
 * A request by a name equivalent to an existing member's addresses that member (a read by an NFD
 * name finds the NFC member; a PUT, or a COPY/MOVE destination, overwrites it; MKCOL onto it is 405), so a second look-alike
 * name is never created; 409 duplicate-name is left for where two existing members already collide.
 */
import type { DavRequest, Services } from '../context';
import type { ResourceStat } from '../../storage/resourceStore';
import { DuplicateNameError } from '../../conditions/davErrors';
import { baseName, joinPath, parentOf, type DavPath } from '../../paths/davPath';
import type { PathClaim } from '../../concurrency/pathMutex';

const ASCII = /^[\x00-\x7f]*$/;

function nameKey(name: string, caseInsensitive: boolean): string {
  const nfc = name.normalize('NFC');
  return caseInsensitive ? nfc.toLowerCase() : nfc;
}

/** The existing sibling of `path` whose name is equivalent to (but not the same as) its name, if any. */
async function equivalentSibling(services: Services, path: DavPath): Promise<ResourceStat | null> {
  const name = baseName(path);
  const parent = parentOf(path);
  const caseInsensitive = services.config.caseInsensitive;
  // Only non-ASCII names have other Unicode forms; case folding concerns every name.
  if (parent === null || (!caseInsensitive && ASCII.test(name))) return null;
  const key = nameKey(name, caseInsensitive);
  let members: ResourceStat[];
  try {
    members = await services.store.list(parent);
  } catch {
    return null;
  }
  return members.find((m) => {
    const memberName = baseName(m.path);
    return memberName !== name && nameKey(memberName, caseInsensitive) === key;
  }) ?? null;
}

/** Throws 409 duplicate-name when creating `path` would add a name equivalent to an existing member's. */
export async function refuseDuplicateName(req: DavRequest, services: Services, path: DavPath): Promise<void> {
  const existing = await equivalentSibling(services, path);
  if (existing) throw new DuplicateNameError(req.hrefOf(existing.path, existing.isCollection));
}

/**
 * The write claims for a request that may create `path`: the path itself and, when its name has
 * equivalent forms, the equivalence class of the name, so two requests creating "é" in its NFC
 * and NFD forms at once are serialized and the second sees the first (409 duplicate-name).
 */
export function creationClaims(services: Services, path: DavPath, tree: boolean): PathClaim[] {
  const claims: PathClaim[] = [{ path, tree }];
  if (parentOf(path) === null || (!services.config.caseInsensitive && ASCII.test(path))) return claims;
  // Every segment in its key form: the parent may be spelled another way too (an NFD folder name).
  const key = path.split('/').map((segment) => nameKey(segment, services.config.caseInsensitive)).join('/') as DavPath;
  if (key !== path) claims.push({ path: key, tree: false });
  return claims;
}

/**
 * The member a request by `asked` addresses: `asked` itself when it exists or no member has an
 * equivalent name; else, in any segment, the one existing member with an equivalent name (an NFD
 * name from macOS for an NFC member, an NFC name for an NFD member; any case with
 * --case-insensitive). So a read by Finder's NFD name finds the NFC file, and a write that may
 * create (PUT, MKCOL, LOCK, a COPY/MOVE destination; called inside its claim) saves over it,
 * keeping the stored name. Throws 409 duplicate-name when two or more existing members are
 * equivalent to a segment: no guess.
 */
export async function resolveEquivalentPath(req: DavRequest, services: Services, asked: DavPath): Promise<DavPath> {
  const caseInsensitive = services.config.caseInsensitive;
  if (!caseInsensitive && ASCII.test(asked)) return asked;
  if (await services.store.stat(asked)) return asked;
  const path = await withEquivalentAncestors(req, services, asked);
  if (path !== asked && (await services.store.stat(path))) return path;
  const name = baseName(path);
  if (!caseInsensitive && ASCII.test(name)) return path;
  const key = nameKey(name, caseInsensitive);
  const parent = parentOf(path);
  if (parent === null) return path;
  const members = await services.store.list(parent).catch(() => []);
  const equivalent = members.filter((m) => nameKey(baseName(m.path), caseInsensitive) === key);
  if (equivalent.length > 1) throw new DuplicateNameError(req.hrefOf(equivalent[0].path, equivalent[0].isCollection));
  return equivalent[0]?.path ?? path;
}

/**
 * `path` with its parent resolved as resolveEquivalentPath resolves a path (and so on up): Finder
 * asks for "e\u0301te\u0301/a.txt" in the folder Windows created as "\u00e9t\u00e9", whose listing it
 * was just given under its own spelling. Only a parent that does not exist as spelled is looked up.
 */
async function withEquivalentAncestors(req: DavRequest, services: Services, path: DavPath): Promise<DavPath> {
  const parent = parentOf(path);
  if (parent === null || parentOf(parent) === null) return path;
  if (await services.store.stat(parent)) return path;
  const resolved = await resolveEquivalentPath(req, services, parent);
  return resolved === parent ? path : joinPath(resolved, baseName(path));
}
