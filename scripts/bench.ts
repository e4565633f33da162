/**
 * keepdav benchmark: keepdav beside Apache httpd mod_dav_fs (the bar), nginx + dav-ext,
 * lighttpd mod_webdav and the webdav-server npm package, on the same data, in interleaved rounds,
 * with wrk (Debian package `wrk`) as the load generator for every throughput row.
 *
 * Usage:
 *   npm run bench                          # every installed server, 2 rounds, 5 s rows, 512 MiB
 *   npm run bench -- --quick               # 1 round, 2 s rows, 64 MiB: for iterating
 *   npm run bench -- --quick --only=get-4k,propfind-1000
 *   BENCH_SERVERS=keepdav,apache npm run bench -- --rounds=3
 *   (all options: npm run bench -- --help; details in scripts/bench/options.ts)
 *
 * Every server runs as a child process over its own fresh copy of the same temporary data, all
 * started at once (idle servers cost no CPU); each row then loads one server at a time, the
 * servers in turn and the order rotating every round, so a change in the machine's load hits
 * every server alike. Each turn begins once what the turns before wrote is on disk (sync(1),
 * bench/diskQuiet.ts says why). Each figure is the median over the rounds. Peak RSS is sampled
 * from /proc during every row (over the whole process group for the forking servers) and idle RSS after
 * start, after the run and once more after the servers were left alone for a while (--quiet-seconds). Servers that are not installed are skipped with a note. At the end one
 * Markdown table is printed, ready for the README. Temp data and children are removed on any
 * exit. Exit status 1 when a server did not start or died during the run.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { installExitHandlers } from './bench/cleanup';
import { createBenchData, createLargeSource, removeBenchData, removeLargeSource, type BenchData } from './bench/fixtures';
import { cpuQuiet, cpuSeconds, startRssWatch } from './bench/memory';
import { diskQuiet } from './bench/diskQuiet';
import { parseBenchOptions, USAGE, type BenchOptions, type ServerName } from './bench/options';
import { formatProgress, formatReport, type BenchResults, type ServerColumn } from './bench/report';
import { selectRows } from './bench/rows';
import type { Measurement } from './bench/rowTypes';
import { describeCommand, needsPostgres, serverCommand, serverUnavailable } from './bench/serverCommands';
import { ServerProcess } from './bench/serverProcess';
import { startBenchPostgres, type BenchPostgres } from './bench/postgresServer';
import { wrkMissing } from './bench/wrk';

interface LiveServer {
  column: ServerColumn;
  data: BenchData;
  process: ServerProcess;
}

const MIB = 1024 * 1024;

function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(', ');
}

function rssNow(server: LiveServer): number | null {
  return startRssWatch(server.process.pid, { processGroup: server.process.command.processGroup === true }).stop().baselineMiB;
}

/** The bench's own PostgreSQL clusters (keepdav-pg), removed after the servers stop. */
const postgres: BenchPostgres[] = [];

