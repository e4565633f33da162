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
 * For a write that may create `path` (PUT, MKCOL, a COPY/MOVE destination), called inside its critical section: `path`
 * itself when it exists or no member has an equivalent name; the one existing member with an
 * equivalent name otherwise (so Finder's NFD name saves over the NFC file, keeping the stored name).
 * Throws 409 duplicate-name when two or more existing members are equivalent to it: no guess.
 */
export async function addressedMember(req: DavRequest, services: Services, path: DavPath): Promise<DavPath> {
  const name = baseName(path);
  const parent = parentOf(path);
  const caseInsensitive = services.config.caseInsensitive;
  if (parent === null || (!caseInsensitive && ASCII.test(name))) return path;
  if (await services.store.stat(path)) return path;
  const key = nameKey(name, caseInsensitive);
  let members: ResourceStat[];
  try {
    members = await services.store.list(parent);
  } catch {
    return path;
  }
  const equivalent = members.filter((m) => nameKey(baseName(m.path), caseInsensitive) === key);
  if (equivalent.length === 1) return equivalent[0].path;
  if (equivalent.length > 1) throw new DuplicateNameError(req.hrefOf(equivalent[0].path, equivalent[0].isCollection));
  return path;
}

/**
 * The write claims for a request that may create `path`: the path itself and, when its name has
 * equivalent forms, the equivalence class of the name, so two requests creating "é" in its NFC
 * and NFD forms at once are serialized and the second sees the first (409 duplicate-name).
 */
export function creationClaims(services: Services, path: DavPath, tree: boolean): PathClaim[] {
  const claims: PathClaim[] = [{ path, tree }];
  const parent = parentOf(path);
  const name = baseName(path);
  if (parent === null || (!services.config.caseInsensitive && ASCII.test(name))) return claims;
  const key = nameKey(name, services.config.caseInsensitive);
  if (key !== name) claims.push({ path: joinPath(parent, key), tree: false });
  return claims;
}

/**
 * For requests on an existing resource: the path of the member `path` means when no member
 * has exactly its name but one has an equivalent name (an NFD name from macOS for an NFC member;
 * any case with --case-insensitive). Otherwise `path` itself.
 */
export async function resolveEquivalentPath(services: Services, path: DavPath): Promise<DavPath> {
  const name = baseName(path);
  const caseInsensitive = services.config.caseInsensitive;
  if (!caseInsensitive && (ASCII.test(name) || name === name.normalize('NFC'))) return path;
  if (await services.store.stat(path)) return path;
  const key = nameKey(name, caseInsensitive);
  const parent = parentOf(path);
  if (parent === null) return path;
  const members = await services.store.list(parent).catch(() => []);
  return members.find((m) => nameKey(baseName(m.path), caseInsensitive) === key)?.path ?? path;
}
