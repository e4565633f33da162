/**
 * PROPPATCH (RFC 4918 §9.2): all-or-nothing, in document order. Every operation is planned
 * first; if any would fail (403 protected, 409 unfit value), nothing is applied and the others
 * answer 424 Failed Dependency. Otherwise the mtime channels and dead properties are applied.
 */
import type { MethodHandler } from './context';
import { loadResource, checkPreconditions } from './support/resource';
import { propstat } from './support/propertyValues';
import { BadRequestError, NotFoundError } from '../conditions/davErrors';
import { parseXmlDocument } from '../xml/parse';
import { parseProppatch, type PropPatchOperation } from '../xml/requests';
import { serializeElement } from '../xml/serialize';
import { renderXmlDocument, el, type OutElement } from '../xml/build';
import { DAV_NS, textOf } from '../xml/tree';
import { KEEPDAV_NS } from '../conditions/davError';
import { liveProperty } from '../props/liveProperties';
import { modificationTimeChannel } from '../props/modificationTime';
import type { DeadPropertyChange } from '../props/deadPropertyStore';
import { resolveEquivalentPath } from './support/equivalentNames';

interface PlannedOperation {
  name: OutElement;
  status: 200 | 403 | 409;
  /** The keepdav / RFC 4918 §16 condition a failure names. */
  condition?: string;
  dead?: DeadPropertyChange;
  mtimeMs?: number;
}

function plan(op: PropPatchOperation): PlannedOperation {
  const { ns, local } = op.name;
  const name = el(ns, local);
  const channel = modificationTimeChannel(ns, local);
  if (channel && op.op === 'set') {
    const mtimeMs = channel.parse(textOf(op.value));
    if (mtimeMs === null) return { name, status: 409, condition: 'invalid-property-value' };
    const dead: DeadPropertyChange | undefined = channel.keepAsDeadProperty ? { op: 'set', property: { ns, local, xml: serializeElement(op.value) } } : undefined;
    return { name, status: 200, mtimeMs, dead };
  }
  if (channel && op.op === 'remove') {
    // A file always has a modification time: it can be set, not removed (RFC 4918 §9.2, §16: a protected property).
    if (!channel.keepAsDeadProperty) return { name, status: 403, condition: 'cannot-modify-protected-property' };
    return { name, status: 200, dead: { op: 'remove', ns, local } };
  }
  const live = liveProperty(ns, local);
  if (live?.protected) return { name, status: 403, condition: 'cannot-modify-protected-property' };
  if (op.op === 'remove') return { name, status: 200, dead: { op: 'remove', ns, local } };
  return { name, status: 200, dead: { op: 'set', property: { ns, local, xml: serializeElement(op.value) } } };
}

export const proppatch: MethodHandler = async (req, services) => {
  if (!req.hasBody) throw new BadRequestError('PROPPATCH needs a propertyupdate body');
  const body = await req.readBody(services.config.maxXmlBodyBytes);
  const operations = parseProppatch(parseXmlDocument(body, { maxElements: services.config.maxXmlElements, maxDepth: services.config.maxXmlDepth }));

  const path = await resolveEquivalentPath(req, services, req.path);
  return services.state.claims.run([{ path, tree: false }], async () => {
    const target = await loadResource(req, services, path);
    if (!target.stat) throw new NotFoundError(target.href);
    await checkPreconditions(req, services, target, { writes: [{ path: path, depth: '0' }] });

    const planned = operations.map(plan);
    const failed = planned.some((p) => p.status !== 200);
    if (!failed) {
      const mtimeMs = planned.reduce<number | undefined>((last, p) => p.mtimeMs ?? last, undefined);
      const changes = planned.flatMap((p) => (p.dead ? [p.dead] : []));
      // With a time, journaled so that a crash cannot leave the properties without the time.
      if (mtimeMs !== undefined) await services.tree.setPropertiesAndTime(path, mtimeMs, (tx) => tx.properties.apply(path, changes));
      else await services.state.properties.apply(path, changes);
    }

    // One propstat per status, in document order within each (§9.2.1).
    const byStatus = new Map<number, PlannedOperation[]>();
    for (const p of planned) {
      const status = failed && p.status === 200 ? 424 : p.status;
      byStatus.set(status, [...(byStatus.get(status) ?? []), p]);
    }
    const propstats = [...byStatus].map(([status, ops]) => {
      const ps = propstat(ops.map((o) => o.name), status);
      const condition = ops.find((o) => o.condition)?.condition;
      if (condition) {
        const element = condition === 'cannot-modify-protected-property' ? el(DAV_NS, condition) : el(KEEPDAV_NS, condition);
        ps.children!.push(el(DAV_NS, 'error', element));
      }
      return ps;
    });
    // An empty propertyupdate changed nothing: §14.24 lets a response carry a status instead of propstats.
    const outcome = propstats.length > 0 ? propstats : [el(DAV_NS, 'status', 'HTTP/1.1 200 OK')];
    const response = el(DAV_NS, 'response', el(DAV_NS, 'href', target.href), ...outcome);
    return {
      status: 207,
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      body: renderXmlDocument(el(DAV_NS, 'multistatus', response), { [KEEPDAV_NS]: 'k' }),
    };
  });
};
