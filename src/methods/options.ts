import type { MethodHandler } from './context';
import { ALLOWED_METHODS, READ_ONLY_METHODS } from './allowedMethods';

/** OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1): the edge adds `DAV: 1, 2` and `MS-Author-Via` to every answer. */
export const options: MethodHandler = async (_req, services) => ({
  status: 200,
  // A read-only server says so: Allow lists only what it will do.
  headers: { Allow: services.access.readOnly ? READ_ONLY_METHODS : ALLOWED_METHODS, 'Accept-Ranges': 'bytes' },
});
