/**
 * Resident memory of a child process, from /proc (Linux only; elsewhere every figure is null).
 *
 * Usage:
 *   const watch = startRssWatch(pid);      // resets VmHWM and samples VmRSS every 25 ms
 *   ... the work ...
 *   const { baselineMiB, peakMiB } = watch.stop();
 *
 * The peak is the larger of the sampled VmRSS maximum and VmHWM (the kernel's own high-water mark,
 * reset at start by writing 5 to /proc/PID/clear_refs so earlier rows do not count).
 *
 *   const watch = startRssWatch(pgid, { processGroup: true });   // a forking server (apache)
 *
 * For a process group the figure is the sum of VmRSS over every process of the group (parent +
 * children; members re-listed from /proc every second), sampled every 25 ms: pages shared
 * between the processes (binary, libraries) count once per process, so it is an upper bound.
 * There is no VmHWM for a sum, so a spike shorter than the sampling interval can be missed.
 */
import * as fs from 'node:fs';

const KIB_PER_MIB = 1024;

/** A `Vm*` field of /proc/PID/status in KiB, or null when unreadable. */
export function readProcStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Resets the peak-RSS counter (Linux >= 4.0); false when not allowed or not supported. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface RssReport {
  baselineMiB: number | null;
  peakMiB: number | null;
  /** How the peak was obtained, for the report. */
  source: string;
}

export interface RssWatch {
  stop(): RssReport;
}

export interface RssWatchOptions {
  intervalMs?: number;
  /** `pid` leads a process group: measure the sum over all its members. */
  processGroup?: boolean;
}

/** The pids whose process group is `pgid` (from /proc/PID/stat; empty where /proc is missing). */
export function processGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the `(comm)`, which may itself hold spaces or parentheses: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return members;
}

function startGroupRssWatch(pgid: number, intervalMs: number): RssWatch {
  let members = processGroupMembers(pgid);
  let maxMembers = members.length;
  const sum = (): number | null => {
    let total = 0;
    let seen = 0;
    for (const pid of members) {
      const rss = readProcStatusKiB(pid, 'VmRSS');
      if (rss !== null) {
        total += rss;
        seen++;
      }
    }
    return seen > 0 ? total : null;
  };
  const baseline = sum();
  let peak = baseline ?? 0;
  let samples = 0;
  let lastListing = performance.now();
  const timer = setInterval(() => {
    if (performance.now() - lastListing >= 1000) {
      members = processGroupMembers(pgid);
      maxMembers = Math.max(maxMembers, members.length);
      lastListing = performance.now();
    }
    const total = sum();
    if (total !== null) {
      samples++;
      peak = Math.max(peak, total);
    }
  }, intervalMs);
  timer.unref();
  return {
    stop(): RssReport {
      clearInterval(timer);
      return {
        baselineMiB: baseline === null ? null : baseline / KIB_PER_MIB,
        peakMiB: baseline === null && samples === 0 ? null : peak / KIB_PER_MIB,
        source: `sum of VmRSS over the process group: parent + ${Math.max(0, maxMembers - 1)} children, ${samples} samples`,
      };
    },
  };
}

export function startRssWatch(pid: number, options: RssWatchOptions = {}): RssWatch {
  const intervalMs = options.intervalMs ?? 25;
  if (options.processGroup) return startGroupRssWatch(pid, intervalMs);
  const baseline = readProcStatusKiB(pid, 'VmRSS');
  const hwmReset = resetPeakRss(pid);
  let sampledPeak = baseline ?? 0;
  let samples = 0;
  const timer = setInterval(() => {
    const rss = readProcStatusKiB(pid, 'VmRSS');
    if (rss !== null) {
      samples++;
      sampledPeak = Math.max(sampledPeak, rss);
    }
  }, intervalMs);
  timer.unref();
  return {
    stop(): RssReport {
      clearInterval(timer);
      const hwm = hwmReset ? readProcStatusKiB(pid, 'VmHWM') : null;
      const peakKiB = Math.max(sampledPeak, hwm ?? 0);
      return {
        baselineMiB: baseline === null ? null : baseline / KIB_PER_MIB,
        peakMiB: baseline === null && samples === 0 ? null : peakKiB / KIB_PER_MIB,
        source: hwm !== null ? `VmHWM after reset + ${samples} VmRSS samples` : `${samples} VmRSS samples`,
      };
    },
  };
}

/** CPU time (user + system, seconds) a process, or a whole process group, has used so far; null without /proc. */
export function cpuSeconds(pid: number, processGroup: boolean): number | null {
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux architecture node runs on
  let total = 0;
  let seen = 0;
  for (const member of processGroup ? processGroupMembers(pid) : [pid]) {
    try {
      const stat = fs.readFileSync(`/proc/${member}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the `(comm)`.
      total += Number(fields[11]) + Number(fields[12]);
      seen++;
    } catch {
      // Exited meanwhile.
    }
  }
  return seen > 0 ? total / ticksPerSecond : null;
}

/**
 * Resolves once the process (or its group) has used under one clock tick of CPU in a quarter of a
 * second, or after `withinMs`: what a row left running in the background (a large upload's MD5
 * read back after its answer, a collection) ends before the next server's turn, not during it.
 */
export async function cpuQuiet(pid: number, processGroup: boolean, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let before = cpuSeconds(pid, processGroup);
  while (before !== null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuSeconds(pid, processGroup);
    if (now === null || now - before < 0.01) return;
    before = now;
  }
}
