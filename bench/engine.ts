// `engine`: the actor engine (every node a spawned actor) against the minimal executor (a counter of
// unsettled predecessors per node, one promise per node) on no-op fan-outs and chains. A third
// column, the XState floor, runs the same shape as bare XState actors doing nothing, to show how
// much of the engine's cost is XState's own.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createActor, toPromise, type ActorLogic, type AnyActorRef, type Snapshot } from 'xstate';
import { z } from 'zod';
import {
  compileWorkflow,
  createEngine,
  createNodeRegistry,
  type NodeType,
  type RunStore,
  type WorkflowDefinitionInput,
} from '../src/engine/index.js';
import { fmt, median, smoke, table, verdict } from './stats.js';

const noop: NodeType = {
  type: 'noop',
  description: 'does nothing',
  params: z.object({}),
  run: async () => ({ output: null }),
};

// The engine's own cost: commits are taken and dropped (the store benchmarks are `chain`/`fan`).
const nullStore: RunStore = { commit: async () => undefined };

// Every timed run starts from a collected heap, so that no side pays for the garbage of the run
// before it (the baseline used to absorb the engine's GC debt, which swung it 0.13–1.2 µs/node).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

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

/** A do-nothing actor: done one promise tick after it starts. */
const bareNode: ActorLogic<Snapshot<undefined>, { type: 'finished' }, undefined> = {
  getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
  start: (_snapshot, { self }) => void noop.run({}, undefined as never).then(() => self.send({ type: 'finished' })),
  transition: () => ({ status: 'done', output: undefined, error: undefined }),
  getPersistedSnapshot: (snapshot) => snapshot,
};

/**
 * The XState floor: a root actor that, like the run actor, creates one actor per node with itself as
 * parent and starts each successor when its predecessors are done; no scheduler, events or commits.
 */
function xstateFloor(successors: number[][], predecessors: number[]): Promise<unknown> {
  type FloorSnapshot = Snapshot<undefined> & { remaining: Int32Array; settled: number };
  const spawn = (self: AnyActorRef, node: number) => createActor(bareNode, { parent: self, id: `n${node}` }).start();
  const root: ActorLogic<FloorSnapshot, { type: string }> = {
    getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined, remaining: Int32Array.from(predecessors), settled: 0 }),
    start: (_snapshot, { self }) => void spawn(self, 0),
    transition(snapshot, event, { self }) {
      const node = Number(event.type.slice('xstate.done.actor.n'.length));
      for (const next of successors[node]!) if (--snapshot.remaining[next]! === 0) spawn(self, next);
      if (++snapshot.settled < successors.length) return snapshot;
      return { status: 'done', output: undefined, error: undefined, remaining: snapshot.remaining, settled: snapshot.settled };
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  return toPromise(createActor(root).start());
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  collect();
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

export async function benchEngine() {
  const sizes = smoke ? [100, 1000] : [100, 1000, 10_000];
  const reps = smoke ? 2 : 9;
  const engine = createEngine({ store: nullStore, registry: createNodeRegistry([noop]) });
  const rows: (string | number)[][] = [];
  const engineMs = new Map<string, number>();
  const notes: string[] = [];
  let runs = 0;
  for (const shape of ['fan-out', 'chain'] as const) {
    for (const n of sizes) {
      const graph = compileWorkflow(definition(shape, n), engine.registry);
      const successors = graph.nodes.map((node) => node.outgoing.map((e) => e.target.index));
      const predecessors = graph.nodes.map((node) => node.incoming.length);
      const times = { engine: [] as number[], floor: [] as number[], baseline: [] as number[] };
      for (let rep = -1; rep < reps; rep++) {
        const e = await timed(() => engine.startRun({ runId: `r${runs++}`, graph, input: null }).done);
        const f = await timed(() => xstateFloor(successors, predecessors));
        const b = await timed(() => baseline(successors, predecessors, () => noop.run({}, undefined as never)));
        if (rep >= 0) times.engine.push(e), times.floor.push(f), times.baseline.push(b); // rep -1 warms up
      }
      const perNode = (ms: number[]) => (median(ms) * 1000) / (n + 1);
      const [e, f, b] = [perNode(times.engine), perNode(times.floor), perNode(times.baseline)];
      engineMs.set(`${shape}:${n}`, median(times.engine));
      rows.push([shape, n, fmt(e), fmt(f), fmt(b, 2), `${fmt(e / b)}×`, `${fmt(f / b)}×`]);
      if (n === 10_000) notes.push(`${shape} at 10,000: engine ≤ 30× baseline — ${verdict(e / b <= 30)} (${fmt(e / b)}×; the XState floor alone is ${fmt(f / b)}×)`);
    }
  }
  for (const shape of ['fan-out', 'chain'] as const) {
    if (!sizes.includes(10_000)) continue;
    const growth = engineMs.get(`${shape}:10000`)! / engineMs.get(`${shape}:1000`)!;
    notes.push(`${shape}: time(10,000)/time(1,000) = ${fmt(growth)} (≤ 12 — ${verdict(growth <= 12)})`);
  }
  return {
    title: `engine — actor engine vs bare XState actors vs minimal executor, no-op nodes, median of ${reps}, heap collected before each run`,
    table: table(['shape', 'N', 'engine µs/node', 'XState floor µs/node', 'baseline µs/node', 'ratio', 'floor ratio'], rows),
    notes,
  };
}
