/**
 * Dead properties (RFC 4918 §4.1, §9.2): any property a client sets that the server does not
 * compute. Each is kept as the serialized XML of the property element, so it comes back exactly
 * as sent; they live in the state store (StateStore.properties) and follow their resource through
 * COPY, MOVE and DELETE (see TreeOperations).
 */
export type { DeadProperty, DeadPropertyChange } from '../state/stateStore';
