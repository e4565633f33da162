/** PROPFIND (RFC 4918 §9.1): Depth 0 and 1; infinity only when configured (403 propfind-finite-depth otherwise). */
import type { DavRequest, MethodHandler, Services } from './context';
import { loadResource, checkPreconditions, type Resource } from './support/resource';
import { collectProperties, propResponse } from './support/propertyValues';
import { NotFoundError, PropfindFiniteDepthError } from '../conditions/davErrors';
import { parseDepth } from '../headers/depth';
import { resolveEquivalentPath } from './support/equivalentNames';
import { parseXmlDocument } from '../xml/parse';
import { parsePropfind, type PropfindRequest } from '../xml/requests';
import { renderXmlDocument, el, type OutElement } from '../xml/build';
import { DAV_NS } from '../xml/tree';
import { isQuotaProperty } from '../props/liveProperties';

export const propfind: MethodHandler = async (req, services) => {
  // §9.1 / §10.2: no Depth header means infinity.
  const depth = parseDepth(req.header('depth')) ?? 'infinity';
  if (depth === 'infinity' && !services.config.allowPropfindInfinity) throw new PropfindFiniteDepthError();
  const request = await readPropfind(req, services);

  const target = await loadResource(req, services, await resolveEquivalentPath(services, req.path));
  if (!target.stat) throw new NotFoundError(target.href);
  await checkPreconditions(req, services, target);

  const usage = wantsQuota(request) ? await services.store.usage() : null;
  const responses: OutElement[] = [];
  const visit = async (resource: Resource, remaining: number, dead = services.props.list(resource.path)): Promise<void> => {
    responses.push(propResponse(resource.href, collectProperties(services, resource, request, usage, dead)));
    if (remaining === 0 || !resource.stat!.isCollection) return;
    // One query each for the members' dead properties and versions, not one per member.
    const members = await services.store.list(resource.path);
    const deadOfMembers = services.props.listMembers(resource.path);
    const etagOf = services.versions.etagsOfMembers(resource.path);
    for (const stat of members) {
      if (!services.access.mayRead(req.user, stat.path)) continue; // what the user may not read is not listed
      const etag = stat.isCollection ? null : etagOf(stat.path, stat);
      const member: Resource = { path: stat.path, stat, etag, href: req.hrefOf(stat.path, stat.isCollection) };
      await visit(member, remaining - 1, deadOfMembers.get(stat.path) ?? []);
    }
  };
  await visit(target, depth === '0' ? 0 : depth === '1' ? 1 : Infinity);

  const body = renderXmlDocument(el(DAV_NS, 'multistatus', ...responses));
  return { status: 207, headers: { 'Content-Type': 'application/xml; charset=utf-8' }, body };
};

async function readPropfind(req: DavRequest, services: Services): Promise<PropfindRequest> {
  if (!req.hasBody) return parsePropfind(null);
  const body = await req.readBody(services.config.maxXmlBodyBytes);
  if (body.length === 0) return parsePropfind(null);
  return parsePropfind(parseXmlDocument(body, { maxElements: services.config.maxXmlElements, maxDepth: services.config.maxXmlDepth }));
}

function wantsQuota(request: PropfindRequest): request is PropfindRequest & { kind: 'prop' } {
  return (
    (request.kind === 'prop' && request.names.some((n) => isQuotaProperty(n.ns, n.local))) ||
    (request.kind === 'allprop' && request.include.some((n) => isQuotaProperty(n.ns, n.local)))
  );
}

