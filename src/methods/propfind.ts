/**
 * PROPFIND (RFC 4918 §9.1): Depth 0 and 1; infinity only when configured (403 propfind-finite-depth
 * otherwise). The multistatus is streamed (support/multistatusStream.ts), so huge collections
 * take bounded memory and other clients are served meanwhile.
 */
import type { DavRequest, MethodHandler, Services } from './context';
import { loadSettledResource, checkPreconditions } from './support/resource';
import { streamMultistatus } from './support/multistatusStream';
import { NotFoundError, PropfindFiniteDepthError } from '../conditions/davErrors';
import { parseDepth } from '../headers/depth';
import { resolveEquivalentPath } from './support/equivalentNames';
import { parseXmlDocument } from '../xml/parse';
import { parsePropfind, type PropfindRequest } from '../xml/requests';
import { isQuotaProperty } from '../props/liveProperties';
import { parsedBody } from './support/parsedBodyCache';

export const propfind: MethodHandler = async (req, services) => {
  // §9.1 / §10.2: no Depth header means infinity.
  const depth = parseDepth(req.header('depth')) ?? 'infinity';
  const request = await readPropfind(req, services);

  const target = await loadSettledResource(req, services, await resolveEquivalentPath(req, services, req.path));
  if (!target.stat) throw new NotFoundError(target.href);
  // §9.1: infinity may be refused for collections; on a file depth changes nothing, so answer it (hdav).
  if (depth === 'infinity' && target.stat.isCollection && !services.config.allowPropfindInfinity) throw new PropfindFiniteDepthError();
  await checkPreconditions(req, services, target);

  const usage = wantsQuota(request) ? await services.store.usage() : null;
  const body = await streamMultistatus(req, services, { target, depth: depth === '0' ? 0 : depth === '1' ? 1 : Infinity, request, usage });
  return { status: 207, headers: { 'Content-Type': 'application/xml; charset=utf-8' }, body };
};

async function readPropfind(req: DavRequest, services: Services): Promise<PropfindRequest> {
  if (!req.hasBody) return parsePropfind(null);
  const body = await req.readBody(services.config.maxXmlBodyBytes);
  if (body.length === 0) return parsePropfind(null);
  return parsedBody(services, 'PROPFIND', body, (bytes) => parsePropfind(parseXmlDocument(bytes, { maxElements: services.config.maxXmlElements, maxDepth: services.config.maxXmlDepth })));
}

function wantsQuota(request: PropfindRequest): request is PropfindRequest & { kind: 'prop' } {
  return (
    (request.kind === 'prop' && request.names.some((n) => isQuotaProperty(n.ns, n.local))) ||
    (request.kind === 'allprop' && request.include.some((n) => isQuotaProperty(n.ns, n.local)))
  );
}

