// `throughput`: many small runs (trigger → transform → transform) started through GraphQL by concurrent
// clients, counted when their final runUpdates message arrives. Baseline: the same clients sending a
// trivial authenticated query, the ceiling of the HTTP + GraphQL + auth path on this machine; and with
// BENCH_BEFORE=<dir> (a checkout of an earlier commit, its node_modules linked) that tree's server,
// measured in the same run, repetitions alternating. Then the same runs over 1, 2 and 3 processes on
// one PostgreSQL (bench/throughput-processes.ts).
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createApi, watchRuns, type Api, type FinishedRun, type RunWatcher } from './client.js';
import { benchDrivers, skippedPostgres, withDatabase, type DatabaseSpec } from './databases.js';
import { benchEnv, startServerProcess, type BenchServer } from './server-launch.js';
import { fmt, median, smoke, table, verdict } from './stats.js';
import { ceiling, measureProcesses, processesHeaders, processesRow, type ProcessesResult } from './throughput-processes.js';
import { chainDefinition } from './workflows.js';

const clients = 24;
const targets = { postgres: 800, pglite: 400 };
/** What issue 9 measured before the prepared statements, loaders and organization cache (runs/s). */
const previous = { postgres: 500, pglite: 214 };
const beforeDir = process.env.BENCH_BEFORE;

