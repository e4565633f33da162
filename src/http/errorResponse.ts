/**
 * The one place a DavError becomes an answer: status, headers (ETag, Last-Modified, Allow,
 * Retry-After...) and a body that says what conflicted, either as a DAV:error document
 * (RFC 4918 §16) or, when the client prefers JSON, as application/problem+json (RFC 9457).
 */
import { DavError, KEEPDAV_NS } from '../conditions/davError';
import type { DavResponse } from '../methods/context';
import { el, renderXmlDocument, type OutElement, type OutNode } from '../xml/build';
import { DAV_NS } from '../xml/tree';
import { formatHttpDate } from '../headers/httpDate';

/** Sabre's namespace: rclone and Nextcloud-style clients show its <s:message> to their users. */
const SABRE_NS = 'http://sabredav.org/ns';

function factHeaders(error: DavError): Record<string, string> {
  const headers: Record<string, string> = { ...error.headers };
  if (error.facts.etag) headers.ETag = error.facts.etag;
  if (typeof error.facts.lastModifiedMs === 'number') headers['Last-Modified'] = formatHttpDate(error.facts.lastModifiedMs);
  return headers;
}

/** The facts as plain strings, with the time both as an HTTP date and as unix seconds. */
function factEntries(error: DavError): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(error.facts)) {
    if (value === undefined || value === null) continue;
    if (key === 'lastModifiedMs' && typeof value === 'number') {
      entries.push(['lastmodified', formatHttpDate(value)], ['mtime', String(Math.floor(value / 1000))]);
    } else {
      entries.push([key.toLowerCase(), String(value)]);
    }
  }
  return entries;
}

function xmlBody(error: DavError): string {
  const children: OutNode[] = [];
  if (error.condition) {
    const hrefs = (error.condition.hrefs ?? []).map((href) => el(DAV_NS, 'href', href));
    children.push(el(DAV_NS, error.condition.element, ...hrefs));
  }
  children.push(el(SABRE_NS, 'exception', error.name), el(SABRE_NS, 'message', error.message));
  const details: OutElement = el(KEEPDAV_NS, 'conflict', el(KEEPDAV_NS, 'code', error.code), el(KEEPDAV_NS, 'status', String(error.status)));
  for (const [key, value] of factEntries(error)) details.children!.push(el(KEEPDAV_NS, key, value));
  children.push(details);
  return renderXmlDocument(el(DAV_NS, 'error', ...children), { [SABRE_NS]: 's', [KEEPDAV_NS]: 'k' });
}

function problemBody(error: DavError): string {
  const problem: Record<string, string | number> = {
    type: `urn:keepdav:error:${error.code}`,
    title: error.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2'),
    status: error.status,
    detail: error.message,
    code: error.code,
  };
  if (error.condition) problem.precondition = error.condition.element;
  for (const [key, value] of factEntries(error)) if (!(key in problem)) problem[key] = value;
  return JSON.stringify(problem);
}

export function renderDavError(error: DavError, preferJson: boolean): DavResponse {
  const body = preferJson ? problemBody(error) : xmlBody(error);
  return {
    status: error.status,
    headers: {
      ...factHeaders(error),
      'Content-Type': preferJson ? 'application/problem+json' : 'application/xml; charset=utf-8',
    },
    body,
  };
}

/** A bare 500: no stack trace, no host path (the details go to the server's log only). */
export const INTERNAL_ERROR: DavResponse = {
  status: 500,
  headers: { 'Content-Type': 'text/plain; charset=utf-8' },
  body: 'Internal Server Error\n',
};
