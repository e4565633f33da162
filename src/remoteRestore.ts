/**
 * The CLI's `restore` while a server owns the state (src/state/stateOwnership.ts): the restore is
 * sent to that server as `POST /path?restore=ID` (README, "Nothing is lost"), so it is serialized
 * with the server's own writes and honours its locks, instead of a second process writing beside it.
 * Credentials come from KEEPDAV_USER / KEEPDAV_PASSWORD when set (HTTP Basic, RFC 7617).
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { hrefOf, type DavPath } from './paths/davPath';

export interface RemoteRestoreOutcome {
  ok: boolean;
  /** One line for the user. */
  message: string;
}

/**
 * `certificateSha256`: with an HTTPS server, the fingerprint of the certificate it recorded in
 * owner.json: the one certificate trusted here. A server on 127.0.0.1 serves a certificate for its
 * real name (or a self-signed one), which no ordinary verification accepts for that address.
 */
export async function restoreThroughServer(serverUrl: string, path: DavPath, id: string, to: DavPath = path, env: NodeJS.ProcessEnv = process.env, certificateSha256?: string): Promise<RemoteRestoreOutcome> {
  const url = new URL(hrefOf(path, false).slice(1) + `?restore=${encodeURIComponent(id)}`, serverUrl);
  const headers: Record<string, string> = { Accept: 'application/problem+json' };
  // Restored elsewhere: the Destination names the new path under the server's own base.
  if (to !== path) headers.Destination = new URL(hrefOf(to, false).slice(1), serverUrl).pathname;
  if (env.KEEPDAV_USER !== undefined) {
    headers.Authorization = 'Basic ' + Buffer.from(`${env.KEEPDAV_USER}:${env.KEEPDAV_PASSWORD ?? ''}`, 'utf8').toString('base64');
  }
  let res: Answer;
  try {
    res = await post(url, headers, certificateSha256);
  } catch (err) {
    return { ok: false, message: `the server at ${serverUrl} owns the state but cannot be reached (${(err as Error).message})` };
  }
  const text = res.text;
  if (res.status === 201 || res.status === 204) {
    return { ok: true, message: `restored ${path} to version ${id}${to === path ? '' : ` at ${to}`} through the running server at ${serverUrl}; new ETag ${res.etag ?? '(none)'}` };
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

/** How long the server may take to accept the connection (and its TLS handshake), and to answer. */
const CONNECT_TIMEOUT_MS = 10_000;
const ANSWER_TIMEOUT_MS = 120_000;

interface Answer {
  status: number;
  etag: string | undefined;
  text: string;
}

/** POST to `url`; over HTTPS only once the server showed the certificate with fingerprint `pin`. */
async function post(url: URL, headers: Record<string, string>, pin: string | undefined): Promise<Answer> {
  if (url.protocol === 'http:') return answerOf(httpRequest(url, { method: 'POST', headers }));
  const socket = await pinnedConnection(url, pin);
  // No agent: the request goes over this very connection (an agent would open and verify one of its own).
  return answerOf(httpsRequest(url, { method: 'POST', headers, createConnection: () => socket }));
}

function pinnedConnection(url: URL, pin: string | undefined): Promise<TLSSocket> {
  if (!pin) return Promise.reject(new Error('it serves HTTPS but recorded no certificate to trust; restart it with this version of keepdav'));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    // Verified below by its fingerprint, before a byte (credentials included) is sent.
    const socket = tlsConnect({ host, port: Number(url.port) || 443, servername: isIP(host) ? undefined : host, rejectUnauthorized: false });
    socket.once('error', reject);
    // A stopped or wedged server accepts the connection (the kernel does) and never shakes hands.
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error(`no TLS handshake within ${CONNECT_TIMEOUT_MS / 1000} s`)));
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      const shown = socket.getPeerCertificate().fingerprint256;
      if (shown === pin) return resolve(socket);
      socket.destroy();
      reject(new Error(`it shows a certificate (${shown}) other than the one it recorded`));
    });
  });
}

function answerOf(req: ClientRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    // Silence for this long (a stopped server; a restore copies at most one file) ends the wait.
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`)));
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, text }));
      res.once('error', reject);
    });
    req.end();
  });
}
