/**
 * The admin listener's address, "ADDR:PORT" ("127.0.0.1:9090", "[::1]:9090", "localhost:9090").
 * Only loopback addresses are accepted unless admin users are configured (`--admin-users`): what
 * it serves (metrics, maintenance tasks) is for the operator of the machine.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The parsed address, or why it is refused (a sentence to show after the option's name). */
export function parseListenAddress(value: string, withLogin = false): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return 'needs ADDR:PORT, e.g. 127.0.0.1:9090 or [::1]:9090';
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) return 'the port must be 0-65535';
  if (!isLoopback(host) && !withLogin) return `only a loopback address (127.0.0.1, ::1, localhost) is accepted unless --admin-users gives the admin listener a login`;
  return { host, port };
}
