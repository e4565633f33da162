/**
 * The admin listener (`--admin-listen ADDR:PORT`, loopback only): GET /metrics (Prometheus
 * text), GET /healthz (alive), GET /readyz (200 or 503 with the reason), and the maintenance
 * task API: POST /tasks {"task":"scrub"|"prune"|"reindex"} -> 202 {"id"}; GET /tasks;
 * GET /tasks/ID; DELETE /tasks/ID (cancel). A second task while one runs is 409
 * AutomationConflict naming the running task. Answers are JSON except /metrics.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger';
import type { ServerMetrics } from './metrics';
import type { Readiness } from './readiness';
import type { AdminUsers } from '../auth/adminUsers';
import { TASK_NAMES, TaskConflictError, type TaskName, type TaskRunner } from '../maintenance/taskRunner';

/** A task request body is tiny; anything longer is refused. */
const MAX_BODY = 4096;

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface AdminDeps {
  metrics: ServerMetrics;
  readiness: () => Promise<Readiness>;
  tasks: TaskRunner;
  logger: Logger;
  /** Who may read /metrics and use /tasks (`--admin-users`); null: no login (the listener is on loopback). */
  adminUsers: AdminUsers | null;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY) throw new SyntaxError(`the body is longer than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

async function route(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  const only = (allowed: string) => {
    json(res, 405, { code: 'MethodNotAllowed', message: `${path} answers ${allowed}` }, { Allow: allowed });
  };
  if (path === '/healthz') return method === 'GET' || method === 'HEAD' ? json(res, 200, { status: 'alive' }) : only('GET, HEAD');
  if (path === '/readyz') {
    if (method !== 'GET' && method !== 'HEAD') return only('GET, HEAD');
    const r = await deps.readiness();
    return json(res, r.ready ? 200 : 503, r.ready ? { status: 'ready', checks: r.checks } : { status: 'not ready', reason: r.reason, checks: r.checks });
  }
  // Liveness and readiness stay open (load balancers and container health checks ask them);
  // metrics and tasks need an admin's login when --admin-users is set (RFC 7617).
  if (deps.adminUsers && (await deps.adminUsers.admit(req.headers.authorization)) === null) {
    return json(res, 401, { code: 'Unauthorized', message: 'sign in as one of the --admin-users' }, { 'WWW-Authenticate': 'Basic realm="keepdav admin", charset="UTF-8"' });
  }
  if (path === '/metrics') {
    if (method !== 'GET' && method !== 'HEAD') return only('GET, HEAD');
    const text = await deps.metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': deps.metrics.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
    return void res.end(text);
  }
  if (path === '/tasks') {
    if (method === 'GET') return json(res, 200, { tasks: deps.tasks.list() });
    if (method !== 'POST') return only('GET, POST');
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      return json(res, 400, { code: 'BadRequest', message: `the body must be JSON such as {"task":"scrub"}: ${(err as Error).message}` });
    }
    const task = (body as { task?: unknown } | null)?.task;
    if (typeof task !== 'string' || !(TASK_NAMES as readonly string[]).includes(task)) {
      return json(res, 400, { code: 'UnknownTask', message: `"task" must be one of ${TASK_NAMES.join(', ')}` });
    }
    try {
      const record = deps.tasks.start(task as TaskName);
      deps.logger.info({ kind: 'task', taskId: record.id, task }, `task ${task} started`);
      return json(res, 202, { id: record.id, task }, { Location: `/tasks/${record.id}` });
    } catch (err) {
      if (!(err instanceof TaskConflictError)) throw err;
      return json(res, 409, { code: 'AutomationConflict', task: err.requested, message: err.message, runningTaskId: err.running.id });
    }
  }
  const m = /^\/tasks\/([0-9a-f-]{36})$/.exec(path);
  if (m) {
    const record = method === 'DELETE' ? deps.tasks.cancel(m[1]) : method === 'GET' ? deps.tasks.get(m[1]) : undefined;
    if (method !== 'GET' && method !== 'DELETE') return only('GET, DELETE');
    if (!record) return json(res, 404, { code: 'NoSuchTask', message: `no task ${m[1]}` });
    return json(res, method === 'DELETE' && record.state === 'running' ? 202 : 200, record);
  }
  json(res, 404, { code: 'NotFound', message: 'the admin listener serves /metrics, /healthz, /readyz and /tasks' });
}

/** `listen` binds the server (the caller explains a refusal naming its option). */
export async function startAdminServer(deps: AdminDeps, listen: (server: Server) => Promise<void>): Promise<AdminServer> {
  const server: Server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    route(req, res, deps).catch((err: unknown) => {
      deps.logger.error({ err, kind: 'admin', path: req.url }, 'admin request failed');
      if (!res.headersSent) json(res, 500, { code: 'InternalError', message: 'the admin request failed; see the log' });
      else res.destroy();
    });
  });
  await listen(server);
  const { port, address: host } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
