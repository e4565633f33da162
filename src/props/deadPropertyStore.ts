/**
 * Dead properties (RFC 4918 §4.1, §9.2): any property a client sets that the server does not
 * compute. Each is kept as the serialized XML of the property element, so it comes back exactly
 * as sent; they live in the state store (StateStore.properties) and follow their resource through
 * COPY, MOVE and DELETE (see TreeOperations).
 */
import type { DeadProperty } from '../state/stateStore';
export type { DeadProperty, DeadPropertyChange } from '../state/stateStore';

/** One string per property name (namespace and local name), to find a property by its name. */
export function propertyKey(ns: string, local: string): string {
  return `${ns}\u0000${local}`;
}

/** `dead` by propertyKey (a later one of the same name wins, as a PROPPATCH replaces it). */
export function deadPropertiesByName(dead: readonly DeadProperty[]): Map<string, DeadProperty> {
  return new Map(dead.map((p) => [propertyKey(p.ns, p.local), p]));
}

/**
 * The dead properties allprop adds after the live ones (RFC 4918 §9.1), in the order stored, each
 * name once: those whose name is not in `live` (the live ones' propertyKeys: a stored property
 * under a live name took that one's place).
 */
export function deadPropertiesAfterLive(dead: readonly DeadProperty[], live: ReadonlySet<string>): DeadProperty[] {
  const added: DeadProperty[] = [];
  const written = new Set<string>();
  for (const p of dead) {
    const key = propertyKey(p.ns, p.local);
    if (live.has(key) || written.has(key)) continue;
    written.add(key);
    added.push(p);
  }
  return added;
}
