/**
 * Safe by default: keepdav refuses to serve a non-loopback address with nobody to sign in and no
 * explicit choice of what anonymous may do. On loopback, zero setup stays (anonymous write).
 */
import { isIP } from 'node:net';
import type { ServerConfig } from '../config';
import { ConfigError } from '../config';

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){5}0{0,4}:?(0{0,4}:)?::1$/.test(h) || /^::ffff:127\./.test(h) || /^(0:){7}1$/.test(h);
  return false;
}

/**
 * Whether the Host header `host` (name[:port]) names this machine in a way no one else's DNS can
 * change: localhost (RFC 6761 §6.3) or an IP address. A server with no users on loopback answers
 * only to those, so a page on a name rebound to 127.0.0.1 cannot reach its files.
 */
export function isRebindProofHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']') < 0 ? h.length : h.indexOf(']')) : h.replace(/:\d*$/, '').replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
}

/** Throws ConfigError (one line: how to add users or opt in) for an unprotected public address. */
export function assertSafeToServe(config: ServerConfig): void {
  if (config.usersFile !== null || config.anonymous !== null || isLoopbackHost(config.host)) return;
  throw new ConfigError(
    `refusing to serve ${config.host} to anyone without a login: add users with "htpasswd -cB FILE alice" and start with --users FILE, ` +
      'or allow anonymous access explicitly with --anonymous read (or --anonymous write)',
  );
}
