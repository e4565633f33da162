/**
 * keepdav benchmark: keepdav against the peer webdav-server 2.6.3, same run, same data.
 *
 * Usage:
 *   npm run bench                      # both servers, full sizes (512 MiB large file, 5 s rows)
 *   npm run bench -- --quick           # smoke run (64 MiB, ~1.5 s rows)
 *   npm run bench -- --only=get-4k,lock-unlock
 *   BENCH_SERVERS=peer npm run bench -- --quick
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
import { describeCommand, serverCommand } from './bench/serverCommands';
import { ServerProcess, type ExitInfo } from './bench/serverProcess';

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

async function benchServer(name: ServerName, rows: RowDefinition[], options: BenchOptions): Promise<ServerRun> {
  const data = createBenchData(name, {
    seedLargeFileBytes: needsSeededLargeFile(options.rows) ? options.largeFileBytes : 0,
  });
  const command = serverCommand(name, data, process.env);
  const run: ServerRun = { server: name, label: command.label, command: describeCommand(command), rows: [], uncaughtExceptions: 0 };
  console.log(`\n== ${name}: ${run.command}`);
  let server: ServerProcess | null = null;
  try {
    server = await ServerProcess.start(command, { verbose: options.verbose });
    console.log(`   listening at ${server.url.href} (pid ${server.pid})`);
    const live = server;
    for (const row of rows) {
      const result = server.exitInfo
        ? skippedRow(row, `server not running (${describeExit(server.exitInfo)})`)
        : await row.run({ baseUrl: server.url, pid: server.pid, options, serverAlive: () => !live.exitInfo });
      if (server.died && !run.died) run.died = `${describeExit(server.exitInfo!)} during or before ${row.name}`;
      run.rows.push(result);
      console.log(formatProgress(result));
    }
  } catch (error) {
    run.startError = (error as Error).message;
    console.log(`   could not start: ${run.startError}`);
    run.rows = rows.map((row) => skippedRow(row, 'server did not start'));
  } finally {
    if (server) {
      run.uncaughtExceptions = server.uncaughtExceptions;
      run.outputTail = server.outputTail();
      await server.stop();
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
