// `npm run bench [-- name…]`: runs the named benchmarks (all by default) and prints their tables.
import { benchEngine } from './engine.js';
import { benchRunStore } from './run-store.js';

const benchmarks: Record<string, () => Promise<{ title: string; table: string; notes: string[] }>> = {
  engine: benchEngine,
  'run-store': benchRunStore,
};

const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
for (const name of chosen) if (!benchmarks[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);

console.log(`# Braid benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
for (const name of chosen.length ? chosen : Object.keys(benchmarks)) {
  const result = await benchmarks[name]!();
  console.log(`\n## ${result.title}\n\n${result.table}\n`);
  for (const note of result.notes) console.log(`- ${note}`);
}
