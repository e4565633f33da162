/** MOVE (RFC 4918 §9.9): a rename; dead properties travel with the resource, its locks stay behind. */
import type { MethodHandler } from './context';
import { transfer } from './support/transfer';

export const move: MethodHandler = (req, services) =>
  transfer(req, services, 'MOVE', (t) => services.tree.move(t.source, t.destination, { replace: t.replace }));
