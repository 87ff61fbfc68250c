// `npm run bench [-- name…]`: runs the named benchmarks (all by default) and prints their tables.
import { benchChain, benchFan } from './chain-fan.js';
import { benchEngine } from './engine.js';
import { benchFootprint } from './footprint.js';
import { benchFairness } from './fairness.js';
import { benchRecovery } from './recovery.js';
import { benchRetention } from './retention.js';
import { benchRunStore } from './run-store.js';
import { benchScale } from './scale.js';
import { benchSeed } from './seed.js';
import { benchSubscribers } from './subscribers.js';
import { benchThroughput } from './throughput.js';
import { benchUi } from './ui.js';

interface Section {
  title: string;
  table: string;
  notes: string[];
}

/** A benchmark's output: its table, and `more` tables (printed under it as ### sections). */
const benchmarks: Record<string, () => Promise<Section & { more?: Section[] }>> = {
  engine: benchEngine,
  'run-store': benchRunStore,
  seed: benchSeed,
  chain: benchChain,
  fan: benchFan,
  throughput: benchThroughput,
  subscribers: benchSubscribers,
  scale: benchScale,
  recovery: benchRecovery,
  footprint: benchFootprint,
  ui: benchUi,
  retention: benchRetention,
  fairness: benchFairness,
};

const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
for (const name of chosen) if (!benchmarks[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);

console.log(`# Braid benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
const failed: string[] = [];
for (const name of chosen.length ? chosen : Object.keys(benchmarks)) {
  try {
    const t0 = performance.now();
    const result = await benchmarks[name]!();
    console.log(`\n## ${result.title}\n\n${result.table}\n`);
    for (const note of result.notes) console.log(`- ${note}`);
    for (const more of result.more ?? []) {
      console.log(`\n### ${more.title}\n\n${more.table}\n`);
      for (const note of more.notes) console.log(`- ${note}`);
    }
    console.log(`- (${name} took ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  } catch (error) {
    // One broken benchmark does not hide the others' tables; the run still fails at the end.
    failed.push(name);
    console.log(`\n## ${name} — FAILED\n`);
    console.error(error);
  }
}
if (failed.length) {
  console.error(`\nbenchmarks that failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
