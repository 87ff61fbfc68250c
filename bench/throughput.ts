// `throughput`: many small runs (trigger → transform → transform) started through GraphQL by concurrent
// clients, counted when their final runUpdates message arrives. Baseline: the same clients sending a
// trivial authenticated query, the ceiling of the HTTP + GraphQL + auth path on this machine.
import { createApi, watchRuns, type Api, type FinishedRun, type RunWatcher } from './client.js';
import { benchDrivers, skippedPostgres, withDatabase } from './databases.js';
import { benchEnv, startServerProcess } from './server-launch.js';
import { fmt, median, smoke, table, verdict } from './stats.js';
import { chainDefinition } from './workflows.js';

const clients = 24;
const targetPostgres = 500;

/** Runs `count` calls of `call` from `clients` concurrent loops; resolves when all were answered. */
async function loops(count: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

async function measure(driver: 'pglite' | 'postgres', runs: number, reps: number) {
  return withDatabase(driver, async (spec) => {
    const server = await startServerProcess(benchEnv(spec));
    const api = createApi(server);
    const watcher = watchRuns(api);
    try {
      const workflowId = await api.createWorkflow('small', chainDefinition(2));
      await watcher.ready();
      await completedPerSecond(api, watcher, workflowId, Math.min(runs, 100)); // warms up
      const completed: number[] = [];
      const started: number[] = [];
      const cpuPerRun: number[] = [];
      const floor: number[] = [];
      const cpuPerQuery: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        let cpu0 = await server.cpuMs();
        const m = await completedPerSecond(api, watcher, workflowId, runs);
        cpuPerRun.push(((await server.cpuMs()) - cpu0) / runs);
        completed.push(m.completed);
        started.push(m.started);
        cpu0 = await server.cpuMs();
        const t0 = performance.now();
        await loops(runs, () => api.query('{ organization { id } }'));
        floor.push(runs / ((performance.now() - t0) / 1000));
        cpuPerQuery.push(((await server.cpuMs()) - cpu0) / runs);
      }
      return {
        completed: median(completed), started: median(started), floor: median(floor),
        cpuPerRun: median(cpuPerRun), cpuPerQuery: median(cpuPerQuery),
      };
    } finally {
      await watcher.close();
      await server.stop();
    }
  });
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

export async function benchThroughput() {
  const runs = smoke ? 50 : 1500;
  const reps = smoke ? 2 : 3;
  const rows: (string | number)[][] = [];
  for (const driver of benchDrivers()) {
    const m = await measure(driver, runs, reps);
    const target = driver === 'postgres' ? targetPostgres : undefined;
    rows.push([
      driver, runs, target ? `≥ ${target}` : '—', fmt(m.completed, 0), target ? verdict(m.completed >= target) : '',
      fmt(m.started, 0), fmt(m.cpuPerRun, 2), fmt(m.floor, 0), fmt(m.cpuPerQuery, 2), `${fmt(m.completed / m.floor, 2)}`,
    ]);
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', runs, `≥ ${targetPostgres}`, skippedPostgres, '', '', '', '', '', '']);
  return {
    title: `throughput — runs of trigger → transform → transform from ${clients} concurrent clients, median of ${reps}`,
    table: table(
      [
        'database', 'runs', 'target runs/s', 'completed runs/s', 'verdict', 'startRun answered/s', 'server CPU ms/run',
        'baseline queries/s', 'server CPU ms/query', 'runs / baseline',
      ],
      rows,
    ),
    notes: [
      'completed: from the first startRun sent to the last run\'s final runUpdates message (every run SUCCEEDED).',
      'the server runs in a child process (its own core); the clients and the runUpdates subscriber in the bench process.',
      `baseline: the same ${clients} loops sending { organization { id } } (auth + one read): the API's own ceiling here.`,
      'server CPU: user + system time of the server process per run (or query), a measure that machine load inflates less than rates.',
    ],
  };
}
