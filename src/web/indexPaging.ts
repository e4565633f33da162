/**
 * Which part of a collection the plain HTML index shows. A browser (its Accept names text/html)
 * gets pages of INDEX_PAGE_ROWS members in directory order with links to the next and previous
 * page, so a folder of 100,000 entries never arrives as one huge document: the page's script loads
 * the listing itself (a streamed PROPFIND), and a browser without script still has a working,
 * paged listing. Simple clients that parse the index (lftp, wget: Accept `*\/*`) get every member
 * on one page, as before, unless they ask for `?page=N`.
 */
import type { DavRequest } from '../methods/context';
import { BadRequestError } from '../conditions/davErrors';

export const INDEX_PAGE_ROWS = 500;

/** One page of the index: members `skip` .. `skip + rows - 1` of the readable ones. */
export interface IndexPage {
  number: number;
  skip: number;
  rows: number;
}

const PAGE_NUMBER = /^[1-9]\d{0,8}$/;

/** The page this GET asks for, or null for the whole listing. A malformed `?page=` is 400. */
export function indexPageOf(req: DavRequest): IndexPage | null {
  const asked = req.query.get('page');
  if (asked !== null && !PAGE_NUMBER.test(asked)) throw new BadRequestError(`?page= takes a page number from 1, not "${asked.slice(0, 40)}"`);
  if (asked === null && !acceptsHtml(req.header('accept'))) return null;
  const number = asked === null ? 1 : Number(asked);
  return { number, skip: (number - 1) * INDEX_PAGE_ROWS, rows: INDEX_PAGE_ROWS };
}

/** True when Accept names text/html with a weight above 0 (RFC 9110 §12.5.1), as browsers' navigations do. */
function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'text/html') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
