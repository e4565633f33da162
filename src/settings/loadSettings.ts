/**
 * Where `keepdav serve` gets its settings: flags, then `KEEPDAV_*` environment variables, then the
 * YAML configuration file (`--config FILE` or `KEEPDAV_CONFIG`), then the defaults; the first that
 * says a value wins. Every option comes from the one table in ./options. A bad value or an unknown
 * key is a ConfigError naming the key and where it came from. Library: yaml (YAML 1.2, reports
 * line and column of syntax errors, refuses duplicate keys).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Yaml from 'yaml';
import { ConfigError, type ConfigInput } from '../config';
import { parseAccessRules } from '../auth/accessRules';
import { SERVE_OPTIONS, OptionValueError, environmentName, type OptionRow, type RawValue } from './options';
import { isPostgresUrl } from '../state/postgres/stateUrl';

/** Keys a configuration file may hold besides the option names. */
const FILE_ONLY_KEYS = new Set(['access']);

interface Given {
  value: RawValue;
  /** Where the value came from, as the error message names it: "--port", "KEEPDAV_PORT", "keepdav.yaml: port". */
  source: string;
}

/** The parseArgs option table for `serve`, generated from the option rows. */
export function parseArgsOptions(rows: readonly OptionRow[] = SERVE_OPTIONS): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(rows.map((row) => [row.name, { type: row.kind === 'boolean' ? 'boolean' : 'string' }]));
}

function fromFlags(args: string[]): Map<string, Given> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: parseArgsOptions() });
  if (positionals.length > 0) throw new ConfigError(`unexpected argument "${positionals[0]}"`);
  const given = new Map<string, Given>();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) given.set(name, { value, source: `--${name}` });
  return given;
}

/**
 * KEEPDAV_ variables that are not options: credentials the CLI's restore sends to a running server,
 * and the test-only crash injection (src/faults/crashPoint.ts) with its trial knobs.
 */
const OTHER_VARIABLES = new Set(['KEEPDAV_USER', 'KEEPDAV_PASSWORD', 'KEEPDAV_CRASH_AT', 'KEEPDAV_STOP_AT', 'KEEPDAV_CRASH_SEED', 'KEEPDAV_CRASH_TRIALS', 'KEEPDAV_TEST_LOG']);

function fromEnvironment(env: NodeJS.ProcessEnv): Map<string, Given> {
  const byVariable = new Map(SERVE_OPTIONS.map((row) => [environmentName(row.name), row]));
  const given = new Map<string, Given>();
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('KEEPDAV_') || value === undefined || OTHER_VARIABLES.has(variable)) continue;
    const row = byVariable.get(variable);
    if (!row) throw new ConfigError(`unknown environment variable ${variable} (each option --NAME is KEEPDAV_NAME, e.g. KEEPDAV_PORT)`);
    given.set(row.name, { value, source: variable });
  }
  return given;
}

function readConfigFile(file: string): { given: Map<string, Given>; access?: unknown } {
  let textOfFile: string;
  try {
    textOfFile = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`the configuration file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}`);
  }
  // Loaded only when a file is given: it is the largest module of the command's start-up.
  const yaml = require('yaml') as typeof Yaml;
  let document: unknown;
  try {
    document = yaml.parse(textOfFile);
  } catch (err) {
    if (err instanceof yaml.YAMLParseError) throw new ConfigError(`${file}: not valid YAML: ${err.message.split('\n')[0].replace(/:$/, '')}`);
    throw err;
  }
  if (document === null || document === undefined) return { given: new Map() };
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError(`${file}: must be a mapping of option names to values (e.g. "port: 8080")`);
  const rows = new Map(SERVE_OPTIONS.filter((row) => !row.notInFile).map((row) => [row.name, row]));
  const given = new Map<string, Given>();
  let access: unknown;
  for (const [key, value] of Object.entries(document)) {
    if (FILE_ONLY_KEYS.has(key)) {
      access = value;
      continue;
    }
    const row = rows.get(key);
    if (!row) throw new ConfigError(`${file}: unknown key "${key}" (the keys are the long option names, e.g. "port", "tls-cert", plus "access")`);
    // Relative paths in a file mean: next to the file (wherever keepdav is started from).
    const resolved = row.isPath && typeof value === 'string' && !isPostgresUrl(value) ? resolve(dirname(file), value) : value;
    given.set(key, { value: resolved, source: `${file}: ${key}` });
  }
  return { given, access };
}

/**
 * The settings for `keepdav serve` from its arguments, the environment and the configuration file.
 * Throws ConfigError (or parseArgs' own error for an unknown flag).
 */
export function loadServeSettings(args: string[], env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const flags = fromFlags(args);
  const environment = fromEnvironment(env);
  const configFile = (flags.get('config') ?? environment.get('config'))?.value as string | undefined;
  const file = configFile === undefined ? { given: new Map<string, Given>() } : readConfigFile(resolve(configFile));
  const merged = new Map([...file.given, ...environment, ...flags]);
  const input: ConfigInput = { root: 'storage' };
  for (const row of SERVE_OPTIONS) {
    const given = merged.get(row.name);
    if (given === undefined) continue;
    try {
      row.apply(input, given.value);
    } catch (err) {
      if (err instanceof OptionValueError) throw new ConfigError(`${given.source} ${err.message}`);
      throw err;
    }
  }
  if (file.access !== undefined) input.access = parseAccessRules(file.access, resolve(configFile as string));
  return input;
}

/** Top-level settings that differ between two configurations, e.g. ["port", "retention"] (for SIGHUP's report). */
export function changedSettings(before: object, after: object, ignore: readonly string[] = []): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => !ignore.includes(key) && JSON.stringify(a[key]) !== JSON.stringify(b[key]));
}
