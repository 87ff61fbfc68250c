// `chain` and `fan`: trigger → 40 transforms in a row / 100 side by side, started through the API with
// every step persisted; the makespan is read from the stored steps. Baseline: the same JSONata
// transforms in a plain promise executor (no actors, no database, no API) in this process.
import jsonata from 'jsonata';
import { benchDrivers, skippedPostgres, withDatabase } from './databases.js';
import { createApi, watchRuns } from './client.js';
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

async function measure(driver: 'pglite' | 'postgres', shape: Shape, n: number, reps: number) {
  return withDatabase(driver, async (spec) => {
    const server = await startServer(benchEnv(spec));
    const api = createApi(server);
    const watcher = watchRuns(api);
    try {
      const definition = shape === 'chain' ? chainDefinition(n) : fanDefinition(n);
      const workflowId = await api.createWorkflow(`${shape}-${n}`, definition);
      await watcher.ready();
      const stored: number[] = [];
      const endToEnd: number[] = [];
      const plain: number[] = [];
      for (let rep = -1; rep < reps; rep++) {
        const t0 = performance.now();
        const runId = await api.startRun(workflowId, { i: 0 });
        const finished = await watcher.waitFor(runId);
        const { run } = await api.query<{ run: StoredRun }>(runStepsQuery, { id: runId });
        if (run.status !== 'SUCCEEDED' || run.steps.length !== n + 1) {
          throw new Error(`${shape} run ${runId}: ${run.status} with ${run.steps.length} steps`);
        }
        const base = await baseline(shape, n);
        if (rep < 0) continue; // rep -1 warms up
        stored.push(makespan(run.steps));
        endToEnd.push(finished.receivedAt - t0);
        plain.push(base);
      }
      return { stored: median(stored), endToEnd: median(endToEnd), baseline: median(plain) };
    } finally {
      await watcher.close();
      await server.stop();
    }
  });
}

async function benchShape(shape: Shape, n: number, targetMs: number) {
  const reps = smoke ? 2 : 15;
  const rows: (string | number)[][] = [];
  for (const driver of benchDrivers()) {
    const m = await measure(driver, shape, n, reps);
    rows.push([
      driver, n, `≤ ${targetMs}`, fmt(m.stored, 0), verdict(m.stored <= targetMs),
      fmt(m.endToEnd), fmt(m.baseline, 2), `${fmt(m.stored / Math.max(m.baseline, 0.01))}×`,
    ]);
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', n, `≤ ${targetMs}`, skippedPostgres, '', '', '', '']);
  const what = shape === 'chain' ? `trigger → ${n} transforms in a row` : `trigger → ${n} transforms side by side`;
  return {
    title: `${shape} — ${what}, through the API, every step persisted, median of ${reps}`,
    table: table(
      [
        'database', 'transforms', 'target ms', 'makespan ms (stored steps)', 'verdict', 'startRun → final update ms',
        'baseline ms', 'makespan / baseline',
      ],
      rows,
    ),
    notes: [
      'makespan: first step startedAt → last step finishedAt, as stored (ms precision); the server runs in this process.',
      "startRun → final update: from sending startRun to receiving the run's final runUpdates message.",
      `baseline: the same ${n} JSONata transforms (${transformExpression}) in a plain promise executor, no actors, ` +
        'database or API.',
    ],
  };
}

export const benchChain = () => benchShape('chain', 40, 12);
export const benchFan = () => benchShape('fan', 100, 9);