async function startServers(options: BenchOptions, large: ReturnType<typeof createLargeSource>): Promise<{ live: LiveServer[]; columns: ServerColumn[] }> {
  const live: LiveServer[] = [];
  const columns: ServerColumn[] = [];
  for (const name of options.servers) {
    const column: ServerColumn = { server: name, label: name, idleStartMiB: null, idleEndMiB: null, idleQuietMiB: null };
    columns.push(column);
    const unavailable = serverUnavailable(name, process.env);
    if (unavailable) {
      column.skipped = unavailable;
      console.log(`== ${name}: skipped: ${unavailable}`);
      continue;
    }
    const data = createBenchData(name, large);
    try {
      // keepdav-pg, and a baseline whose command names {stateUrl} (an A/B of PostgreSQL state).
      if (needsPostgres(name, process.env)) {
        const pg = await startBenchPostgres();
        postgres.push(pg);
        data.stateUrl = pg.url;
        console.log(`   PostgreSQL cluster at ${pg.url} (fsync on)`);
      }
      const command = await serverCommand(name, data, process.env);
      column.label = command.label;
      console.log(`== ${name}: ${describeCommand(command)}`);
      const server = await ServerProcess.start(command, { verbose: options.verbose });
      console.log(`   listening at ${server.url.href} (pid ${server.pid})`);
      live.push({ column, data, process: server });
    } catch (error) {
      column.skipped = `did not start: ${(error as Error).message}`;
      console.log(`   ${column.skipped}`);
      removeBenchData(data);
    }
  }
  return { live, columns };
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
  const noWrk = wrkMissing();
  if (noWrk) {
    console.error(`bench: ${noWrk}`);
    process.exit(2);
  }
  installExitHandlers();
  const started = performance.now();
  const loadBefore = loadAverage();
  const rows = selectRows(options.rows);
  const needsLarge = rows.some((r) => r.name === 'put-large' || r.name === 'get-large');
  const large = createLargeSource(needsLarge ? options.largeFileBytes : 0);
  const { live, columns } = await startServers(options, large);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  for (const server of live) server.column.idleStartMiB = rssNow(server);

  const measurements = new Map<ServerName, Map<string, Measurement[]>>();
  const peaks = new Map<ServerName, Map<string, number>>();
  let failed = false;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      // Rotate the order each round: no server always runs right after the same other one.
      const order = live.map((_, i) => live[(i + round - 1) % live.length]);
      for (const row of rows) {
        for (const server of order) {
          const name = server.column.server;
          if (row.appliesTo && !row.appliesTo(name)) continue;
          if (server.process.exitInfo) continue;
          const group = server.process.command.processGroup === true;
          await diskQuiet();
          const watch = startRssWatch(server.process.pid, { processGroup: group });
          const cpuBefore = cpuSeconds(server.process.pid, group);
          let m: Measurement;
          try {
            m = await row.run({
              server: name,
              baseUrl: server.process.url,
              root: server.data.root,
              options,
              round,
              large,
              serverCpuSeconds: () => cpuSeconds(server.process.pid, group),
            });
          } catch (error) {
            m = { value: null, errors: 1, note: (error as Error).message.split('\n')[0] };
          }
          const peak = watch.stop().peakMiB;
          const cpuAfter = cpuSeconds(server.process.pid, group);
          await cpuQuiet(server.process.pid, group);
          if (m.cpuMsPerOp === undefined && cpuBefore !== null && cpuAfter !== null && m.operations) m.cpuMsPerOp = ((cpuAfter - cpuBefore) * 1000) / m.operations;
          if (!measurements.has(name)) measurements.set(name, new Map());
          if (!peaks.has(name)) peaks.set(name, new Map());
          const list = measurements.get(name)!.get(row.name) ?? [];
          list.push(m);
          measurements.get(name)!.set(row.name, list);
          if (peak !== null) peaks.get(name)!.set(row.name, Math.max(peak, peaks.get(name)!.get(row.name) ?? 0));
          console.log(formatProgress(round, row, name, m, peak));
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const server of live) server.column.idleEndMiB = rssNow(server);
    if (options.quietSeconds > 0) {
      console.log(`  idle for ${options.quietSeconds} s, then idle RSS again`);
      await new Promise((resolve) => setTimeout(resolve, options.quietSeconds * 1000));
      for (const server of live) server.column.idleQuietMiB = rssNow(server);
    }
  } finally {
    for (const server of live) {
      if (server.process.died) {
        failed = true;
        server.column.skipped = `died during the run: ${server.process.outputTail().slice(-3).join(' | ')}`;
      }
      await server.process.stop();
      removeBenchData(server.data);
    }
    removeLargeSource(large);
    for (const pg of postgres) await pg.remove();
  }

  const results: BenchResults = {
    rows,
    servers: columns,
    measurements,
    peaks,
    loadBefore,
    loadAfter: loadAverage(),
    rounds: options.rounds,
    rowSeconds: options.rowSeconds,
    quietSeconds: options.quietSeconds,
    largeMiB: options.largeFileBytes / MIB,
  };
  console.log(`\n${execFileSync('date', ['-u']).toString().trim()}, node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log(formatReport(results));
  console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (options.jsonPath) {
    const plain = {
      options,
      servers: columns,
      measurements: Object.fromEntries([...measurements].map(([k, v]) => [k, Object.fromEntries(v)])),
      peaks: Object.fromEntries([...peaks].map(([k, v]) => [k, Object.fromEntries(v)])),
    };
    fs.writeFileSync(options.jsonPath, JSON.stringify(plain, null, 2));
    console.log(`results written to ${options.jsonPath}`);
  }
  if (failed || columns.some((c) => c.skipped?.startsWith('did not start'))) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
