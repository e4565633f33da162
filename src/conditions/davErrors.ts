/**
 * The DAV conditions keepdav answers with: one class per condition, each knowing its status,
 * its stable code (README, "Error codes") and its RFC 4918 §16 element where one applies.
 */
import { DavError, type ResourceFacts } from './davError';

type Facts = ResourceFacts;

/** 400: a header, URL or body the server cannot parse. */
export class BadRequestError extends DavError {
  readonly status = 400;
  readonly code = 'bad-request';
  constructor(detail: string) {
    super(detail);
  }
}

/** 431: the request's header section (or its request line) is past node:http's limit (RFC 6585 §5). */
export class HeadersTooLargeError extends DavError {
  readonly status = 431;
  readonly code = 'headers-too-large';
  constructor() {
    super('the request line and headers are larger than this server accepts (16 KiB)');
  }
}

/** 403: the request is understood but refused (source equals destination, reserved name...). */
export class ForbiddenError extends DavError {
  readonly status = 403;
  constructor(readonly code: string, detail: string, facts?: Facts) {
    super(detail, { facts });
  }
}

/** 403 with DAV:propfind-finite-depth (RFC 4918 §9.1, §16). */
export class PropfindFiniteDepthError extends DavError {
  readonly status = 403;
  readonly code = 'propfind-finite-depth';
  constructor() {
    super('PROPFIND with Depth: infinity is not allowed on this server', { condition: { element: 'propfind-finite-depth' } });
  }
}

export class NotFoundError extends DavError {
  readonly status = 404;
  readonly code = 'not-found';
  constructor(href: string) {
    super(`${href} does not exist`, { facts: { href } });
  }
}

/** 405, with the Allow header the resource really supports (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends DavError {
  readonly status = 405;
  constructor(readonly code: string, detail: string, allow: string, facts?: Facts) {
    super(detail, { headers: { Allow: allow }, facts });
  }
}

/** 409 parent-missing: MKCOL, PUT, COPY, MOVE below a collection that does not exist (RFC 4918 §9.3.1, 9.7.1, 9.8.5, 9.9.4). */
export class ParentMissingError extends DavError {
  readonly status = 409;
  readonly code = 'parent-missing';
  constructor(missingAncestorHref: string) {
    super(`the parent collection ${missingAncestorHref} does not exist`, { facts: { missing: missingAncestorHref } });
  }
}

/** 409 for other conflicts with the state of the resource (a file where a collection is needed...). */
export class ConflictError extends DavError {
  readonly status = 409;
  constructor(readonly code: string, detail: string, facts?: Facts) {
    super(detail, { facts });
  }
}

/** 409 with DAV:lock-token-matches-request-uri (RFC 4918 §9.11.1). */
export class LockTokenMismatchError extends DavError {
  readonly status = 409;
  readonly code = 'lock-token-matches-request-uri';
  constructor(token: string, href: string) {
    super(`no active lock ${token} applies to ${href}`, { condition: { element: 'lock-token-matches-request-uri' }, facts: { href, token } });
  }
}

/** 412 from If-Match, If-None-Match or If-Unmodified-Since (RFC 9110 §13.1). */
export class PreconditionFailedError extends DavError {
  readonly status = 412;
  readonly code = 'precondition-failed';
  constructor(header: string, facts?: Facts) {
    super(`the ${header} condition is false for the current version`, { facts: { ...facts, header } });
  }
}

/** 412 when no list of the If header is true (RFC 4918 §10.4). */
export class IfHeaderFalseError extends DavError {
  readonly status = 412;
  readonly code = 'if-header-false';
  constructor(facts?: Facts) {
    super('no list of the If header matches the current state of the resource', { facts });
  }
}

/** 412 for COPY/MOVE with Overwrite: F onto an existing resource (RFC 4918 §9.8.5, 9.9.4). */
export class DestinationExistsError extends DavError {
  readonly status = 412;
  readonly code = 'destination-exists';
  constructor(href: string, facts?: Facts) {
    super(`${href} exists and Overwrite is F`, { facts: { href, ...facts } });
  }
}

/** 413: a body or header over the configured limit. */
export class PayloadTooLargeError extends DavError {
  readonly status = 413;
  readonly code = 'too-large';
  constructor(detail: string) {
    super(detail);
  }
}

