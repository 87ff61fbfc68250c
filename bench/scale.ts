// `scale`: fan-outs of 1,000, 10,000 and 100,000 transforms through the API, side by side in one server:
// each must complete, time must grow linearly (each size within 12× of the one 10× smaller) and the
// server's RSS must stay under 1.5 GB. The server runs in a child process so that its RSS is its own.
import { createApi, watchRuns } from './client.js';
import { benchDrivers, skippedPostgres, withDatabase } from './databases.js';
import { peakRss, scaleRun, type ScaleRun } from './scale-run.js';
import { benchEnv, startServerProcess } from './server-launch.js';
import { fmt, median, smoke, table, verdict } from './stats.js';
import { fanDefinition } from './workflows.js';

const maxTimeRatio = 12;
const maxRssMb = 1536;
const mb = (bytes: number) => bytes / 1024 / 1024;
/** The most nodes a definition may run at once (settings.maxConcurrency's ceiling). */
const maxConcurrency = 10_000;

/** Sizes, smallest first, each 10× the one before; repetitions per size (the largest is costly). */
function plan(): { sizes: number[]; reps: number[] } {
  const sizes = process.env.BENCH_SCALE_SIZES?.split(',').map(Number);
  if (sizes) return { sizes, reps: sizes.map((_, i) => (i === sizes.length - 1 ? 1 : 3)) };
  return smoke ? { sizes: [20, 200, 2000], reps: [2, 2, 2] } : { sizes: [1000, 10_000, 100_000], reps: [5, 3, 3] };
}

/**
 * The server's settings: the bench's, with the definition limits (and the engine's ceiling with them)
 * raised to the largest fan-out (its trigger makes it one node more than the engine's default).
 */
function scaleEnv(env: Record<string, string>, largest: number): Record<string, string> {
  return { ...env, MAX_DEFINITION_NODES: String(Math.max(20_000, largest + 1)), MAX_DEFINITION_EDGES: String(Math.max(40_000, largest)) };
}

/** Medians over the runs that completed; NaN when none did. */
function summarize(runs: ScaleRun[]) {
  const done = runs.flatMap((r) => (r.ok ? [r] : []));
  const mid = (values: number[]) => (values.length ? median(values) : NaN);
  return {
    completed: `${done.length}/${runs.length}`,
    all: done.length === runs.length,
    errors: runs.flatMap((r) => (r.ok ? [] : [r.error])),
    time: mid(done.map((r) => r.time)),
    phases: [mid(done.map((r) => r.lead)), mid(done.map((r) => r.makespan)), mid(done.map((r) => r.tail))],
    longestStep: done.reduce((longest, r) => Math.max(longest, r.longestStep), 0),
  };
}

async function measure(driver: 'pglite' | 'postgres', sizes: number[], reps: number[]) {
  return withDatabase(driver, async (spec) => {
    const largest = sizes[sizes.length - 1]!;
    const server = await startServerProcess(scaleEnv(benchEnv(spec), largest));
    const api = createApi(server);
    const watcher = watchRuns(api);
    try {
      const workflows: string[] = [];
      const createMs: number[] = [];
      for (const n of sizes) {
        const t0 = performance.now();
        workflows.push(await api.createWorkflow(`fan-${n}`, { ...fanDefinition(n), settings: { maxConcurrency: Math.min(n, maxConcurrency) } }));
        createMs.push(performance.now() - t0);
      }
      await watcher.ready();
      const before = await server.rss();
      const results = [];
      // Smallest first; each size warmed up by one run of it (its graph compiled and cached, the code hot).
      for (const [i, n] of sizes.entries()) {
        const warm = await peakRss(server, () => scaleRun(api, watcher, workflows[i]!, n));
        const runs: ScaleRun[] = [];
        let peak = warm.peak;
        for (let rep = 0; rep < reps[i]!; rep++) {
          const measured = await peakRss(server, () => scaleRun(api, watcher, workflows[i]!, n));
          runs.push(measured.result);
          peak = Math.max(peak, measured.peak);
        }
        results.push({ n, create: createMs[i]!, peak, ...summarize([warm.result, ...runs].slice(1)), warmError: warm.result.ok ? null : warm.result.error });
      }
      return { results, before: mb(before) };
    } finally {
      await watcher.close();
      await server.stop();
    }
  });
}

export async function benchScale() {
  const { sizes, reps } = plan();
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const driver of benchDrivers()) {
    const m = await measure(driver, sizes, reps);
    m.results.forEach((r, i) => {
      const smaller = m.results[i - 1];
      const ratio = smaller ? r.time / smaller.time : NaN;
      const peakMb = mb(r.peak);
      rows.push([
        driver, r.n.toLocaleString('en'), `${r.completed}`, verdict(r.all && r.warmError === null), fmt(r.create, 0), fmt(r.time, 0),
        smaller ? `${fmt(ratio)}× (≤ ${maxTimeRatio}×)` : '—', smaller ? verdict(ratio <= maxTimeRatio) : '',
        r.phases.map((ms) => fmt(ms, 0)).join(' / '), fmt(r.longestStep, 0),
        i === 0 ? fmt(m.before, 0) : '', `${fmt(peakMb, 0)} (≤ ${maxRssMb})`, verdict(peakMb <= maxRssMb),
      ]);
      for (const error of [...(r.warmError ? [r.warmError] : []), ...r.errors]) notes.push(`failed: ${driver}: ${error}`);
    });
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', skippedPostgres, '', '', '', '', '', '', '', '', '', '', '']);
  const counts = sizes.map((n) => n.toLocaleString('en')).join(' vs ');
  return {
    title: `scale — fan-out of ${counts} transforms through the API, medians of ${reps.join(', ')} runs`,
    table: table(
      [
        'database', 'nodes', 'completed', 'verdict', 'createWorkflow ms', 'run ms', 'vs 10× fewer', 'verdict',
        'to 1st step / makespan / to final update ms', 'longest step ms', 'RSS before MB', 'peak RSS MB', 'verdict',
      ],
      rows,
    ),
    notes: [
      'run ms: startRun sent → final runUpdates message received (median), in three phases: startRun sent → first step ' +
        'startedAt; the makespan (first step startedAt → last step finishedAt, as stored); last step finishedAt → final update.',
      'createWorkflow ms: the definition sent, validated and stored (one request, no repetition).',
      'completed: runs that ended SUCCEEDED with every step SUCCEEDED (read through the API); times are over those. Each ' +
        'size runs once first to warm up (not counted, but its failure is reported).',
      `the fan-out runs min(n, ${maxConcurrency.toLocaleString('en')}) nodes at once (settings.maxConcurrency's ceiling).`,
      `the server's MAX_DEFINITION_NODES / MAX_DEFINITION_EDGES are raised to the largest size (${sizes.at(-1)! + 1} ` +
        'nodes with its trigger), and the engine\'s own ceiling with them; MAX_BODY_BYTES 64 MiB and MAX_QUERY_COST ' +
        '1,000,000 as for every benchmark.',
      "RSS: the server's (a child process), sampled every 20 ms; peak = the highest during that size's runs (warm-up " +
        'included); sizes run smallest first in one server, so a peak includes what earlier runs left.',
      'longest step: the longest startedAt → finishedAt of one step in a completed run (interleaved JSONata evaluations ' +
        'share one wall clock).',
      ...notes,
    ],
  };
}
