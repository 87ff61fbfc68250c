// `engine`: the actor engine (every node a spawned actor) against the minimal executor (a counter of
// unsettled predecessors per node, one promise per node) on no-op fan-outs and chains.
import { z } from 'zod';
import {
  compileWorkflow,
  createEngine,
  createNodeRegistry,
  type NodeType,
  type RunStore,
  type WorkflowDefinitionInput,
} from '../src/engine/index.js';
import { fmt, median, smoke, table } from './stats.js';

const noop: NodeType = {
  type: 'noop',
  description: 'does nothing',
  params: z.object({}),
  run: async () => ({ output: null }),
};

// The engine's own cost: commits are taken and dropped (the store benchmarks are `chain`/`fan`).
const nullStore: RunStore = { commit: async () => undefined };

type Shape = 'fan-out' | 'chain';

function definition(shape: Shape, n: number): WorkflowDefinitionInput {
  const nodes = [{ id: 't', type: 'trigger' }, ...Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'noop' }))];
  const edges = Array.from({ length: n }, (_, i) => ({ source: shape === 'chain' && i > 0 ? `n${i - 1}` : 't', target: `n${i}` }));
  return { nodes, edges, settings: { maxConcurrency: 10_000 } };
}

/** The minimal executor: per node, a counter of unsettled predecessors and one promise. */
function baseline(successors: number[][], predecessors: number[], work: () => Promise<unknown>): Promise<void> {
  const remaining = Int32Array.from(predecessors);
  let settled = 0;
  return new Promise((resolve) => {
    const start = (node: number) => {
      work().then(() => {
        if (++settled === successors.length) resolve();
        for (const next of successors[node]!) if (--remaining[next]! === 0) start(next);
      });
    };
    start(0);
  });
}

export async function benchEngine() {
  const sizes = smoke ? [100, 1000] : [100, 1000, 10_000];
  const reps = smoke ? 2 : 7;
  const engine = createEngine({ store: nullStore, registry: createNodeRegistry([noop]) });
  const rows: (string | number)[][] = [];
  const perNode = new Map<string, number>();
  let runs = 0;
  for (const shape of ['fan-out', 'chain'] as const) {
    for (const n of sizes) {
      const graph = compileWorkflow(definition(shape, n), engine.registry);
      const successors = graph.nodes.map((node) => node.outgoing.map((e) => e.target.index));
      const predecessors = graph.nodes.map((node) => node.incoming.length);
      const engineTimes: number[] = [];
      const baselineTimes: number[] = [];
      for (let rep = -1; rep < reps; rep++) {
        let t0 = performance.now();
        await engine.startRun({ runId: `r${runs++}`, graph, input: null }).done;
        const engineMs = performance.now() - t0;
        t0 = performance.now();
        await baseline(successors, predecessors, () => noop.run({}, undefined as never));
        const baselineMs = performance.now() - t0;
        if (rep >= 0) engineTimes.push(engineMs), baselineTimes.push(baselineMs); // rep -1 warms up
      }
      const nodes = n + 1;
      const e = (median(engineTimes) * 1000) / nodes;
      const b = (median(baselineTimes) * 1000) / nodes;
      perNode.set(`${shape}:${n}`, median(engineTimes));
      rows.push([shape, n, fmt(e), fmt(b, 2), `${fmt(e / b)}×`]);
    }
  }
  const growth = (['fan-out', 'chain'] as const)
    .filter(() => sizes.includes(10_000))
    .map((shape) => `${shape}: time(10,000)/time(1,000) = ${fmt(perNode.get(`${shape}:10000`)! / perNode.get(`${shape}:1000`)!)}`);
  return {
    title: `engine — actor engine vs minimal executor, no-op nodes, median of ${reps}`,
    table: table(['shape', 'N', 'engine µs/node', 'baseline µs/node', 'ratio'], rows),
    notes: growth,
  };
}