/** 415: MKCOL with a body (RFC 4918 §9.3.1), or a body type the method does not take. */
export class UnsupportedMediaTypeError extends DavError {
  readonly status = 415;
  readonly code = 'unsupported-body';
  constructor(detail: string) {
    super(detail);
  }
}

/** 416: a Range no byte of which lies in the file (RFC 9110 §15.5.17). */
export class RangeNotSatisfiableError extends DavError {
  readonly status = 416;
  readonly code = 'range-not-satisfiable';
  constructor(size: number) {
    super('the requested range lies outside the file', { headers: { 'Content-Range': `bytes */${size}` } });
  }
}

/** 422: well-formed XML that asks for something meaningless (RFC 4918 §11.2). */
export class UnprocessableBodyError extends DavError {
  readonly status = 422;
  readonly code = 'unprocessable-body';
  constructor(detail: string) {
    super(detail);
  }
}

/** 423 with DAV:lock-token-submitted naming the lock root (RFC 4918 §7.5, §16). */
export class LockTokenSubmittedError extends DavError {
  readonly status = 423;
  readonly code = 'lock-token-submitted';
  constructor(lockRootHref: string, facts?: Facts) {
    super(`the resource is locked; submit the lock token of ${lockRootHref}`, {
      condition: { element: 'lock-token-submitted', hrefs: [lockRootHref] },
      facts: { lockroot: lockRootHref, ...facts },
    });
  }
}

/** 423 with DAV:no-conflicting-lock (RFC 4918 §9.10.5, §16). */
export class NoConflictingLockError extends DavError {
  readonly status = 423;
  readonly code = 'no-conflicting-lock';
  constructor(lockRootHref: string, facts?: Facts) {
    super(`a conflicting lock is held on ${lockRootHref}`, {
      condition: { element: 'no-conflicting-lock', hrefs: [lockRootHref] },
      facts: { lockroot: lockRootHref, ...facts },
    });
  }
}

/**
 * 501: a request body in a transfer coding other than chunked alone (RFC 9112 §6.1: a server that
 * receives a transfer coding it does not understand SHOULD answer 501); stored as it came, its
 * bytes would still be, say, gzip.
 */
export class UnsupportedTransferCodingError extends DavError {
  readonly status = 501;
  readonly code = 'unsupported-transfer-coding';
  constructor(codings: string) {
    super(`Transfer-Encoding "${codings.slice(0, 100)}" is not supported: send the body as is, or chunked`);
  }
}

/** 501: a method this server does not implement (RFC 9110 §15.6.2). */
export class UnsupportedMethodError extends DavError {
  readonly status = 501;
  readonly code = 'unsupported-method';
  constructor(method: string) {
    super(`${method} is not a method this server supports`);
  }
}

/** 502: COPY/MOVE to another server (RFC 4918 §9.8.5). */
export class BadGatewayError extends DavError {
  readonly status = 502;
  readonly code = 'destination-on-other-server';
  constructor(destination: string) {
    super(`the destination ${destination} is not on this server`);
  }
}

/** 507: no space left (RFC 4918 §11.5). */
export class InsufficientStorageError extends DavError {
  readonly status = 507;
  readonly code = 'insufficient-storage';
  constructor(href: string) {
    super(`not enough space to store ${href}`, { facts: { href } });
  }
}

/**
 * 409 stale-version: a PUT declaring (X-OC-Mtime) a modification time older than the stored one,
 * without If-Match naming the current ETag (semantics.md, "Stale uploads"). Nothing is written.
 */