/** Runs `count` calls of `call` from `clients` concurrent loops; resolves when all were answered. */
async function loops(count: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

type Launch = (env: Record<string, string>) => Promise<BenchServer>;

/** The server of the tree at `dir` (its own bench/server-launch.ts, so its own src/). */
async function launcherOf(dir: string): Promise<Launch> {
  const module = (await import(join(dir, 'bench/server-launch.ts'))) as { startServerProcess: Launch };
  return (env) => module.startServerProcess(env);
}

interface Measured {
  completed: number;
  started: number;
  floor: number;
  cpuPerRun: number;
  cpuPerQuery: number;
}

/** A started server with its watcher and workflow, warmed up. */
async function prepare(launch: Launch, spec: DatabaseSpec, runs: number) {
  const server = await launch(benchEnv(spec));
  const api = createApi(server);
  const watcher = watchRuns(api);
  const workflowId = await api.createWorkflow('small', chainDefinition(2));
  await watcher.ready();
  await completedPerSecond(api, watcher, workflowId, Math.min(runs, 100)); // warms up
  return {
    server, api, watcher, workflowId,
    async close() {
      await watcher.close();
      await server.stop();
    },
  };
}

/** One repetition: `runs` runs, then as many baseline queries. */
async function repetition(side: Awaited<ReturnType<typeof prepare>>, runs: number): Promise<Measured> {
  const { server, api, watcher, workflowId } = side;
  let cpu0 = await server.cpuMs();
  const m = await completedPerSecond(api, watcher, workflowId, runs);
  const cpuPerRun = ((await server.cpuMs()) - cpu0) / runs;
  cpu0 = await server.cpuMs();
  const t0 = performance.now();
  await loops(runs, () => api.query('{ organization { id } }'));
  const floor = runs / ((performance.now() - t0) / 1000);
  return { ...m, floor, cpuPerRun, cpuPerQuery: ((await server.cpuMs()) - cpu0) / runs };
}

const medians = (all: Measured[]): Measured => ({
  completed: median(all.map((m) => m.completed)),
  started: median(all.map((m) => m.started)),
  floor: median(all.map((m) => m.floor)),
  cpuPerRun: median(all.map((m) => m.cpuPerRun)),
  cpuPerQuery: median(all.map((m) => m.cpuPerQuery)),
});

/** This tree's server (and the BENCH_BEFORE tree's, each on a database of its own), repetitions alternating. */
async function measure(driver: 'pglite' | 'postgres', runs: number, reps: number) {
  const before = beforeDir ? await launcherOf(beforeDir) : undefined;
  return withDatabase(driver, (spec) =>
    withDatabase(driver, async (beforeSpec) => {
      const now = await prepare(startServerProcess, spec, runs);
      const earlier = before ? await prepare(before, beforeSpec, runs).catch(async (error: unknown) => {
        await now.close();
        throw error;
      }) : undefined;
      try {
        const after: Measured[] = [];
        const was: Measured[] = [];
        for (let rep = 0; rep < reps; rep++) {
          if (earlier) was.push(await repetition(earlier, runs));
          after.push(await repetition(now, runs));
        }
        return { after: medians(after), before: earlier ? medians(was) : undefined };
      } finally {
        await Promise.all([now.close(), earlier?.close()]);
      }
    }),
  );
}

/** Starts `runs` runs from the concurrent clients; completed/s counts to the last final update. */
async function completedPerSecond(api: Api, watcher: RunWatcher, workflowId: string, runs: number) {
  const waiting = new Set<string>();
  let done = 0;
  let lastDone = 0;
  let settle!: (error?: Error) => void;
  const allDone = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  allDone.catch(() => undefined); // awaited below; a failure before then must not go unhandled
  const finish = (run: FinishedRun) => {
    if (run.status !== 'SUCCEEDED') return settle(new Error(`run ${run.id} ended ${run.status}`));
    lastDone = Math.max(lastDone, run.receivedAt);
    if (++done === runs) settle();
  };
  watcher.onFinished = (run) => {
    if (waiting.delete(run.id)) finish(run);
  };
  const t0 = performance.now();
  await loops(runs, async (i) => {
    const id = await api.startRun(workflowId, { i });
    // A run may end before its startRun answer: then its final update is already in the watcher.
    const early = watcher.finished.get(id);
    if (early) finish(early);
    else waiting.add(id);
  });
  const startedAt = performance.now();
  const timer = setTimeout(() => settle(new Error(`only ${done} of ${runs} runs final after 120 s`)), 120_000);
  try {
    await allDone;
  } finally {
    clearTimeout(timer);
    watcher.onFinished = undefined;
  }
  return { completed: runs / ((lastDone - t0) / 1000), started: runs / ((startedAt - t0) / 1000) };
}

/** The same runs over 1, 2 and 3 processes on one PostgreSQL (smoke: 2; BENCH_PROCESSES=3 one count), each count on a database of its own. */
async function acrossProcesses(runs: number) {
  const counts = process.env.BENCH_PROCESSES?.split(',').map(Number) ?? (smoke ? [2] : [1, 2, 3]);
  const reps = smoke ? 1 : 3;
  const results: ProcessesResult[] = [];
  const loadBefore = loadavg()[0]!;
  const options = { clients, runs, reps, warmUp: smoke ? Math.min(runs, 100) : 1500 };
  let peers: ProcessesResult | undefined;
  if (benchDrivers().includes('postgres')) {
    for (const n of counts) results.push(await measureProcesses(n, options));
    // What a process costs the others: 3 processes, every client on the first.
    if (!smoke && !process.env.BENCH_PROCESSES) peers = await measureProcesses(3, { ...options, loaded: 1 });
  }
  const one = results.find((m) => m.processes === 1);
  const rows = results.length ? results.map((m) => processesRow(m, one, runs)) : [[counts.join(', '), runs, process.env.DATABASE_URL ? 'skipped (BENCH_DRIVERS)' : skippedPostgres, '', '', '', '', '', '', '']];
  const projections = results.filter((m) => !Number.isNaN(m.postgres)).map(
    (m) => `${m.processes} process${m.processes > 1 ? 'es' : ''}: ${[2, 4, 8, 16].map((cores) => `${cores} cores ≈ ${fmt(ceiling(m, cores), 0)}`).join(', ')} runs/s`,
  );
  return {
    title: `throughput across processes — the same runs from ${clients} clients spread over Braid processes on one PostgreSQL, median of ${reps}`,
    table: table(processesHeaders, rows),
    notes: [
      'each process is `node --import tsx src/main.ts` on the same database (a fresh one per process count); client loop j talks to process j mod n, which drives the runs it starts; each process has one runUpdates subscriber, filtered to the workflow its clients start, and the clients count a run when its final update arrives there (every run checked SUCCEEDED).',
      'CPU: user + system time from /proc — Braid: all its processes, summed; PostgreSQL: the backends of the bench\'s database plus the postmaster, checkpointer, background and WAL writers and launchers (other databases\' backends left out); clients: the bench process (24 fetch loops and the subscriptions). All share the 2 cores here, so runs/s cannot grow with processes on this machine; CPU per run says what would.',
      `store transactions/run: the run-store's NOTIFYs on the events channel counted by a LISTEN of the bench's own (one per transaction; startRun's own announcements left out); each is delivered to, parsed and, when it changes a run's status, read back by every other process that has a runUpdates subscriber.`,
      ...(peers
        ? [
            `what a process costs the others: with 3 processes and every client on the first (each with its runUpdates subscriber), the loaded one spent ${fmt(peers.perProcess[0]!, 2)} ms CPU per run and each idle one ${peers.perProcess.slice(1).map((ms) => fmt(ms, 2)).join(' and ')} ms per run of the other's (reading back the runs whose status changed, publishing them to its subscriber, which filters them out); PostgreSQL ${Number.isNaN(peers.postgres) ? 'not local' : `${fmt(peers.postgres, 2)} ms/run`}; ${fmt(peers.completed, 0)} runs/s.`,
          ]
        : []),
      `warm-up: each process first drives ${options.warmUp} runs (one process on PostgreSQL here spent 4.2–4.5 ms CPU per run over its runs 100–1,600 and 3.1 ms over the next 1,500: the JIT is still warming up).`,
      `machine load (1-minute load average, ${cpus().length} cores) at the start and the end: ${fmt(loadBefore, 1)} → ${fmt(loadavg()[0]!, 1)}.`,
      `ceiling: runs/s if n cores were all busy with Braid and PostgreSQL = min(n × 1000 / (Braid + PostgreSQL ms/run), processes × 1000 / Braid ms/run), the second term because one process's JavaScript runs on one core; clients elsewhere. ${projections.join('; ') || 'not measured'}.`,
    ],
  };
}

export async function benchThroughput() {
  const runs = smoke ? 50 : 1500;
  const reps = smoke ? 2 : 3;
  const rows: (string | number)[][] = [];
  const loadBefore = loadavg()[0]!;
  const row = (driver: 'pglite' | 'postgres', tree: string, m: Measured, target?: number) => [
    driver, tree, runs, target ? `≥ ${target}` : '—', fmt(m.completed, 0), target ? verdict(m.completed >= target) : '',
    fmt(m.started, 0), fmt(m.cpuPerRun, 2), fmt(m.floor, 0), fmt(m.cpuPerQuery, 2), fmt(m.completed / m.floor, 2),
  ];
  for (const driver of benchDrivers()) {
    const m = await measure(driver, runs, reps);
    if (m.before) rows.push(row(driver, 'before (BENCH_BEFORE)', m.before));
    rows.push(row(driver, 'this tree', m.after, targets[driver]));
    if (m.before) rows.at(-1)!.push(`${fmt(m.after.completed / m.before.completed, 2)}× runs/s, ${fmt(m.after.cpuPerRun / m.before.cpuPerRun, 2)}× CPU/run`);
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', 'this tree', runs, `≥ ${targets.postgres}`, skippedPostgres, '', '', '', '', '', '']);
  const loadAfter = loadavg()[0]!;
  const more = [await acrossProcesses(runs)];
  const headers = [
    'database', 'server', 'runs', 'target runs/s', 'completed runs/s', 'verdict', 'startRun answered/s', 'server CPU ms/run',
    'baseline queries/s', 'server CPU ms/query', 'runs / baseline', ...(beforeDir ? ['vs before'] : []),
  ];
  return {
    title: `throughput — runs of trigger → transform → transform from ${clients} concurrent clients, median of ${reps}`,
    table: table(headers, rows.map((r) => (beforeDir ? [...r, ...Array(headers.length - r.length).fill('')] : r))),
    notes: [
      'completed: from the first startRun sent to the last run\'s final runUpdates message (every run SUCCEEDED, every step persisted).',
      'the server runs in a child process; the clients and the runUpdates subscriber in the bench process.',
      `baseline: the same ${clients} loops sending { organization { id } } (auth + one read): the API's own ceiling here.`,
      'server CPU: user + system time of the server process per run (or query), a measure that machine load inflates less than rates.',
      `previously measured (issue 9, before prepared statements, loaders and the organization cache): ${previous.postgres} runs/s on PostgreSQL, ${previous.pglite} on PGlite${beforeDir ? `; the "before" rows are the server of ${beforeDir}, measured in this run, repetitions alternating with this tree's` : ' (BENCH_BEFORE=<dir of an earlier checkout> measures one side by side)'}.`,
      `machine load (1-minute load average, ${cpus().length} cores) at the start and the end: ${fmt(loadBefore, 1)} → ${fmt(loadAfter, 1)}.`,
    ],
    more,
  };
}
