// `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`: what dominated a `node --cpu-prof` profile —
// self time per function (file:line) and per package or src/ folder, as shares of the sampled time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
// Several profiles (a glob matching worker threads too): the first is the main thread's.
if (!file) throw new Error('usage: bench/profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** A short location: the package (node_modules/<pkg>), src/<folder>/<file>, or node:internal. */
function where(url: string): { file: string; group: string } {
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return { file: path.slice(path.lastIndexOf('node_modules/') + 13), group: pkg[1]! };
  const src = /\/(src|bench|test)\/(.*)$/.exec(path);
  if (src) return { file: `${src[1]}/${src[2]}`, group: `${src[1]}/${src[2]!.split('/').slice(0, -1).join('/') || '.'}` };
  if (path.startsWith('node:')) return { file: path, group: 'node:internal' };
  return { file: path || '(native)', group: path ? path : '(native/gc/idle)' };
}

const byFunction = new Map<string, number>();
const byGroup = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const { file: location, group } = where(url);
  const key = `${functionName || '(anonymous)'}  ${location}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byGroup.set(group, (byGroup.get(group) ?? 0) + us);
}

// Inclusive time: every function on a sample's stack (once per stack, whatever the recursion) gets it.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const keyOf = new Map<number, { key: string; group: string }>();
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const { file: location, group } = where(url);
  keyOf.set(node.id, { key: `${functionName || '(anonymous)'}  ${location}${url ? `:${lineNumber + 1}` : ''}`, group });
}
const inclusive = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const { key, group } = keyOf.get(at)!;
    if (!group.startsWith('src/') || seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
});

const show = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  }
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
show('self time by function', byFunction);
show('self time by package / folder', byGroup);
show('inclusive time of src/ functions (themselves and what they call)', inclusive);
