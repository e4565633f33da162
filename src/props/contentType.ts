import { lookup } from 'mime-types';
import { baseName, type DavPath } from '../paths/davPath';

/**
 * Answers by extension, the only part of the name mime-types looks at (what follows the last dot,
 * in any letter case; a name without a dot is taken whole as one): a listing of 100,000 names has a
 * handful of extensions, where a cache by name would miss on every one.
 */
const byExtension = new Map<string, string>();
const BY_EXTENSION_ENTRIES = 4096;

/** The Content-Type of a file, from its name (mime-types' database); octet-stream when unknown. */
export function contentTypeOf(path: DavPath): string {
  const name = baseName(path);
  const extension = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const known = byExtension.get(extension);
  if (known !== undefined) return known;
  const type = lookup(name) || 'application/octet-stream';
  if (byExtension.size >= BY_EXTENSION_ENTRIES) byExtension.clear();
  byExtension.set(extension, type);
  return type;
}
