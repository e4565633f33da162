/**
 * The property channels through which clients state a file's modification time (semantics.md,
 * "Versions"). Setting one changes the stored mtime, never the ETag.
 */
import { DAV_NS } from '../xml/tree';
import { parseHttpDate } from '../headers/httpDate';

export const MICROSOFT_NS = 'urn:schemas-microsoft-com:';

export interface ModificationTimeChannel {
  ns: string;
  local: string;
  /** Also kept as a dead property, so PROPFIND returns what the client set. */
  keepAsDeadProperty: boolean;
  /** Milliseconds since the epoch, or null when the value is not a time of this channel's form. */
  parse(text: string): number | null;
}

/** Unix seconds, as rclone sends in {DAV:}lastmodified. */
function parseUnixSeconds(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,12}(\.\d+)?$/.test(trimmed)) return null;
  return Math.round(Number(trimmed) * 1000);
}

/**
 * The times a file can keep, in milliseconds: from the epoch (Node.js turns an earlier time into
 * "now" without a word) to ext4's last second, 2446-05-10T22:38:55Z (a later one is clamped to it).
 * A stated time outside is refused, not stored as another (RFC 4918 §9.2: each answer says what was done).
 */
export const EARLIEST_STORABLE_MS = 0;
export const LATEST_STORABLE_MS = 15_032_385_535_000;

/** `parse`, with null for a time a file cannot keep. */
function storable(parse: (text: string) => number | null): (text: string) => number | null {
  return (text) => {
    const ms = parse(text);
    return ms === null || ms < EARLIEST_STORABLE_MS || ms > LATEST_STORABLE_MS ? null : ms;
  };
}

const CHANNELS: ModificationTimeChannel[] = [
  // WinSCP and others: an HTTP date, also with an unpadded day (RFC 4918 §15.7 makes it protected; we accept it on purpose).
  { ns: DAV_NS, local: 'getlastmodified', keepAsDeadProperty: false, parse: storable((t) => parseHttpDate(t.trim())) },
  // rclone (owncloud / nextcloud vendors).
  { ns: DAV_NS, local: 'lastmodified', keepAsDeadProperty: false, parse: storable(parseUnixSeconds) },
  // Windows Explorer and Office ([MS-WDV]); the other Win32* properties are plain dead properties.
  { ns: MICROSOFT_NS, local: 'Win32LastModifiedTime', keepAsDeadProperty: true, parse: storable((t) => parseHttpDate(t.trim())) },
];

export function modificationTimeChannel(ns: string, local: string): ModificationTimeChannel | undefined {
  return CHANNELS.find((c) => c.ns === ns && c.local === local);
}
