/**
 * The admin listener's address, "ADDR:PORT" ("127.0.0.1:9090", "[::1]:9090", "localhost:9090").
 * Only loopback addresses are accepted: the admin listener has no login in this build, and what
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
export function parseListenAddress(value: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return 'needs ADDR:PORT, e.g. 127.0.0.1:9090 or [::1]:9090';
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) return 'the port must be 0-65535';
  if (!isLoopback(host)) return `only a loopback address (127.0.0.1, ::1, localhost) is accepted: the admin listener has no login`;
  return { host, port };
}
