/**
 * The service files in deploy/: the systemd unit passes `systemd-analyze verify` (with its
 * ExecStart pointed at this checkout's command, the one thing that differs on this machine) and
 * keeps its sandboxing; the Dockerfile (no docker engine here) copies only files that exist, runs
 * as a non-root user, declares the volumes, checks /healthz on the admin listener it starts, and
 * starts keepdav with options the command accepts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWhenInstalled, programAvailable } from '../support/realClientKit';
import { main } from '../../src/cli';

const REPO = join(__dirname, '..', '..');
const unit = readFileSync(join(REPO, 'deploy', 'keepdav.service'), 'utf8');
const dockerfile = readFileSync(join(REPO, 'deploy', 'Dockerfile'), 'utf8');

/** `Key=value` lines of the unit. */
function directives(key: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

describe('systemd unit', () => {
  itWhenInstalled('systemd-analyze', programAvailable('systemd-analyze'), 'apt-get install -y systemd')('passes systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepdav-unit-'));
    try {
      const file = join(dir, 'keepdav.service');
      writeFileSync(file, unit.replace('/usr/local/bin/keepdav', join(REPO, 'bin', 'keepdav.js')));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs as a dedicated user in a sandbox that can write only the root and the state, both in one writable mount', () => {
    expect(directives('User')).toEqual(['keepdav']);
    expect(directives('ProtectSystem')).toEqual(['strict']);
    expect(directives('NoNewPrivileges')).toEqual(['true']);
    // Each ReadWritePaths entry is a mount of its own, and rename/link do not cross mounts (EXDEV):
    // root and state in one entry, or every retained version is a copy.
    expect(directives('ReadWritePaths')).toEqual(['/srv/keepdav']);
    const [exec] = directives('ExecStart');
    expect(exec).toContain('--root /srv/keepdav/files');
    expect(exec).toContain('--state /srv/keepdav/state');
    // V8 calls pkey_alloc at start: a filter without @pkey kills node with SIGSYS.
    expect(directives('SystemCallFilter')[0].split(' ')).toEqual(expect.arrayContaining(['@system-service', '@pkey']));
    expect(directives('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
  });
});

describe('Dockerfile', () => {
  it('copies only files that exist in the repository', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) expect({ source, exists: existsSync(join(REPO, source)) }).toEqual({ source, exists: true });
  });

  it('runs as a non-root user with volumes for the root and the state, and checks /healthz', () => {
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    // One volume (one mount) for both, so retention renames and links instead of copying.
    expect(dockerfile).toMatch(/^VOLUME \["\/keepdav"\]$/m);
    const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(dockerfile)![1]) as string[];
    const admin = cmd[cmd.indexOf('--admin-listen') + 1];
    expect(dockerfile).toMatch(new RegExp(`HEALTHCHECK[^\\n]*\\n[^\\n]*http://${admin.replace(/\./g, '\\.')}/healthz`));
    expect(cmd.slice(cmd.indexOf('--root'), cmd.indexOf('--root') + 4)).toEqual(['--root', '/keepdav/files', '--state', '/keepdav/state']);
    const entry = JSON.parse(/^ENTRYPOINT (\[.+\])$/m.exec(dockerfile)![1]) as string[];
    expect(entry[entry.length - 1]).toBe('bin/keepdav.js');
  });

  it('starts keepdav with options the command accepts (checked by its own parser)', async () => {
    const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(dockerfile)![1]) as string[];
    // The same options with a root that does not exist here: the parser must get past every
    // option and stop only at the root.
    const args = cmd.map((a) => (a === '/keepdav/files' ? join(tmpdir(), 'keepdav-no-such-root') : a === '/keepdav/state' ? join(tmpdir(), 'keepdav-no-such-state') : a));
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      // Listening on 0.0.0.0, the image refuses to serve until it is given users or an explicit
      // anonymous level (README, "Running it as a service": KEEPDAV_USERS or KEEPDAV_ANONYMOUS).
      expect(await main(args)).toBe(2);
      expect(errors.join('')).toMatch(/refusing to serve 0\.0\.0\.0 to anyone without a login/);
      errors.length = 0;
      expect(await main([...args, '--anonymous', 'read'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toMatch(/the root .*keepdav-no-such-root does not exist/);
  });
});
