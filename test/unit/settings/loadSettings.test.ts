import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServeSettings, parseArgsOptions, changedSettings } from '../../../src/settings/loadSettings';
import { SERVE_OPTIONS, optionsHelp, environmentName } from '../../../src/settings/options';
import { resolveConfig, ConfigError } from '../../../src/config';

describe('serve settings: flags > KEEPDAV_* > --config file > defaults', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'keepdav-settings-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (yaml: string) => {
    const path = join(dir, 'keepdav.yaml');
    writeFileSync(path, yaml);
    return path;
  };

  it('reads the file, with relative paths taken next to it and booleans as true/false', () => {
    const path = file('root: share\nport: 9000\nlock-timeout-max: infinite\nretain-days: 2\npropfind-infinity: true\nno-stale-check: false\ntls-cert: certs/c.pem\ntls-key: /abs/k.pem\nbase-path: /dav/\ntrust-proxy: [127.0.0.1, "::1"]\n');
    const config = resolveConfig(loadServeSettings(['--config', path], {}));
    expect(config.root).toBe(join(dir, 'share'));
    expect(config.port).toBe(9000);
    expect(config.lockTimeout.maxSeconds).toBe(Infinity);
    expect(config.retention.maxAgeMs).toBe(2 * 86400000);
    expect(config.allowPropfindInfinity).toBe(true);
    expect(config.staleUploadCheck).toBe(true);
    expect(config.tls).toEqual({ certFile: join(dir, 'certs', 'c.pem'), keyFile: '/abs/k.pem' });
    expect(config.basePath).toBe('/dav');
    expect(config.trustProxy).toEqual(['127.0.0.1', '::1']);
  });

  it("reads every YAML example of the README as the README says (a copied example must not stop serve)", () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(() => resolveConfig(loadServeSettings(['--config', file(example)], {}))).not.toThrow();
    const rules = resolveConfig(loadServeSettings(['--config', file(examples.find((e) => e.includes('access:'))!)], {})).access;
    expect(rules.map((r) => r.path)).toEqual(['/', '/home/{user}/', '/home/', '/shared/']);
  });

  it('a variable beats the file, a flag beats both; untouched settings keep their defaults', () => {
    const path = file('port: 9000\nhost: 127.0.0.2\nidle-timeout: 7\n');
    const env = { KEEPDAV_CONFIG: path, KEEPDAV_PORT: '9100', KEEPDAV_HOST: '127.0.0.3', KEEPDAV_CASE_INSENSITIVE: 'true' };
    const config = resolveConfig(loadServeSettings(['--port', '9200', '--root', dir], env));
    expect(config.port).toBe(9200);
    expect(config.host).toBe('127.0.0.3');
    expect(config.idleTimeoutMs).toBe(7000);
    expect(config.caseInsensitive).toBe(true);
    expect(config.maxXmlBodyBytes).toBe(1024 * 1024);
    expect(resolveConfig(loadServeSettings([], {})).port).toBe(8080);
  });

  it('reads the access rules of the file, and names the file for a bad rule', () => {
    const path = file('access:\n  - { path: /, who: "*", allow: read }\n');
    expect(loadServeSettings(['--config', path], {}).access).toEqual([{ path: '/', who: ['*'], allow: 'read' }]);
    const bad = file('access:\n  - { path: /, who: "*", allow: sometimes }\n');
    expect(() => loadServeSettings(['--config', bad], {})).toThrow(bad);
  });

  it.each([
    ['prot: 1\n', /keepdav\.yaml: unknown key "prot"/],
    ['port: eighty\n', /keepdav\.yaml: port needs a number, not "eighty"/],
    ['propfind-infinity: maybe\n', /keepdav\.yaml: propfind-infinity needs true or false/],
    ['config: other.yaml\n', /keepdav\.yaml: unknown key "config"/],
    ['- port\n', /keepdav\.yaml: must be a mapping/],
    ['port: [1\n', /keepdav\.yaml: not valid YAML/],
    ['port: 1\nport: 2\n', /keepdav\.yaml: not valid YAML/],
  ])('a bad file %j is one error naming the file and the key', (yaml, message) => {
    const path = file(yaml);
    expect(() => loadServeSettings(['--config', path], {})).toThrow(ConfigError);
    expect(() => loadServeSettings(['--config', path], {})).toThrow(message);
  });

  it('a bad variable or an unknown KEEPDAV_ variable is an error naming it', () => {
    expect(() => loadServeSettings([], { KEEPDAV_PORT: 'x' })).toThrow(/KEEPDAV_PORT needs a number/);
    expect(() => loadServeSettings([], { KEEPDAV_PROT: '1' })).toThrow(/unknown environment variable KEEPDAV_PROT/);
    expect(() => loadServeSettings([], { KEEPDAV_ACCESS_LOG: 'sometimes' })).toThrow(/KEEPDAV_ACCESS_LOG needs true or false/);
  });

  it('a missing file is named', () => {
    expect(() => loadServeSettings(['--config', join(dir, 'none.yaml')], {})).toThrow(`the configuration file ${join(dir, 'none.yaml')} does not exist`);
  });

  it('bad values of the new settings are refused when resolved', () => {
    expect(() => resolveConfig(loadServeSettings(['--trust-proxy', '127.0.0.1,nonsense'], {}))).toThrow(/nonsense/);
    expect(() => resolveConfig(loadServeSettings(['--base-path', '/a/../b'], {}))).toThrow(/base path/);
    expect(() => resolveConfig(loadServeSettings(['--tls-cert', 'c.pem'], {}))).toThrow(/--tls-cert and --tls-key/);
  });

  it('the parser, the help and the variables all come from the one table', () => {
    const help = optionsHelp();
    const parse = parseArgsOptions();
    for (const row of SERVE_OPTIONS) {
      expect(help).toContain(`--${row.name}`);
      expect(parse[row.name].type).toBe(row.kind === 'boolean' ? 'boolean' : 'string');
    }
    expect(environmentName('tls-cert')).toBe('KEEPDAV_TLS_CERT');
    for (const existing of ['root', 'state', 'port', 'host', 'lock-timeout-min', 'lock-timeout-max', 'lock-timeout-default', 'propfind-infinity', 'max-xml-body', 'idle-timeout', 'access-log', 'lock-token-header', 'hide-lockroot', 'no-stale-check', 'case-insensitive', 'retain-versions', 'retain-days', 'retain-bytes']) {
      expect(parse[existing]).toBeDefined();
    }
  });

  it('names the settings a reload changed (those other than TLS and access take effect at the next start)', () => {
    const before = resolveConfig(loadServeSettings(['--port', '1', '--tls-cert', 'a', '--tls-key', 'b'], {}));
    const after = resolveConfig(loadServeSettings(['--port', '2', '--tls-cert', 'c', '--tls-key', 'b', '--retain-days', '3'], {}));
    expect(changedSettings(before, after, ['tls', 'access'])).toEqual(['port', 'retention']);
    expect(changedSettings(before, before)).toEqual([]);
  });
});
