/** Namespace-aware look-ups in response XML, for assertions. */
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';

export const DAV = 'DAV:';

/** Every element below `root` (depth-first) with this namespace and local name. */
export function findAll(root: XmlElement, ns: string, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.ns === ns && e.local === local) out.push(e);
    for (const c of childElements(e)) walk(c);
  };
  walk(root);
  return out;
}

export function first(root: XmlElement, ns: string, local: string): XmlElement | undefined {
  return findAll(root, ns, local)[0];
}

export function text(root: XmlElement, ns: string, local: string): string | undefined {
  const e = first(root, ns, local);
  return e ? textOf(e) : undefined;
}

/** Maps each DAV:response href to { status: [property elements] } from a multistatus. */
export function propstats(multistatus: XmlElement): Map<string, Map<number, XmlElement[]>> {
  const out = new Map<string, Map<number, XmlElement[]>>();
  for (const response of findAll(multistatus, DAV, 'response')) {
    const href = text(response, DAV, 'href') ?? '';
    const byStatus = new Map<number, XmlElement[]>();
    for (const ps of findAll(response, DAV, 'propstat')) {
      const status = Number((text(ps, DAV, 'status') ?? '').split(' ')[1]);
      const prop = first(ps, DAV, 'prop');
      byStatus.set(status, prop ? childElements(prop) : []);
    }
    out.set(href, byStatus);
  }
  return out;
}
