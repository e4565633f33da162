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

const CHANNELS: ModificationTimeChannel[] = [
  // WinSCP and others: an HTTP date, also with an unpadded day (RFC 4918 §15.7 makes it protected; we accept it on purpose).
  { ns: DAV_NS, local: 'getlastmodified', keepAsDeadProperty: false, parse: (t) => parseHttpDate(t.trim()) },
  // rclone (owncloud / nextcloud vendors).
  { ns: DAV_NS, local: 'lastmodified', keepAsDeadProperty: false, parse: parseUnixSeconds },
  // Windows Explorer and Office ([MS-WDV]); the other Win32* properties are plain dead properties.
  { ns: MICROSOFT_NS, local: 'Win32LastModifiedTime', keepAsDeadProperty: true, parse: (t) => parseHttpDate(t.trim()) },
];

export function modificationTimeChannel(ns: string, local: string): ModificationTimeChannel | undefined {
  return CHANNELS.find((c) => c.ns === ns && c.local === local);
}
