// What one expression costs where it runs: inline (the whitelist), in the previous in-thread way, and
// a round trip to a worker thread (sequential and 100 at once); what a large `$nodes` adds to the
// message and how much sending only the outputs an expression reads saves; a cold thread's start.
import { createExpressionEvaluator } from '../src/engine/expression-evaluator.js';
import { createExpressionPool } from '../src/engine/expression-pool.js';
import type { ExpressionScope } from '../src/engine/expressions.js';
import { fmt, median, smoke, table } from './stats.js';
import { transformExpression } from './workflows.js';

const scope: ExpressionScope = { input: { i: 0 }, nodes: {}, run: { id: 'r', input: { i: 0 } } };

/** Median over `batches` of the mean µs per call of `n` calls of `once` (sequential, or all at once). */
async function perCall(once: () => Promise<unknown>, n: number, together = false, batches = smoke ? 2 : 7): Promise<number> {
  const samples: number[] = [];
  for (let b = -1; b < batches; b++) {
    const t0 = performance.now();
    if (together) await Promise.all(Array.from({ length: n }, once));
    else for (let i = 0; i < n; i++) await once();
    if (b >= 0) samples.push(((performance.now() - t0) * 1000) / n);
  }
  return median(samples);
}

/** A run's `$nodes` after `count` nodes each output ~1 KB. */
function bigNodes(count: number): Record<string, unknown> {
  const output = { i: 1, text: 'x'.repeat(900), list: Array.from({ length: 10 }, (_, k) => k) };
  return Object.fromEntries(Array.from({ length: count }, (_, k) => [`n${k}`, { ...output, i: k }]));
}

export async function profileRoundTrip() {
  const n = smoke ? 50 : 500;
  const rows: (string | number)[][] = [];
  const bounded = createExpressionEvaluator({ mode: 'bounded' });
  const inThread = createExpressionEvaluator({ mode: 'inline' });
  rows.push(['inline (whitelist), bounded evaluator', transformExpression, fmt(await perCall(() => bounded.evaluate(transformExpression, scope), n))]);
  rows.push(['in-thread (previous)', transformExpression, fmt(await perCall(() => inThread.evaluate(transformExpression, scope), n))]);

  // The worst the whitelist admits: astSize × values at the budget (4096), here 29 nodes × 141 values.
  const items = Array.from({ length: 28 }, (_, k) => ({ a: k, b: k % 7, c: k % 2 ? 'x' : 'y', d: k % 3 }));
  const heavy = '$count($input.items[a > 1 and b < 5 and c = "x" and d != 2 and a + b > 3 and (a * 2 - b) % 3 = 0])';
  const heavyScope = { ...scope, input: { items } };
  rows.push(['inline at the budget (28 items × 5 values, 29 syntax nodes)', heavy, fmt(await perCall(() => bounded.evaluate(heavy, heavyScope), n))]);

  const t0 = performance.now();
  const workers = createExpressionEvaluator({ mode: 'workers', limits: { workers: 2 } });
  const pool = createExpressionPool({ memoryMb: 64, workers: 2 });
  const never = new AbortController().signal;
  await pool.run({ source: '1', input: null, nodes: {}, resultBytes: 1024 }, never);
  const coldMs = performance.now() - t0;
  await workers.evaluate('1', scope);
  rows.push(['worker round trip, one at a time', transformExpression, fmt(await perCall(() => workers.evaluate(transformExpression, scope), n))]);
  rows.push(['worker, 100 at once (per evaluation, 2 threads)', transformExpression, fmt(await perCall(() => workers.evaluate(transformExpression, scope), 100, true))]);

  // Message size: a run 1,000 nodes in, each output ~1 KB.
  const nodes = bigNodes(1000);
  const full = { source: '$nodes.n5.i + 1', input: { i: 0 }, nodes, resultBytes: 1 << 20 };
  const narrowed = { ...full, nodes: { n5: nodes.n5 } };
  rows.push(['structuredClone of the task, all 1,000 outputs (≈1 MB)', full.source, fmt(await perCall(async () => structuredClone(full), 50))]);
  rows.push(['structuredClone of the task, the 1 output it reads', full.source, fmt(await perCall(async () => structuredClone(narrowed), n))]);
  rows.push(['worker round trip sending all 1,000 outputs', full.source, fmt(await perCall(() => pool.run(full, never), 50))]);
  rows.push(['worker round trip sending the 1 output it reads (what Braid sends)', full.source, fmt(await perCall(() => pool.run(narrowed, never), n))]);
  await Promise.all([pool.close(), workers.close(), bounded.close(), inThread.close()]);
  return {
    title: `expression round trip — µs per evaluation, median of ${smoke ? 2 : 7} batches`,
    table: table(['where', 'expression', 'µs per evaluation'], rows),
    notes: [
      'In this process (the bench), no server; each row includes compiling once (cached), the result-size check and the ' +
        'JSON copy of the result.',
      'worker: piscina, 2 threads, heap 64 MB, an AbortController and a timer per evaluation; the message is the source, ' +
        '$input and only the $nodes outputs the expression names ($nodes.<id>…; all of them if it uses $nodes otherwise or $eval).',
      `a cold pool (2 threads) answered its first evaluation ${fmt(coldMs, 0)} ms after it was created; a server ` +
        'starts its threads with the engine, and a thread terminated for a limit is replaced in the background.',
    ],
  };
}
