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

export function startRssWatch(pid: number, intervalMs = 25): RssWatch {
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
