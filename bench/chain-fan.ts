// `chain` and `fan`: trigger → 40 transforms in a row / 100 side by side, started through the API with
// every step persisted; the makespan is read from the stored steps. Side by side in one run, three
// servers per database that differ only in how expressions are evaluated: `bounded` (what Braid
// does: inline when provably cheap, else in the worker pool), `workers` (every expression in the
// pool) and `inline` (the previous approach: every expression in the main thread, unbounded). Also the
// same JSONata transforms in a plain promise executor (no actors, database or API), and `chain`
// carries the profile of one round trip to a worker (bench/expression-round-trip.ts).
import jsonata from 'jsonata';
import type { ExpressionMode } from '../src/engine/index.js';
import { benchDrivers, skippedPostgres, withDatabase, type DatabaseSpec } from './databases.js';
import { createApi, watchRuns } from './client.js';
import { profileRoundTrip } from './expression-round-trip.js';
import { benchEnv, startServer } from './server-launch.js';
import { fmt, median, smoke, table, verdict } from './stats.js';
import {
  chainDefinition,
  fanDefinition,
  makespan,
  runStepsQuery,
  transformExpression,
  type StoredRun,
} from './workflows.js';

type Shape = 'chain' | 'fan';
const modes: ExpressionMode[] = ['bounded', 'workers', 'inline'];

/** The same expressions, evaluated one after another (chain) or all at once (fan). */
async function baseline(shape: Shape, n: number): Promise<number> {
  const expressions = Array.from({ length: n }, () => jsonata(transformExpression));
  const t0 = performance.now();
  if (shape === 'chain') {
    let value: unknown = { i: 0 };
    for (const expression of expressions) value = await expression.evaluate({}, { input: value });
  } else {
    await Promise.all(expressions.map((expression) => expression.evaluate({}, { input: { i: 0 } })));
  }
  return performance.now() - t0;
}


interface Measured {
  stored: number;
  endToEnd: number;
  baseline: number;
}

/** Opens one database per mode (nested), then calls `work` with their specs. */
function withDatabases<T>(driver: 'pglite' | 'postgres', count: number, work: (specs: DatabaseSpec[]) => Promise<T>): Promise<T> {
  if (count === 0) return work([]);
  return withDatabase(driver, (spec) => withDatabases(driver, count - 1, (rest) => work([spec, ...rest])));
}

/**
 * One server per mode, all in this process, measured in turns (a run on each, then the next round),
 * so that the load of the machine at any moment weighs on every mode alike.
 */
async function measure(driver: 'pglite' | 'postgres', shape: Shape, n: number, reps: number): Promise<Record<ExpressionMode, Measured>> {
  return withDatabases(driver, modes.length, async (specs) => {
    const servers = await Promise.all(modes.map((mode, i) => startServer(benchEnv(specs[i]!), { expressionMode: mode })));
    const apis = servers.map(createApi);
    const watchers = apis.map((api) => watchRuns(api));
    try {
      const definition = shape === 'chain' ? chainDefinition(n) : fanDefinition(n);
      const workflowIds = await Promise.all(apis.map((api) => api.createWorkflow(`${shape}-${n}`, definition)));
      await Promise.all(watchers.map((watcher) => watcher.ready()));
      const samples = modes.map(() => ({ stored: [] as number[], endToEnd: [] as number[], plain: [] as number[] }));
      for (let rep = -2; rep < reps; rep++) {
        for (const [i, api] of apis.entries()) {
          const t0 = performance.now();
          const runId = await api.startRun(workflowIds[i]!, { i: 0 });
          const finished = await watchers[i]!.waitFor(runId);
          const { run } = await api.query<{ run: StoredRun }>(runStepsQuery, { id: runId });
          if (run.status !== 'SUCCEEDED' || run.steps.length !== n + 1) {
            throw new Error(`${shape} run ${runId} (${modes[i]}): ${run.status} with ${run.steps.length} steps`);
          }
          const base = await baseline(shape, n);
          if (rep < 0) continue; // reps -2 and -1 warm up (and let the worker threads start)
          samples[i]!.stored.push(makespan(run.steps));
          samples[i]!.endToEnd.push(finished.receivedAt - t0);
          samples[i]!.plain.push(base);
        }
      }
      const result = {} as Record<ExpressionMode, Measured>;
      for (const [i, mode] of modes.entries()) {
        const { stored, endToEnd, plain } = samples[i]!;
        result[mode] = { stored: median(stored), endToEnd: median(endToEnd), baseline: median(plain) };
      }
      return result;
    } finally {
      await Promise.all(watchers.map((watcher) => watcher.close()));
      await Promise.all(servers.map((server) => server.stop()));
    }
  });
}

async function benchShape(shape: Shape, n: number, targetMs: number) {
  const reps = smoke ? 2 : 15;
  const rows: (string | number)[][] = [];
  for (const driver of benchDrivers()) {
    const { bounded, workers, inline } = await measure(driver, shape, n, reps);
    rows.push([
      driver, n, `≤ ${targetMs}`, fmt(bounded.stored, 0), verdict(bounded.stored <= targetMs),
      fmt(workers.stored, 0), verdict(workers.stored <= targetMs), fmt(inline.stored, 0),
      `${fmt(bounded.stored / Math.max(inline.stored, 1), 2)}×`, `${fmt(workers.stored / Math.max(inline.stored, 1), 2)}×`,
      `${fmt(bounded.endToEnd)} / ${fmt(workers.endToEnd)} / ${fmt(inline.endToEnd)}`, fmt(inline.baseline, 2),
    ]);
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', n, `≤ ${targetMs}`, skippedPostgres, '', '', '', '', '', '', '', '']);
  const what = shape === 'chain' ? `trigger → ${n} transforms in a row` : `trigger → ${n} transforms side by side`;
  return {
    title: `${shape} — ${what}, through the API, every step persisted, bounded vs worker-only vs in-thread expressions, median of ${reps}`,
    table: table(
      [
        'database', 'transforms', 'target ms', 'makespan ms, bounded (Braid)', 'verdict', 'makespan ms, every expression in a worker',
        'verdict', 'makespan ms, in-thread (previous)', 'bounded / in-thread', 'workers / in-thread',
        'startRun → final update ms (bounded / workers / in-thread)', 'plain executor ms',
      ],
      rows,
    ),
    notes: [
      'makespan: first step startedAt → last step finishedAt, as stored (ms precision); the servers run in this process, ' +
        'one per column on a fresh database each, measured in turns (one run on each, round after round; two warm-up rounds).',
      `bounded: Braid as it ships — ${transformExpression} is in the inline whitelist (a path, arithmetic, an object ` +
        'constructor over 1 value), so it runs in the main thread; workers: the same server with every expression sent ' +
        'to the pool (what an expression outside the whitelist costs); in-thread: the previous approach, no bounds.',
      "startRun → final update: from sending startRun to receiving the run's final runUpdates message.",
      `plain executor: the same ${n} JSONata transforms (${transformExpression}) in a plain promise executor, no actors, ` +
        'database or API.',
    ],
    ...(shape === 'chain' ? { more: [await profileRoundTrip()] } : {}),
  };
}

export const benchChain = () => benchShape('chain', 40, 12);
export const benchFan = () => benchShape('fan', 100, 9);
