// `scale`: a 10,000-node fan-out of transforms through the API, against the same at 1,000 nodes: it must
// complete, the server's RSS must not grow past 300 MB, and its time must stay within 12× of 1,000's.
// The server runs in a child process so that its RSS is its own.
import { createApi, watchRuns } from './client.js';
import { benchDrivers, skippedPostgres, withDatabase } from './databases.js';
import { benchEnv, startServerProcess, type BenchServer } from './server-launch.js';
import { fmt, median, sleep, smoke, table, verdict } from './stats.js';
import { fanDefinition, makespan, type StoredStep } from './workflows.js';

const maxGrowthMb = 300;
const maxTimeRatio = 12;
const mb = (bytes: number) => bytes / 1024 / 1024;

/** Samples the server's RSS every 20 ms while `body` runs; returns the peak seen. */
async function peakRss<T>(server: BenchServer, body: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = await server.rss();
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await server.rss());
      await sleep(20);
    }
  })();
  try {
    return { result: await body(), peak };
  } finally {
    running = false;
    await sampler;
    peak = Math.max(peak, await server.rss());
  }
}

type RunResult =
  | { ok: true; time: number; lead: number; makespan: number; tail: number; longestStep: number }
  | { ok: false; error: string };

/** Medians over the runs that completed; NaN when none did. */
function summarize(runs: RunResult[]) {
  const done = runs.flatMap((r) => (r.ok ? [r] : []));
  const errors = runs.flatMap((r) => (r.ok ? [] : [r.error]));
  const mid = (values: number[]) => (values.length ? median(values) : NaN);
  return {
    completed: `${done.length}/${runs.length}`,
    all: errors.length === 0,
    errors,
    time: mid(done.map((r) => r.time)),
    lead: mid(done.map((r) => r.lead)),
    makespan: mid(done.map((r) => r.makespan)),
    tail: mid(done.map((r) => r.tail)),
    longestStep: done.reduce((longest, r) => Math.max(longest, r.longestStep), 0),
  };
}

async function measure(driver: 'pglite' | 'postgres', small: number, large: number, reps: number) {
  return withDatabase(driver, async (spec) => {
    const server = await startServerProcess(benchEnv(spec));
    const api = createApi(server);
    const watcher = watchRuns(api);
    try {
      const workflows = new Map<number, string>();
      for (const n of [small, large]) workflows.set(n, await api.createWorkflow(`fan-${n}`, fanDefinition(n)));
      await watcher.ready();
      /** One run: startRun → final update, checked complete from the stored steps; a failure is kept. */
      const run = async (n: number): Promise<RunResult> => {
        const t0 = performance.now();
        const wallT0 = performance.timeOrigin + t0;
        const runId = await api.startRun(workflows.get(n)!, { i: 0 });
        const finished = await watcher.waitFor(runId, 300_000);
        const { run: stored } = await api.query<{ run: { status: string; error: string | null; steps: StoredStep[] } }>(
          'query($id: ID!) { run(id: $id) { status error steps { nodeId status startedAt finishedAt } } }',
          { id: runId },
        );
        const succeeded = stored.steps.filter((s) => s.status === 'SUCCEEDED').length;
        if (stored.status !== 'SUCCEEDED' || succeeded !== n + 1) {
          return { ok: false, error: `${n}-node run ${runId} ${stored.status} with ${succeeded} steps SUCCEEDED: ${stored.error}` };
        }
        const starts = stored.steps.map((s) => Date.parse(s.startedAt!));
        const ends = stored.steps.map((s) => Date.parse(s.finishedAt!));
        return {
          ok: true,
          time: finished.receivedAt - t0,
          lead: Math.min(...starts) - wallT0,
          makespan: makespan(stored.steps),
          tail: performance.timeOrigin + finished.receivedAt - Math.max(...ends),
          longestStep: Math.max(...ends.map((end, i) => end - starts[i]!)),
        };
      };
      await run(small); // warms up
      const smallRuns: RunResult[] = [];
      for (let rep = 0; rep < reps; rep++) smallRuns.push(await run(small));
      const before = await server.rss();
      // The first large run alone, then the others: garbage left by one run may only be collected later.
      const first = await peakRss(server, () => run(large));
      const rest = await peakRss(server, async () => {
        const runs: RunResult[] = [];
        for (let rep = 1; rep < reps; rep++) runs.push(await run(large));
        return runs;
      });
      return {
        small: summarize(smallRuns),
        large: summarize([first.result, ...rest.result]),
        before: mb(before),
        growthFirst: mb(first.peak - before),
        growthAll: mb(Math.max(first.peak, rest.peak) - before),
      };
    } finally {
      await watcher.close();
      await server.stop();
    }
  });
}

export async function benchScale() {
  const small = smoke ? 50 : 1000;
  const large = smoke ? 500 : 10_000;
  const reps = smoke ? 2 : 3;
  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  const longest: string[] = [];
  for (const driver of benchDrivers()) {
    const m = await measure(driver, small, large, reps);
    const ratio = m.large.time / m.small.time;
    longest.push(`${driver} ${fmt(m.large.longestStep, 0)} ms`);
    failures.push(...[...m.small.errors, ...m.large.errors].map((error) => `${driver}: ${error}`));
    rows.push([
      driver, `${m.small.completed}, ${m.large.completed}`, verdict(m.small.all && m.large.all),
      fmt(m.small.time, 0), fmt(m.large.time, 0), `${fmt(ratio)}× (≤ ${maxTimeRatio}×)`, verdict(ratio <= maxTimeRatio),
      [m.large.lead, m.large.makespan, m.large.tail].map((ms) => fmt(ms, 0)).join(' / '),
      fmt(m.before, 0), `${fmt(m.growthFirst, 0)} (≤ ${maxGrowthMb})`, verdict(m.growthFirst <= maxGrowthMb),
      fmt(m.growthAll, 0),
    ]);
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', skippedPostgres, '', '', '', '', '', '', '', '', '', '']);
  return {
    title:
      `scale — fan-out of ${large.toLocaleString('en')} transforms vs ${small.toLocaleString('en')} through the API, ` +
      `median of ${reps}`,
    table: table(
      [
        'database', `completed (${small}, ${large})`, 'verdict', `${small} nodes ms`, `${large} nodes ms`, 'time ratio',
        'verdict',
        `${large} run: to 1st step / makespan / to final update ms`,
        'RSS before MB', `RSS growth, 1st ${large} run MB`, 'verdict', `RSS growth, ${reps} runs MB`,
      ],
      rows,
    ),
    notes: [
      'time: startRun sent → final runUpdates message received, in three phases for the large run: startRun sent → first ' +
        'step startedAt; the makespan (first step startedAt → last step finishedAt, as stored); last step finishedAt → final update.',
      `completed: runs that ended SUCCEEDED with every step SUCCEEDED (read through the API); times are over those.`,
      'the fan-out runs every node at once (maxConcurrency = its size).',
      `RSS: the server's (a child process), sampled every 20 ms; growth = peak during the first ${large}-node run (then ` +
        `during all ${reps}) − RSS just before them; the verdict is on the first.`,
      `longest single step (startedAt → finishedAt) in a completed ${large}-node run: ${longest.join(', ')} ` +
        "(interleaved JSONata evaluations share one wall clock; the guard in src/engine/expressions.ts allows 30 s).",
      ...failures.map((failure) => `failed: ${failure}`),
    ],
  };
}
