import { lookup } from 'mime-types';
import { baseName, type DavPath } from '../paths/davPath';

/** Answers by file name: a listing or repeated GETs ask for the same names over and over. */
const byName = new Map<string, string>();
const BY_NAME_ENTRIES = 4096;

/** The Content-Type of a file, from its name (mime-types' database); octet-stream when unknown. */
export function contentTypeOf(path: DavPath): string {
  const name = baseName(path);
  const known = byName.get(name);
  if (known !== undefined) return known;
  const type = lookup(name) || 'application/octet-stream';
  if (byName.size >= BY_NAME_ENTRIES) byName.clear();
  byName.set(name, type);
  return type;
}