export class StaleVersionError extends DavError {
  readonly status = 409;
  readonly code = 'stale-version';
  constructor(declaredMtimeMs: number, facts: Facts) {
    super(
      `the upload states a modification time (${new Date(declaredMtimeMs).toISOString()}) older than the stored version's; ` +
        'fetch the current version, or send If-Match with its ETag to replace it anyway',
      { facts: { ...facts, declaredmtime: Math.floor(declaredMtimeMs / 1000), version: facts.etag ? String(facts.etag).replace(/"/g, '') : null } },
    );
  }
}

/** 409 stale-delete: an unconditional DELETE right after the same client's upload was refused as stale (rclone's clean-up). */
export class StaleDeleteError extends DavError {
  readonly status = 409;
  readonly code = 'stale-delete';
  constructor(facts: Facts) {
    super(
      'this client\'s upload of the resource was just refused as stale, so its unconditional DELETE is refused too; ' +
        'the newer version stays. Send If-Match with the current ETag to delete it anyway',
      { facts },
    );
  }
}

/**
 * 409 refused-upload-delete: an unconditional DELETE right after the same client's upload of the
 * resource was refused for another reason than age (423 locked, 412, 507...). rclone deletes what it
 * failed to upload, retrying through 423 until a lock is released; the holder's save must survive.
 */
export class RefusedUploadDeleteError extends DavError {
  readonly status = 409;
  readonly code = 'refused-upload-delete';
  constructor(refusal: { code: string; status: number }, facts: Facts) {
    super(
      `this client's upload of the resource was just refused (${refusal.status} ${refusal.code}), so its unconditional DELETE is refused too; ` +
        'the current version stays. Send If-Match with the current ETag to delete it anyway',
      { facts: { ...facts, refusal: refusal.code } },
    );
  }
}

/**
 * 409 stale-version for a re-creation: a PUT creating a file this client deleted moments ago, stating
 * an older modification time than the deleted content had. That content is kept among the versions.
 */
export class StaleRecreationError extends DavError {
  readonly status = 409;
  readonly code = 'stale-version';
  constructor(declaredMtimeMs: number, deleted: { etag: string | null; mtimeMs: number }, facts: Facts) {
    super(
      `this client deleted the resource moments ago, and the upload states a modification time (${new Date(declaredMtimeMs).toISOString()}) ` +
        'older than the deleted version\'s; that version is kept (?versions lists it): restore it, or upload without X-OC-Mtime',
      {
        facts: {
          ...facts,
          declaredmtime: Math.floor(declaredMtimeMs / 1000),
          deletedetag: deleted.etag,
          deletedmtime: Math.floor(deleted.mtimeMs / 1000),
        },
      },
    );
  }
}

/**
 * 400 checksum-mismatch: the uploaded content does not have the checksum the client stated in
 * OC-Checksum; nothing is stored. ownCloud answers this case with 400 and the same meaning
 * (apps/dav/lib/Connector/Sabre/File.php: "The computed checksum does not match the one received
 * from the client."), and RFC 9110 §15.5.1 fits: the request content is not what it claims.
 */
export class ChecksumMismatchError extends DavError {
  readonly status = 400;
  readonly code = 'checksum-mismatch';
  constructor(type: string, stated: string, computed: string, facts?: Facts) {
    super(`the computed checksum does not match the one received from the client (${type}: stated ${stated}, computed ${computed}); nothing was stored`, {
      facts: { ...facts, checksumtype: type, stated, computed },
    });
  }
}

/** 409 duplicate-name: a new member whose name equals an existing sibling's after NFC normalization (or case folding). */
export class DuplicateNameError extends DavError {
  readonly status = 409;
  readonly code = 'duplicate-name';
  constructor(existingHref: string) {
    super(`a member with an equivalent name already exists: ${existingHref}`, { facts: { existing: existingHref } });
  }
}

/** 423 operation-in-progress: a mutation overlapping a COPY, MOVE or DELETE that is still running. */
export class OperationInProgressError extends DavError {
  readonly status = 423;
  readonly code = 'operation-in-progress';
  constructor(operation: { id: string; method: string; href: string; startedAtMs: number }, retryAfterSeconds: number) {
    super(`${operation.method} of ${operation.href} (started ${new Date(operation.startedAtMs).toISOString()}) is still running; retry shortly`, {
      headers: { 'Retry-After': String(retryAfterSeconds) },
      facts: { operation: operation.id, method: operation.method, path: operation.href, started: new Date(operation.startedAtMs).toISOString() },
    });
  }
}

/**
 * 401: no credentials, or credentials that do not verify, where the resource needs a signed-in
 * user (RFC 9110 §11.6.1, §15.5.2); the challenge names the realm and UTF-8 (RFC 7617 §2, §2.1).
 */
export class UnauthorizedError extends DavError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(detail: string, challenge: string) {
    super(detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}

/**
 * 421 host-not-served: a server with nobody to sign in, on a loopback address, answers only to
 * names no one can point elsewhere (localhost, an IP address): a web page on a name that was
 * made to resolve to 127.0.0.1 (DNS rebinding) must not read or write the files (RFC 9110
 * §15.5.20: the server is unwilling to answer for that name).
 */
export class HostNotServedError extends DavError {
  readonly status = 421;
  readonly code = 'host-not-served';
  constructor(host: string) {
    super(
      `this server has no users and answers only to localhost or an IP address, not to ${JSON.stringify(host.slice(0, 200))}: ` +
        'start it with --users FILE to serve other names (or put it behind a proxy named with --trust-proxy)',
    );
  }
}

/** 403 no-permission: a signed-in user whose access rules do not allow this; names the deciding rule's path. */
export class NoPermissionError extends DavError {
  readonly status = 403;
  readonly code = 'no-permission';
  constructor(href: string, needed: 'read' | 'write', rulePath: string | null) {
    const why = rulePath === null ? 'no access rule grants it' : `the access rule for ${rulePath} decides`;
    super(`no ${needed} access to ${href}: ${why}`, { facts: { href, needed, rule: rulePath } });
  }
}

/** 403 read-only: the server was started with --read-only, so every write method is refused. */
export class ReadOnlyServerError extends DavError {
  readonly status = 403;
  readonly code = 'read-only';
  constructor(method: string) {
    super(`this server is read-only; ${method} is refused`);
  }
}

/** 403 lock-not-owned: UNLOCK or a refresh of a lock another user took (RFC 4918 §6.4: locks belong to a principal). */
export class LockNotOwnedError extends DavError {
  readonly status = 403;
  readonly code = 'lock-not-owned';
  constructor(lockRootHref: string) {
    super(`the lock on ${lockRootHref} belongs to another user`, { facts: { lockroot: lockRootHref } });
  }
}

/** 429 too-many-attempts: too many failed sign-ins from this address (RFC 6585 §4), with Retry-After. */
export class TooManyAttemptsError extends DavError {
  readonly status = 429;
  readonly code = 'too-many-attempts';
  constructor(retryAfterSeconds: number) {
    super(`too many failed sign-ins from this address; retry in ${retryAfterSeconds} s`, { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

/**
 * 403 destination-is-ancestor: COPY or MOVE onto a collection that contains the source. With
 * Overwrite: T the destination is deleted first (RFC 4918 §9.8.4, §9.9.3), which would destroy
 * the source itself; like source and destination being the same resource (§9.8.5, §9.9.4) it is 403.
 */
export class DestinationIsAncestorError extends DavError {
  readonly status = 403;
  readonly code = 'destination-is-ancestor';
  constructor(destinationHref: string, method: string) {
    super(`cannot ${method} onto ${destinationHref}: it contains the source, which replacing it would destroy`, { facts: { destination: destinationHref } });
  }
}

/**
 * 410 version-content-missing: the version is listed but its retained bytes are gone from the
 * state directory (deleted by hand, a damaged disk). The listing stays; the bytes cannot come back.
 */
export class VersionContentMissingError extends DavError {
  readonly status = 410;
  readonly code = 'version-content-missing';
  constructor(href: string, versionId: string) {
    super(`the retained bytes of version ${versionId} of ${href} are missing from the state directory`, { facts: { href, version: versionId } });
  }
}

/**
 * 503 file-busy: a GET found the file replaced between its stat and its open, again and again
 * (methods/get.ts): nothing was sent, since no version could be answered whole. RFC 9110
 * §15.6.4: Retry-After.
 */
export class FileBusyError extends DavError {
  readonly status = 503;
  readonly code = 'file-busy';
  constructor(href: string, retryAfterSeconds: number) {
    super(`${href} was replaced while it was being read, each time it was tried; retry shortly`, { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

/**
 * 503 state-unavailable: the shared state database (--state postgres://) cannot be reached, so no
 * decision about locks or versions can be made; nothing was changed, unless `carriedOut` names a
 * COPY, MOVE or DELETE whose files were changed before the database went away: its record is made
 * when the database is back (outstandingCommit.ts). RFC 9110 §15.6.4: Retry-After.
 */
export class StateUnavailableError extends DavError {
  readonly status = 503;
  readonly code = 'state-unavailable';
  constructor(retryAfterSeconds: number, carriedOut: string | null = null) {
    super(
      carriedOut === null
        ? 'the state database is unreachable; nothing was changed, retry shortly'
        : `the state database is unreachable; the ${carriedOut} was carried out, and its properties, versions and locks are recorded when the database is back (its paths answer 423 until then)`,
      { headers: { 'Retry-After': String(retryAfterSeconds) } },
    );
  }
}
