/**
 * What a method handler receives and returns. The HTTP edge (src/http) builds a DavRequest from
 * node:http and writes the DavResponse back; handlers never touch node:http themselves.
 */
import type { Readable } from 'node:stream';
import type { DavPath } from '../paths/davPath';
import type { ServerConfig } from '../config';
import type { ResourceStore } from '../storage/resourceStore';
import type { LockManager } from '../locks/lockManager';
import type { VersionStore } from '../versions/versionStore';
import type { DigestCompletion } from '../versions/digestCompletion';
import type { StateStore } from '../state/stateStore';
import type { TreeOperations } from './support/treeOperations';
import type { RetentionStore } from '../versions/retention';
import type { CleanupGuard } from '../versions/cleanupGuard';
import type { AccessControl } from '../auth/accessControl';

export interface DavRequest {
  readonly method: string;
  /** The decoded, contained request path. */
  readonly path: DavPath;
  /** Whether the request URL ended in "/" (a collection was meant). */
  readonly trailingSlash: boolean;
  /** The query string's parameters (keepdav's version access: ?versions, ?version=ID, ?restore=ID). */
  readonly query: URLSearchParams;
  /** One header's value (lower-case name); repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /** How many times a header occurs (node joins repeated headers; some must occur once). */
  headerCount(name: string): number;
  /** Who is asking: remote address and User-Agent (to recognise one client's follow-up requests). */
  readonly clientId: string;
  /** The client's address: the socket's peer, or what a trusted proxy names (--trust-proxy). */
  readonly clientAddress: string;
  /** The host[:port] the request names: an absolute-form target's (RFC 9112 §3.2.2), else the Host header's. */
  readonly authority: string | undefined;
  /** Whether the peer is a trusted proxy (--trust-proxy), which chose the name the client used. */
  readonly viaTrustedProxy: boolean;
  /** The host[:port] names the client reached this server by: Host and, via a trusted proxy, the forwarded host. */
  readonly hostsOfThisServer: readonly string[];
  /** The signed-in user's name, null for anonymous; set by the edge once access is admitted. */
  user: string | null;
  /** Whether the request carries a body (Content-Length > 0 or chunked). */
  readonly hasBody: boolean;
  /** Content-Length when given. */
  readonly contentLength: number | undefined;
  /** The raw body stream (consumed at most once). */
  readonly body: Readable;
  /** Reads the whole body; throws PayloadTooLargeError past `limit` bytes. */
  readBody(limit: number): Promise<Buffer>;
  /** The href of a path on this server (percent-encoded, collections end in "/"). */
  hrefOf(path: DavPath, isCollection: boolean): string;
  /** Maps an absolute URI or absolute path to one of our DavPaths; null when it names no resource here. */
  pathOfUri(uri: string): DavPath | null;
}

export interface DavResponse {
  status: number;
  headers?: Record<string, string | number | string[]>;
  body?: string | Buffer | Readable;
}

/** Everything a handler may use, built once by the composition root (src/server.ts). */
export interface Services {
  readonly config: ServerConfig;
  readonly store: ResourceStore;
  /** Everything remembered besides file bytes (locks' data, dead properties, versions, journal, retention index, refusals, write claims). */
  readonly state: StateStore;
  /** The lock policy over state.locks. */
  readonly locks: LockManager;
  /** The ETag policy over state.versions. */
  readonly versions: VersionStore;
  /** Large uploads' digests, read back after their answers. */
  readonly digestCompletion: DigestCompletion;
  readonly tree: TreeOperations;
  readonly retention: RetentionStore;
  readonly cleanupGuard: CleanupGuard;
  /** Users, access rules and lock ownership: the one place access is decided (src/auth). */
  readonly access: AccessControl;
}

export type MethodHandler = (req: DavRequest, services: Services) => Promise<DavResponse>;
