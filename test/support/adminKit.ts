/** Requests to the admin listener (JSON in and out) and waits for a maintenance task to end. */
import { request as httpRequest } from 'node:http';

export interface AdminAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `extraHeaders`: e.g. an Authorization for an admin listener with --admin-users. */
export function admin(baseUrl: string, method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, baseUrl);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...extraHeaders, ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }) };
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: url.pathname, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Asks for the task until it is no longer running; its final record. */
export async function taskWhenDone(baseUrl: string, id: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  for (;;) {
    const r = await admin(baseUrl, 'GET', `/tasks/${id}`);
    if (r.status !== 200) throw new Error(`GET /tasks/${id}: ${r.status} ${r.text}`);
    const record = r.json();
    if (record.state !== 'running') return record;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The value of one sample in Prometheus text (`name{labels}` exactly as printed), or undefined. */
export function sample(metrics: string, series: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
