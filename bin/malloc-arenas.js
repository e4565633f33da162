'use strict';
// glibc's malloc gives threads that allocate at the same time arenas of their own, up to eight
// per core, and keeps in each what was freed there. keepdav runs up to 32 libuv pool threads and
// two helper threads: in an interleaved bench (2 rounds) it peaked at 133-143 MiB per row against
// 112-121 with two arenas, held 127 MiB after the run against 95, at the same throughput.
// glibc reads MALLOC_ARENA_MAX once, as the process starts. Where node can replace its own
// process image (process.execve: Node.js 22.15, 23.11 and later), the command starts itself again
// with MALLOC_ARENA_MAX=2: the same pid, arguments and node flags, so a service manager sees one
// process. On older Node.js, `npm start`, the systemd unit and the Dockerfile set it. A value the
// user set is left alone, and so is anything but Linux (musl, for one, ignores it).
const ARENAS = '2';

function withFewMallocArenas() {
  if (process.env.MALLOC_ARENA_MAX !== undefined || process.platform !== 'linux' || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, MALLOC_ARENA_MAX: ARENAS });
  } catch {
    // Could not start again (a sandbox refusing execve): run as is, with glibc's default arenas.
  }
}

module.exports = { withFewMallocArenas, ARENAS };
