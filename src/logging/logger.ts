/**
 * The process's logger: pino, JSON lines by default (one object a line, ISO time), human-readable
 * with `--log-format pretty` (pino-pretty, in process: nothing is spawned or downloaded). Lines
 * go to stderr, or to `--log-file` (appended; `reopenLogFile` reopens it after logrotate moved it,
 * which SIGHUP triggers). Header values that carry secrets are redacted wherever they appear.
 */
import { closeSync, openSync } from 'node:fs';
import pino, { type Logger, type DestinationStream } from 'pino';
import { turnBatched } from './turnBatchedStream';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogSettings {
  format: LogFormat;
  level: LogLevel;
  /** Append to this file instead of stderr. */
  file: string | null;
}

/** Paths pino censors wherever a caller logs headers: credentials and lock tokens never reach a log. */
const REDACTED = ['authorization', 'cookie', 'password', 'headers.authorization', 'headers.cookie', 'headers.if', 'headers["lock-token"]', 'headers["proxy-authorization"]'];

export interface Logging {
  readonly logger: Logger;
  /** Reopens the log file (after rotation); nothing to do when logging to stderr. */
  reopenLogFile(): void;
}

/** The start of the current second's ISO time ("2026-12-04T21:35:57."), formatted once a second. */
let isoSecond = { second: -1, prefix: '' };

/** pino's `,"time":"<ISO time>"` field, the same text as stdTimeFunctions.isoTime without a Date per line. */
function isoTimeField(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== isoSecond.second) isoSecond = { second, prefix: new Date(second * 1000).toISOString().slice(0, 20) };
  const ms = now - second * 1000;
  return `,"time":"${isoSecond.prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

function build(settings: Pick<LogSettings, 'format' | 'level'>, destination: DestinationStream): Logger {
  // Loaded only when asked for: most runs log JSON, and start-up stays lean.
  const stream = settings.format === 'pretty'
    ? (require('pino-pretty') as typeof import('pino-pretty')).build({ destination, colorize: false, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o', ignore: 'pid,hostname', singleLine: true, sync: true })
    : destination;
  return pino(
    {
      level: settings.level,
      base: { pid: process.pid },
      timestamp: isoTimeField,
      redact: { paths: REDACTED, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** The logger the command line asks for. Throws (with the path) when the log file cannot be opened. */
export function createLogging(settings: LogSettings): Logging {
  const destination = pino.destination({ dest: settings.file ?? 2, sync: true, append: true, mkdir: false });
  // JSON lines are written once per event-loop turn (turnBatchedStream.ts); pretty ones as they come.
  const batched = settings.format === 'json' ? turnBatched(destination) : null;
  return {
    logger: build(settings, batched ?? destination),
    reopenLogFile: () => {
      if (settings.file === null) return;
      // Opened once here first: when that fails (logrotate moved its folder, or made the new file
      // another user's), the log goes on into the file it has, and the caller says why in one line.
      closeSync(openSync(settings.file, 'a'));
      batched?.flushNow();
      destination.reopen();
    },
  };
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger whose JSON lines go to `write` (tests that read the log, and callers of the old line-based API). */
export function lineLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  return build({ format: 'json', level }, { write: (chunk: string) => write(chunk.replace(/\n$/, '')) });
}

/** Writes one line whose fields the caller formatted (nothing when `level` is off): see jsonLineWriter. */
export type JsonLineWriter = (level: 'info' | 'warn' | 'error', fieldsJson: string, msg: string) => void;

/**
 * A writer of the line pino would write for `logger[level](fields, msg)`: `{"level", "time", the
 * logger's bindings, the fields, "msg"}`, straight to the logger's destination, for the line logged
 * on every request (the access log). pino's generic serializer and its redaction pass took about
 * 8 % of a small GET's CPU (profile); the caller formats its own fields (`,"name":value` each) and
 * redacts nothing, so it must log no secret. The level, time and bindings are the logger's own
 * (pino.symbols, pino's API for integrations), so the line is the same in JSON and pretty formats.
 */
export function jsonLineWriter(logger: Logger): JsonLineWriter {
  const own = logger as unknown as Record<symbol, unknown>;
  const stream = own[pino.symbols.streamSym] as DestinationStream;
  const time = own[pino.symbols.timeSym] as () => string;
  const bindings = own[pino.symbols.chindingsSym] as string;
  const formatters = own[pino.symbols.formattersSym] as { level: (label: string, value: number) => object };
  // `"level":"info"` and the like, as the logger's level formatter writes them.
  const levelField = (level: string): string => JSON.stringify(formatters.level(level, logger.levels.values[level])).slice(1, -1);
  const levelFields = { info: levelField('info'), warn: levelField('warn'), error: levelField('error') };
  return (level, fieldsJson, msg) => {
    if (logger.isLevelEnabled(level)) stream.write(`{${levelFields[level]}${time()}${bindings}${fieldsJson},"msg":${JSON.stringify(msg)}}\n`);
  };
}
