import { lookup } from 'mime-types';
import { baseName, type DavPath } from '../paths/davPath';

/** The Content-Type of a file, from its name (mime-types' database); octet-stream when unknown. */
export function contentTypeOf(path: DavPath): string {
  const type = lookup(baseName(path));
  if (!type) return 'application/octet-stream';
  return type;
}
