// Random workflow plans for property tests: DAGs of controlled tasks, choices and merges, a reference
// interpreter of CONTRACT §3 for them, and a driver that settles running nodes in a seeded random order.
import fc from 'fast-check';
import type { WorkflowDefinitionInput } from '../../src/engine/index.js';
import type { startTestRun } from './engine-harness.js';

export interface PlanNode {
  id: string;
  kind: 'trigger' | 'task' | 'choice' | 'merge';
  mergeMode: 'ALL' | 'ANY';
  fails: boolean;
  handle: 'x' | 'y';
  onError: 'FAIL' | 'CONTINUE';
}
export interface PlanEdge {
  source: number;
  target: number;
  handle: 'x' | 'y';
}
export interface Plan {
  nodes: PlanNode[];
  edges: PlanEdge[];
  errorStrategy: 'FAIL_FAST' | 'CONTINUE';
  maxConcurrency: number;
  seed: number;
}

export const planArbitrary: fc.Arbitrary<Plan> = fc
  .record({
    size: fc.integer({ min: 2, max: 12 }),
    triggers: fc.integer({ min: 1, max: 2 }),
    errorStrategy: fc.constantFrom('FAIL_FAST' as const, 'CONTINUE' as const),
    maxConcurrency: fc.integer({ min: 1, max: 5 }),
    seed: fc.integer(),
    kinds: fc.array(fc.constantFrom('task' as const, 'task' as const, 'choice' as const, 'merge' as const), { minLength: 12, maxLength: 12 }),
    modes: fc.array(fc.constantFrom('ALL' as const, 'ANY' as const), { minLength: 12, maxLength: 12 }),
    failures: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }).map((a) => a.map((f, i) => f && i % 3 === 0)),
    handles: fc.array(fc.constantFrom('x' as const, 'y' as const), { minLength: 12, maxLength: 12 }),
    onErrors: fc.array(fc.constantFrom('FAIL' as const, 'CONTINUE' as const), { minLength: 12, maxLength: 12 }),
    extraEdges: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('x' as const, 'y' as const)), { maxLength: 20 }),
    firstParents: fc.array(fc.tuple(fc.nat(), fc.constantFrom('x' as const, 'y' as const)), { minLength: 12, maxLength: 12 }),
  })
  .map((r) => {
    const triggers = Math.min(r.triggers, r.size - 1);
    const nodes: PlanNode[] = Array.from({ length: r.size }, (_, i) => ({
      id: `n${i}`,
      kind: i < triggers ? 'trigger' : r.kinds[i]!,
      mergeMode: r.modes[i]!,
      // Only the controlled node types fail; built-in merges always succeed.
      fails: i >= triggers && r.kinds[i] !== 'merge' && r.failures[i]!,
      handle: r.handles[i]!,
      onError: r.onErrors[i]!,
    }));
    const edges: PlanEdge[] = [];
    const key = (e: PlanEdge) => `${e.source}>${e.target}:${e.handle}`;
    const seen = new Set<string>();
    const add = (e: PlanEdge) => {
      if (nodes[e.source]!.kind !== 'choice') e.handle = 'x';
      if (!seen.has(key(e))) edges.push(e), seen.add(key(e));
    };
    // Every non-trigger node gets a parent before it, so every node is reachable and the graph acyclic.
    for (let i = triggers; i < r.size; i++) {
      const [parent, handle] = r.firstParents[i]!;
      add({ source: parent % i, target: i, handle });
    }
    for (const [a, b, handle] of r.extraEdges) {
      const source = a % r.size;
      const target = b % r.size;
      if (source < target && target >= triggers) add({ source, target, handle });
    }
    return { nodes, edges, errorStrategy: r.errorStrategy, maxConcurrency: r.maxConcurrency, seed: r.seed };
  });

export function toDefinition(plan: Plan): WorkflowDefinitionInput {
  return {
    nodes: plan.nodes.map((n) => ({
      id: n.id,
      type: n.kind,
      onError: n.onError,
      ...(n.kind === 'choice' ? { params: { handles: ['x', 'y'] } } : {}),
      ...(n.kind === 'merge' ? { params: { mode: n.mergeMode } } : {}),
    })),
    edges: plan.edges.map((e) => ({
      source: plan.nodes[e.source]!.id,
      target: plan.nodes[e.target]!.id,
      ...(plan.nodes[e.source]!.kind === 'choice' ? { sourceHandle: e.handle } : {}),
    })),
    settings: { errorStrategy: plan.errorStrategy, maxConcurrency: plan.maxConcurrency },
  };
}

/** The reference: nodes in index order (a topological order here), CONTRACT §3 rules, no timing. */
export function reference(plan: Plan): { statuses: Record<string, string>; failed: boolean } {
  const status: string[] = [];
  plan.nodes.forEach((node, i) => {
    const incoming = plan.edges.filter((e) => e.target === i);
    const live = incoming.filter((e) => {
      const source = plan.nodes[e.source]!;
      return status[e.source] === 'SUCCEEDED' && (source.kind !== 'choice' || source.handle === e.handle);
    }).length;
    const runs = node.kind === 'trigger' || (live > 0 && (node.kind !== 'merge' || node.mergeMode === 'ANY' || live === incoming.length));
    status[i] = !runs ? 'SKIPPED' : node.fails ? 'FAILED' : 'SUCCEEDED';
  });
  return {
    statuses: Object.fromEntries(plan.nodes.map((n, i) => [n.id, status[i]!])),
    failed: plan.nodes.some((n, i) => status[i] === 'FAILED' && n.onError === 'FAIL'),
  };
}

export const settledTypes = new Set(['NODE_SUCCEEDED', 'NODE_FAILED', 'NODE_SKIPPED', 'NODE_CANCELLED']);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Settles running nodes of `run` one at a time in the plan's seeded order (failing those the plan
 * fails) until the run is done, or until `releases` nodes were settled (then returns unfinished).
 */
export async function drive(plan: Plan, run: ReturnType<typeof startTestRun>, releases = Number.POSITIVE_INFINITY, seed = plan.seed) {
  let finished = false;
  void run.done.then(() => (finished = true));
  let random = seed >>> 0;
  const next = () => ((random = (Math.imul(random, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const released = new Set<string>();
  while (!finished && released.size < releases) {
    await tick();
    const running = plan.nodes.filter((n) => n.kind !== 'trigger' && !released.has(n.id) && run.nodes.isRunning(n.id));
    if (running.length === 0) {
      if (!finished) await tick();
      if (!finished && !plan.nodes.some((n) => run.nodes.isRunning(n.id) && !released.has(n.id))) {
        throw new Error(`stalled: ${JSON.stringify(run.statuses())}`);
      }
      continue;
    }
    const node = running[Math.floor(next() * running.length)]!;
    released.add(node.id);
    if (node.fails) run.nodes.fail(node.id);
    else run.nodes.succeed(node.id, `${node.id} out`, node.kind === 'choice' ? node.handle : undefined);
  }
  await tick();
  return finished;
}
