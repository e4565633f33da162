/**
 * What COPY and MOVE share (RFC 4918 §9.8, §9.9): Destination, Overwrite and Depth, the same-
 * resource and into-itself checks, the destination's parent and existing resource, and the
 * answer (201 new, 204 replaced; a single-resource error is answered directly, never in a 207).
 */
import { randomUUID } from 'node:crypto';
import type { DavRequest, DavResponse, Services } from '../context';
import { loadResource, checkPreconditions, requireParentCollection, type Resource } from './resource';
import { BadGatewayError, BadRequestError, DestinationExistsError, DestinationIsAncestorError, ForbiddenError, NotFoundError } from '../../conditions/davErrors';
import { parseDestination } from '../../headers/destination';
import { parseOverwrite } from '../../headers/overwrite';
import { parseDepth } from '../../headers/depth';
import { parseOcMtime } from '../../headers/ocMtime';
import { isSameOrInside, ROOT, type DavPath } from '../../paths/davPath';
import { creationClaims, resolveEquivalentPath } from './equivalentNames';

export type TransferKind = 'COPY' | 'MOVE';

interface TransferRequest {
  source: DavPath;
  destination: DavPath;
  overwrite: boolean;
  depth: '0' | 'infinity';
  declaredMtimeMs: number | undefined;
}

function parseTransfer(req: DavRequest, kind: TransferKind): TransferRequest {
  const destinationHeader = req.header('destination');
  if (destinationHeader === undefined) throw new BadRequestError(`${kind} needs a Destination header`);
  // RFC 4918 §10.3: Destination = "Destination" ":" Simple-ref, one URI; several are no guess to make.
  if (req.headerCount('destination') > 1) throw new BadRequestError(`${kind} needs exactly one Destination header`);
  const { urlPath, sameHost } = parseDestination(destinationHeader, req.hostsOfThisServer);
  // §9.8.5: a destination on another server is 502.
  if (!sameHost) throw new BadGatewayError(destinationHeader);
  const destination = req.pathOfUri(urlPath);
  if (destination === null) throw new BadRequestError('the Destination names no resource on this server');
  const depth = parseDepth(req.header('depth')) ?? 'infinity';
  // §9.8.3: COPY takes Depth 0 or infinity (MOVE of a collection: infinity only, checked once the source is known).
  if (depth === '1') throw new BadRequestError(`${kind} does not take Depth: ${depth}`);
  return {
    source: req.path, // resolved to an equivalent member's name by `transfer`
    destination,
    overwrite: parseOverwrite(req.header('overwrite')),
    depth,
    declaredMtimeMs: parseOcMtime(req.header('x-oc-mtime')),
  };
}

/** Runs a COPY or MOVE; `act` performs the tree operation once every condition holds. */
export async function transfer(
  req: DavRequest,
  services: Services,
  kind: TransferKind,
  act: (t: TransferRequest & { replace: boolean }, source: Resource) => Promise<void>,
): Promise<DavResponse> {
  const parsed = parseTransfer(req, kind);
  const t = { ...parsed, source: await resolveEquivalentPath(req, services, parsed.source) };
  // §9.8.5 / §9.9.4: source and destination the same resource is 403; so is a collection into itself.
  if (t.source === t.destination) throw new ForbiddenError('same-source-and-destination', 'the source and the destination are the same resource');
  if (t.destination === ROOT) throw new ForbiddenError('root-not-writable', 'the root collection cannot be replaced');
  if (kind === 'MOVE' && t.source === ROOT) throw new ForbiddenError('root-not-movable', 'the root collection cannot be moved');

  // Access, before anything changes: read on all of the source (write for MOVE), write on all the destination replaces.
  services.access.requireSubtree(req.user, t.source, kind === 'MOVE' ? 'write' : 'read', req.hrefOf(t.source, false));
  services.access.requireSubtree(req.user, t.destination, 'write', req.hrefOf(t.destination, false));

  const claims = [{ path: t.source, tree: true }, ...creationClaims(services, t.destination, true)];
  return services.state.claims.run(claims, async () => {
    // An NFD (or, case-insensitive, other-case) name of an existing member addresses that member,
    // subject to Overwrite, its conditions and locks, as for PUT: no second look-alike name.
    const destinationPath = await resolveEquivalentPath(req, services, t.destination);
    if (destinationPath !== t.destination) {
      if (destinationPath === t.source) throw new ForbiddenError('same-source-and-destination', 'the source and the destination are the same resource');
      services.access.requireSubtree(req.user, destinationPath, 'write', req.hrefOf(destinationPath, false));
    }
    const target = { ...t, destination: destinationPath };
    const source = await loadResource(req, services, target.source);
    if (!source.stat) throw new NotFoundError(source.href);
    // §9.9.2: MOVE of a collection acts as Depth infinity and takes no other; a file has no depth to speak of.
    if (kind === 'MOVE' && target.depth !== 'infinity' && source.stat.isCollection) throw new BadRequestError(`MOVE of a collection does not take Depth: ${target.depth}`);
    if (source.stat.isCollection && target.depth === 'infinity' && isSameOrInside(target.destination, target.source)) {
      throw new ForbiddenError('into-itself', `cannot ${kind} a collection into itself`);
    }
    // §9.8.4 / §9.9.3: Overwrite: T deletes the destination first, which here holds the source:
    // the request would destroy what it moves. Refused like a same-resource request (§9.8.5, §9.9.4: 403).
    if (isSameOrInside(target.source, target.destination)) throw new DestinationIsAncestorError(req.hrefOf(target.destination, true), kind);
    await requireParentCollection(req, services, target.destination);
    const destination = await loadResource(req, services, target.destination);

    const depthOf = (isCollection: boolean) => (isCollection ? ('infinity' as const) : ('0' as const));
    const writes = [{ path: target.destination, depth: depthOf(destination.stat?.isCollection ?? source.stat.isCollection) }];
    if (kind === 'MOVE') writes.unshift({ path: target.source, depth: depthOf(source.stat.isCollection) });
    await checkPreconditions(req, services, source, {
      writes,
      membershipChanges: kind === 'MOVE' ? [target.source, target.destination] : [target.destination],
    });

    if (destination.stat) {
      // §9.8.4 / §9.9.3: Overwrite: F onto an existing resource is 412.
      if (!target.overwrite) throw new DestinationExistsError(destination.href);
    }
    // The replaced destination is moved into retention by the tree operation itself, in its journal.
    await act({ ...target, replace: destination.stat !== null }, source);
    if (target.declaredMtimeMs !== undefined) {
      const before = await services.store.stat(target.destination);
      const after = await services.store.setModifiedTime(target.destination, target.declaredMtimeMs);
      if (before && !before.isCollection) await services.versions.recordMetadataChange(target.destination, before, after);
    }
    const headers: Record<string, string> = { Location: req.hrefOf(target.destination, source.stat.isCollection) };
    if (target.declaredMtimeMs !== undefined) headers['X-OC-MTime'] = 'accepted';
    return { status: destination.stat ? 204 : 201, headers };
  }, { id: randomUUID(), method: kind, path: t.source });
}
