/**
 * The CLI's `restore` while a server owns the state (src/state/stateOwnership.ts): the restore is
 * sent to that server as `POST /path?restore=ID` (README, "Nothing is lost"), so it is serialized
 * with the server's own writes and honours its locks, instead of a second process writing beside it.
 * Credentials come from KEEPDAV_USER / KEEPDAV_PASSWORD when set (HTTP Basic, RFC 7617).
 */
import { hrefOf, type DavPath } from './paths/davPath';

export interface RemoteRestoreOutcome {
  ok: boolean;
  /** One line for the user. */
  message: string;
}

export async function restoreThroughServer(serverUrl: string, path: DavPath, id: string, to: DavPath = path, env: NodeJS.ProcessEnv = process.env): Promise<RemoteRestoreOutcome> {
  const url = new URL(hrefOf(path, false).slice(1) + `?restore=${encodeURIComponent(id)}`, serverUrl);
  const headers: Record<string, string> = { Accept: 'application/problem+json' };
  // Restored elsewhere: the Destination names the new path under the server's own base.
  if (to !== path) headers.Destination = new URL(hrefOf(to, false).slice(1), serverUrl).pathname;
  if (env.KEEPDAV_USER !== undefined) {
    headers.Authorization = 'Basic ' + Buffer.from(`${env.KEEPDAV_USER}:${env.KEEPDAV_PASSWORD ?? ''}`, 'utf8').toString('base64');
  }
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers });
  } catch (err) {
    return { ok: false, message: `the server at ${serverUrl} owns the state but cannot be reached (${(err as Error).message})` };
  }
  const text = await res.text();
  if (res.status === 201 || res.status === 204) {
    return { ok: true, message: `restored ${path} to version ${id}${to === path ? '' : ` at ${to}`} through the running server at ${serverUrl}; new ETag ${res.headers.get('etag') ?? '(none)'}` };
  }
  let detail = text.trim().slice(0, 300);
  try {
    const problem = JSON.parse(text) as { detail?: string; code?: string };
    detail = [problem.code, problem.detail].filter(Boolean).join(': ');
  } catch {
    // not problem+json: keep the text
  }
  const why = res.status === 404 ? `${path} has no retained version ${id}` : detail;
  return { ok: false, message: `the running server at ${serverUrl} refused the restore: ${res.status} ${why}` };
}
