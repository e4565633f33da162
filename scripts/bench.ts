/**
 * keepdav benchmark: keepdav against the peer webdav-server 2.6.3, same run, same data; on
 * request also against Apache httpd with mod_dav_fs, the C server held as the bar.
 *
 * Usage:
 *   npm run bench                      # keepdav and peer, full sizes (512 MiB large file, 5 s rows)
 *   npm run bench -- --quick           # smoke run (64 MiB, ~1.5 s rows)
 *   npm run bench -- --only=get-4k,lock-unlock
 *   BENCH_SERVERS=peer npm run bench -- --quick
 *   BENCH_SERVERS=keepdav,peer,apache npm run bench   # also Apache httpd + mod_dav_fs
 *     (Debian package apache2, not installed by CI; when missing, apache is skipped with a line
 *     saying so, not an error. Config, port, process group: scripts/bench/apacheServer.ts.
 *     Its RSS is the sum over its parent + worker children. With three servers the table has
 *     a ratio and verdict column for keepdav / peer and for keepdav / apache.)
 *   BENCH_KEEPDAV_CMD="node dist/src/cli.js serve --root {root} --state {state} --port 0 --host 127.0.0.1" npm run bench
 *   (all options: npm run bench -- --help; details in scripts/bench/options.ts)
 *
 * Each server runs as a child process over its own fresh copy of the same temporary data, one
 * server after the other so they never compete for the CPUs; the load generator (node:http,
 * keep-alive) runs in this process. Every response status is checked; errors are counted per
 * row and a row with errors cannot be a win. Temp data and children are removed on any exit.
 * Exit status 1 when a server did not start or died during the run.
 */
import * as fs from 'node:fs';
import { installExitHandlers } from './bench/cleanup';
import { createBenchData, removeBenchData } from './bench/fixtures';
import { parseBenchOptions, USAGE, type BenchOptions, type ServerName } from './bench/options';
import { formatProgress, formatReport, type ServerRun } from './bench/report';
import { needsSeededLargeFile, selectRows } from './bench/rows';
import { skippedRow, type RowDefinition } from './bench/rowTypes';
import { describeCommand, serverCommand, serverUnavailable } from './bench/serverCommands';
import { ServerProcess, type ExitInfo } from './bench/serverProcess';

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

async function benchServer(name: ServerName, rows: RowDefinition[], options: BenchOptions): Promise<ServerRun> {
  const unavailable = serverUnavailable(name, process.env);
  if (unavailable) {
    console.log(`\n== ${name}: skipped: ${unavailable}`);
    const reason = `${name} skipped: ${unavailable}`;
    return { server: name, label: name, command: '-', rows: rows.map((row) => skippedRow(row, reason)), skipped: unavailable, uncaughtExceptions: 0 };
  }
  const data = createBenchData(name, {
    seedLargeFileBytes: needsSeededLargeFile(options.rows) ? options.largeFileBytes : 0,
  });
  const run: ServerRun = { server: name, label: name, command: '-', rows: [], uncaughtExceptions: 0 };
  let server: ServerProcess | null = null;
  try {
    const command = await serverCommand(name, data, process.env);
    run.label = command.label;
    run.command = describeCommand(command);
    console.log(`\n== ${name}: ${run.command}`);
    server = await ServerProcess.start(command, { verbose: options.verbose });
    console.log(`   listening at ${server.url.href} (pid ${server.pid}${command.processGroup ? ', process group' : ''})`);
    const live = server;
    const processGroup = command.processGroup === true;
    for (const row of rows) {
      const result = server.exitInfo
        ? skippedRow(row, `server not running (${describeExit(server.exitInfo)})`)
        : await row.run({ baseUrl: server.url, pid: server.pid, processGroup, options, serverAlive: () => !live.exitInfo });
      if (server.died && !run.died) run.died = `${describeExit(server.exitInfo!)} during or before ${row.name}`;
      run.rows.push(result);
      console.log(formatProgress(result));
    }
  } catch (error) {
    run.startError = (error as Error).message;
    if (run.command === '-') console.log(`\n== ${name}`);
    console.log(`   could not start: ${run.startError}`);
    run.rows = rows.map((row) => skippedRow(row, 'server did not start'));
  } finally {
    if (server) {
      run.uncaughtExceptions = server.uncaughtExceptions;
      await server.stop();
      run.outputTail = server.outputTail();
      if (server.logErrorLines().length > 0) run.logErrors = server.logErrorLines();
    }
    removeBenchData(data);
  }
  return run;
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  installExitHandlers();
  const rows = selectRows(options.rows);
  const started = performance.now();
  const runs: ServerRun[] = [];
  for (const name of options.servers) runs.push(await benchServer(name, rows, options));

  console.log(formatReport(runs, rows, options));
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (options.jsonPath) {
    fs.writeFileSync(options.jsonPath, JSON.stringify({ options, runs }, null, 2));
    console.log(`results written to ${options.jsonPath}`);
  }
  // Row errors are reported in the table; a server that never started or died fails the run.
  if (runs.some((run) => run.startError || run.died)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
