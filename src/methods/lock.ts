/**
 * LOCK (RFC 4918 §9.10): create a write lock (exclusive or shared, Depth 0 or infinity), or, with
 * no body, refresh the lock whose token the If header names (§9.10.2). LOCK on an unmapped URL
 * creates an empty resource and answers 201 (§7.3, §9.10.4).
 */
import type { DavRequest, DavResponse, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, requireParentCollection, type Resource } from './support/resource';
import { lockRootHrefFor } from './support/propertyValues';
import { BadRequestError, LockNotOwnedError, PreconditionFailedError } from '../conditions/davErrors';
import { parseDepth } from '../headers/depth';
import { usableTimeouts } from '../headers/timeout';
import { parseIfHeader, submittedLockTokens } from '../headers/ifHeader';
import { parseXmlDocument } from '../xml/parse';
import { parseLockinfo } from '../xml/requests';
import { serializeElement } from '../xml/serialize';
import { renderXmlDocument, el } from '../xml/build';
import { DAV_NS } from '../xml/tree';
import { lockDiscoveryElement } from '../props/lockDiscovery';
import type { ActiveLock } from '../locks/activeLock';
import type { LockRequest } from '../locks/lockManager';
import type { PathClaim } from '../concurrency/pathMutex';
import { unchangedSince } from '../storage/resourceStat';
import { creationClaims, resolveEquivalentPath } from './support/equivalentNames';
import { parsedBody } from './support/parsedBodyCache';

export const lock: MethodHandler = async (req, services) => {
  const requestedTimeouts = usableTimeouts(req.header('timeout'));
  const body = req.hasBody ? await req.readBody(services.config.maxXmlBodyBytes) : Buffer.alloc(0);
  if (body.length === 0) return refresh(req, services, requestedTimeouts);

  const info = parsedBody(services, 'LOCK', body, (bytes) => {
    const parsed = parseLockinfo(parseXmlDocument(bytes, { maxElements: services.config.maxXmlElements, maxDepth: services.config.maxXmlDepth }));
    return { scope: parsed.scope, owner: parsed.owner ? serializeElement(parsed.owner) : null };
  });
  // §9.10.3: Depth 0 or infinity (the default); 1 is not a lock depth.
  const depth = parseDepth(req.header('depth')) ?? 'infinity';
  if (depth === '1') throw new BadRequestError('LOCK takes Depth 0 or infinity');

  const path = await resolveEquivalentPath(req, services, req.path);
  // A depth-infinity lock holds every member against writes, so it needs write on the whole
  // subtree, as a DELETE of it does (README "Users and permissions").
  if (depth === 'infinity') services.access.requireSubtree(req.user, path, 'write', req.hrefOf(path, false));
  const wanted: LockRequest = {
    root: path,
    scope: info.scope,
    depth,
    owner: info.owner,
    principal: req.user,
    requestedTimeouts,
  };
  const claims = creationClaims(services, path, depth === 'infinity');
  const unclaimed = await lockExistingUnclaimed(req, services, wanted, claims);
  if (unclaimed) return unclaimed;
  return services.state.claims.run(claims, async () => {
    // Inside the claim, the name is looked up again: a PUT by another spelling of it (an NFD name,
    // another case) may have created the member since, and the lock is then that member's; two
    // members equivalent to it already are 409 duplicate-name.
    const member = await resolveEquivalentPath(req, services, path);
    const target = await loadResource(req, services, member);
    if (!target.stat) await requireParentCollection(req, services, member);
    // §7.3 with §7.4: locking an unmapped URL adds a member to its parent, which needs the token
    // of a lock on that parent, as a PUT or MKCOL there does.
    await checkPreconditions(req, services, target, { membershipChanges: target.stat ? [] : [member] });

    const granted = await services.locks.acquire(lockOn(target, { ...wanted, root: member }));
    let resource = target;
    if (!target.stat) {
      try {
        await services.store.createEmpty(member);
      } catch (err) {
        await services.locks.release(granted.token, member);
        throw err;
      }
      resource = await loadResource(req, services, member);
    }
    // Answered at once after the grant, the store's clock is the lock's creation time (no round trip for now()).
    return await lockAnswer(target.stat ? 200 : 201, resource, granted, services, { 'Lock-Token': `<${granted.token}>` }, target.stat ? granted.createdAtMs : undefined);
  });
};

/**
 * LOCK on an existing resource without a write claim of its own (with PostgreSQL one round trip
 * less than a claim, then the grant). The lock is granted only while no writer holds a claim
 * meeting `claims` (LockManager.acquireUnlessClaimed), so every writer either ended before the
 * grant or will see the lock. It is kept only if the resource is still the one loaded and checked:
 * when a write ended between that look and the grant, the lock is released again. Null when the
 * resource does not exist, a claim was in the way or the resource changed: the caller then takes
 * the claims and answers as before.
 */
async function lockExistingUnclaimed(req: DavRequest, services: Services, wanted: LockRequest, claims: readonly PathClaim[]): Promise<DavResponse | null> {
  const target = await loadResource(req, services, wanted.root);
  if (!target.stat) return null;
  await checkPreconditions(req, services, target);
  const granted = await services.locks.acquireUnlessClaimed(lockOn(target, wanted), claims);
  if (!granted) return null;
  if (!unchangedSince(target.stat, await services.store.stat(wanted.root))) {
    await services.locks.release(granted.token, wanted.root, granted);
    return null;
  }
  return lockAnswer(200, target, granted, services, { 'Lock-Token': `<${granted.token}>` }, granted.createdAtMs);
}

/** The lock to grant on `target`: on a file, or on an unmapped URL (which becomes a file), it is Depth 0 (§9.10.3). */
function lockOn(target: Resource, wanted: LockRequest): LockRequest {
  return target.stat?.isCollection ? wanted : { ...wanted, depth: '0' };
}

/** §9.10.2: a refresh names its lock in the If header and has no body. */
async function refresh(req: DavRequest, services: Services, requestedTimeouts: number[]): Promise<DavResponse> {
  const ifHeader = parseIfHeader(req.header('if'));
  if (!ifHeader) throw new BadRequestError('a LOCK without a body refreshes a lock and needs an If header naming it');
  const path = await resolveEquivalentPath(req, services, req.path);
  const target = await loadResource(req, services, path);
  await checkPreconditions(req, services, target);
  const covering = new Map((await services.locks.covering(path)).map((l) => [l.token, l]));
  const named = [...submittedLockTokens(ifHeader)].flatMap((t) => covering.get(t) ?? []);
  if (named.length === 0) throw new PreconditionFailedError('If', { href: target.href });
  // RFC 4918 §6.4: only the user who took the lock may refresh it, whoever else knows its token.
  const own = named.find((l) => services.access.mayUseLock(req.user, l));
  if (!own) throw new LockNotOwnedError(req.hrefOf(named[0].root, false));
  const token = own.token;
  const refreshed = await services.locks.refresh(token, path, requestedTimeouts);
  return lockAnswer(200, target, refreshed, services, {});
}

async function lockAnswer(status: number, resource: Resource, lock: ActiveLock, services: Services, headers: Record<string, string>, nowMs?: number): Promise<DavResponse> {
  // The remaining timeout is reckoned by the state store's clock, the one that expires the lock.
  const now = nowMs ?? (await services.state.now());
  const discovery = lockDiscoveryElement([lock], lockRootHrefFor(resource, services.config.hideLockRoot, services.config.basePath), now);
  return {
    status,
    headers: { ...headers, 'Content-Type': 'application/xml; charset=utf-8' },
    body: renderXmlDocument(el(DAV_NS, 'prop', discovery)),
  };
}
