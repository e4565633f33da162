/**
 * A real nginx (Debian package `nginx`) in front of keepdav, started by a test as its own child
 * process: its own configuration in a temporary directory, `daemon off`, pid file, logs and temp
 * paths there, TLS terminated with a test certificate, plain HTTP to keepdav under a base path.
 * The configuration is the one the README gives (with the test's paths and ports).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

export interface NginxProxy {
  /** TLS. */
  port: number;
  /** Plain HTTP, same server block (for what litmus tests only without TLS). */
  plainPort: number;
  /** Everything nginx wrote to its error log so far. */
  errorLog(): string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  dir: string;
  certFile: string;
  keyFile: string;
  /** Where keepdav listens (plain HTTP). */
  upstreamPort: number;
  /** "/dav/" */
  basePath: string;
  /** Also listen on [::1] (the TLS port). */
  ipv6?: boolean;
  /** Several keepdav instances behind an upstream (round robin: consecutive requests alternate); replaces upstreamPort. */
  upstreamPorts?: number[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The server block of the README, with this test's ports and files. */
export function nginxServerBlock(o: { listenPort: number; plainPort?: number; ipv6?: boolean; certFile: string; keyFile: string; upstreamPort: number; basePath: string; upstreamPorts?: number[] }): string {
  const instances = o.upstreamPorts ?? [];
  const upstream = instances.length > 0 ? `upstream keepdav_instances {\n${instances.map((p) => `    server 127.0.0.1:${p};\n`).join('')}}\n` : '';
  const target = instances.length > 0 ? 'keepdav_instances' : `127.0.0.1:${o.upstreamPort}`;
  return `${upstream}map $remote_addr $forwarded_for_node {
    ~:      "\\"[$remote_addr]\\"";   # IPv6 in brackets, quoted (RFC 7239 §6)
    default $remote_addr;
}
server {
    listen 127.0.0.1:${o.listenPort} ssl;${o.ipv6 ? `\n    listen [::1]:${o.listenPort} ssl;` : ''}${o.plainPort ? `\n    listen 127.0.0.1:${o.plainPort};` : ''}
    server_name localhost;
    ssl_certificate     ${o.certFile};
    ssl_certificate_key ${o.keyFile};

    location ${o.basePath} {
        proxy_pass http://${target};   # no URI part: the request URI goes on as sent
        proxy_http_version 1.1;
        client_max_body_size 0;           # any upload size
        proxy_request_buffering off;      # stream uploads to keepdav
        proxy_buffering off;              # stream downloads to the client
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_set_header Host $http_host; # with the port: Destination names it too
        proxy_set_header Forwarded "for=$forwarded_for_node;proto=$scheme";   # no host=: $http_host is the client's own text
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
        # Destination, If, Lock-Token, Depth, Overwrite, Timeout pass through unchanged.
    }
}`;
}

function waitForPort(port: number, child: ChildProcess, errorLog: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited ${child.exitCode}: ${errorLog()}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) return reject(new Error(`nginx did not listen on ${port}: ${errorLog()}`));
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startNginx(o: NginxOptions): Promise<NginxProxy> {
  const port = await freePort();
  const plainPort = await freePort();
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(o.dir, sub), { recursive: true });
  const errorLogFile = join(o.dir, 'error.log');
  // As root, nginx's workers would switch to "nobody", who cannot use the temporary directories.
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const conf = `${asRoot ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${join(o.dir, 'nginx.pid')};
error_log ${errorLogFile} notice;
events { worker_connections 128; }
http {
    access_log ${join(o.dir, 'access.log')};
    client_body_temp_path ${join(o.dir, 'client_body')};
    proxy_temp_path ${join(o.dir, 'proxy')};
    fastcgi_temp_path ${join(o.dir, 'fastcgi')};
    uwsgi_temp_path ${join(o.dir, 'uwsgi')};
    scgi_temp_path ${join(o.dir, 'scgi')};
${nginxServerBlock({ listenPort: port, plainPort, ipv6: o.ipv6, certFile: o.certFile, keyFile: o.keyFile, upstreamPort: o.upstreamPort, basePath: o.basePath, upstreamPorts: o.upstreamPorts })}
}
`;
  const confFile = join(o.dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const errorLog = () => (existsSync(errorLogFile) ? readFileSync(errorLogFile, 'utf8') : '');
  const child = spawn('nginx', ['-e', errorLogFile, '-p', o.dir, '-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port, child, () => output + errorLog());
  return {
    port,
    plainPort,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT'); // graceful shutdown
        await exited;
      }
    },
  };
}
