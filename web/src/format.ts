/** How names, sizes and times are shown. */

/**
 * A name as shown: control characters and bidirectional controls (which could reorder what the
 * user reads, e.g. "exe.txt" shown for "txt.exe") are replaced by a visible code point label.
 * The text always goes into the page as text (dom.ts), never as markup.
 */
export function displayName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\u2039U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}\u203a`);
}

const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** 1234567 -> "1.2 MB" (decimal units, as file managers show them). */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

/** A time in the user's zone: "14:05" today, "4 Dec 2026, 14:05" otherwise. */
export function localTime(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const now = new Date();
  const today = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return today ? timeOnly.format(d) : dateTime.format(d);
}

const withSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A time to the second (versions made minutes apart must be told apart). */
export function preciseTime(ms: number): string {
  return Number.isFinite(ms) ? withSeconds.format(new Date(ms)) : '';
}

export function fullTime(ms: number): string {
  return Number.isFinite(ms) ? full.format(new Date(ms)) : '';
}

/** The icon for a name: by its extension. */
export function iconFor(name: string, isCollection: boolean): string {
  if (isCollection) return 'folder';
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (/^(png|jpe?g|gif|webp|svg|bmp|heic|avif|tiff?|ico)$/.test(ext)) return 'image';
  if (/^(mp3|wav|flac|ogg|m4a|aac|opus)$/.test(ext)) return 'audio';
  if (/^(mp4|mkv|mov|webm|avi|m4v)$/.test(ext)) return 'video';
  if (/^(zip|tar|gz|tgz|bz2|xz|7z|rar|zst)$/.test(ext)) return 'archive';
  if (ext === 'pdf') return 'pdf';
  if (/^(js|ts|py|rb|go|rs|c|h|cpp|java|sh|json|xml|html?|css|yaml|yml|toml)$/.test(ext)) return 'code';
  if (/^(txt|md|odt|docx?|rtf|csv|ods|xlsx?|odp|pptx?)$/.test(ext)) return 'text';
  return 'file';
}
