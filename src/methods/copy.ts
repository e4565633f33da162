/** COPY (RFC 4918 §9.8): dead properties are copied, locks are not (§7.6). */
import type { MethodHandler } from './context';
import { transfer } from './support/transfer';

export const copy: MethodHandler = (req, services) =>
  transfer(req, services, 'COPY', (t) => services.tree.copy(t.source, t.destination, t.depth, { replace: t.replace }));
