import type { MethodHandler } from './context';
import { allowedMethodsOf } from './allowedMethods';

/** OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1): the edge adds `DAV: 1, 2` and `MS-Author-Via` to every answer. */
export const options: MethodHandler = async (_req, services) => ({
  status: 200,
  headers: { Allow: allowedMethodsOf(services.access.readOnly), 'Accept-Ranges': 'bytes' },
});
