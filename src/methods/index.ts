/** The method table the HTTP edge dispatches on. */
import type { MethodHandler } from './context';
import { options } from './options';
import { get } from './get';
import { put } from './put';
import { mkcol } from './mkcol';
import { del } from './delete';
import { copy } from './copy';
import { move } from './move';
import { propfind } from './propfind';
import { proppatch } from './proppatch';
import { lock } from './lock';
import { unlock } from './unlock';
import { post } from './versionAccess';

export const METHOD_HANDLERS: Readonly<Record<string, MethodHandler>> = Object.freeze({
  OPTIONS: options,
  GET: get,
  HEAD: get,
  PUT: put,
  DELETE: del,
  MKCOL: mkcol,
  COPY: copy,
  MOVE: move,
  PROPFIND: propfind,
  PROPPATCH: proppatch,
  LOCK: lock,
  UNLOCK: unlock,
  POST: post,
});
