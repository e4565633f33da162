import type { MethodHandler } from './context';
import { ALLOWED_METHODS } from './allowedMethods';

/** OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1): the edge adds `DAV: 1, 2` and `MS-Author-Via` to every answer. */
export const options: MethodHandler = async () => ({
  status: 200,
  headers: { Allow: ALLOWED_METHODS, 'Accept-Ranges': 'bytes' },
});
