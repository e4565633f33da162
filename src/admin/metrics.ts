/**
 * Prometheus metrics (prom-client, a registry per server so several servers can share a process):
 * requests by method and status, durations, bytes in and out, requests in flight, 409/412/423
 * answers by keepdav code, fsync latency, and, read when scraped, active locks, retained versions
 * (count, bytes), the free space of the data and state disks, and the listing cache's members and
 * listings kept and served.
 */
import { statfs } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from '../methods/context';
import type { RequestObserver } from '../http/edge';
import type { AccessEntry } from '../http/accessEntry';
import { observeFsyncs } from '../storage/fsyncTiming';
import { processListingCache } from '../storage/listingCache';
import { ROOT } from '../paths/davPath';

/** The conflict answers counted by code (RFC 4918: 409 Conflict, 412 Precondition Failed, 423 Locked). */
const CONFLICT_STATUSES = new Set([409, 412, 423]);

export interface ServerMetrics extends RequestObserver {
  readonly registry: Registry;
  /** Stops observing fsyncs (server shutdown). */
  close(): void;
}

async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

export function createMetrics(services: Services): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keepdav_' });
  const requests = new Counter({ name: 'keepdav_http_requests_total', help: 'Requests answered, by method and status', labelNames: ['method', 'status'] as const, registers: [registry] });
  const durations = new Histogram({
    name: 'keepdav_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by method',
    labelNames: ['method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const bytesIn = new Counter({ name: 'keepdav_http_received_bytes_total', help: 'Bytes received (requests, headers included)', registers: [registry] });
  const bytesOut = new Counter({ name: 'keepdav_http_sent_bytes_total', help: 'Bytes sent (answers, headers included)', registers: [registry] });
  const inFlight = new Gauge({ name: 'keepdav_http_requests_in_flight', help: 'Requests being handled', registers: [registry] });
  const conflicts = new Counter({ name: 'keepdav_conflict_answers_total', help: '409, 412 and 423 answers by keepdav code', labelNames: ['status', 'code'] as const, registers: [registry] });
  const fsyncs = new Histogram({
    name: 'keepdav_fsync_duration_seconds',
    help: 'Latency of fsync calls, files and directories',
    labelNames: ['kind'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'keepdav_active_locks',
    help: 'WebDAV locks currently held',
    registers: [registry],
    async collect() {
      this.set((await services.locks.within(ROOT)).length);
    },
  });
  new Gauge({
    name: 'keepdav_retained_versions',
    help: 'Retained versions kept',
    registers: [registry],
    async collect() {
      this.set((await services.retention.totals()).count);
    },
  });
  new Gauge({
    name: 'keepdav_retained_bytes',
    help: 'Bytes of the retained versions kept',
    registers: [registry],
    async collect() {
      this.set((await services.retention.totals()).bytes);
    },
  });
  new Gauge({
    name: 'keepdav_disk_free_bytes',
    help: 'Free space an unprivileged writer may use, on the data (root) and state disks',
    labelNames: ['disk'] as const,
    registers: [registry],
    async collect() {
      const [data, state] = await Promise.all([services.store.space().then((s) => s.free), freeBytes(services.config.stateDir)]);
      this.set({ disk: 'data' }, data);
      this.set({ disk: 'state' }, state);
    },
  });
  new Gauge({
    name: 'keepdav_listing_cache_members',
    help: 'Members of the listings kept between requests while inotify reports no change (this process)',
    registers: [registry],
    collect() {
      this.set(processListingCache()?.counts.keptMembers ?? 0);
    },
  });
  new Counter({
    name: 'keepdav_listing_cache_total',
    help: 'Listings kept after a read, and served from what was kept (this process)',
    labelNames: ['event'] as const,
    registers: [registry],
    collect() {
      const counts = processListingCache()?.counts;
      this.reset();
      this.inc({ event: 'kept' }, counts?.kept ?? 0);
      this.inc({ event: 'served' }, counts?.served ?? 0);
    },
  });
  const stopObservingFsyncs = observeFsyncs((seconds, kind) => fsyncs.observe({ kind }, seconds));

  return {
    registry,
    requestStarted() {
      inFlight.inc();
    },
    requestFinished(entry: AccessEntry) {
      inFlight.dec();
      requests.inc({ method: entry.method, status: String(entry.status) });
      durations.observe({ method: entry.method }, entry.durationMs / 1000);
      bytesIn.inc(entry.bytesIn);
      bytesOut.inc(entry.bytesOut);
      if (CONFLICT_STATUSES.has(entry.status)) conflicts.inc({ status: String(entry.status), code: entry.code ?? 'none' });
    },
    close: stopObservingFsyncs,
  };
}
