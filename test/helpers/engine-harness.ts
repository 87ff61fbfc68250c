// Runs one workflow on a real engine with controlled nodes, a manual clock and the memory store; and
// goes on with a stored run in a second engine, as a restarted process would.
import {
  compileWorkflow,
  createEngine,
  createMemoryStore,
  createNodeRegistry,
  type MemoryStore,
  type NodeType,
  type RestoredRun,
  type RunEvent,
  type WorkflowDefinitionInput,
} from '../../src/engine/index.js';
import { createControlledNodes } from './controlled-nodes.js';
import { createManualClock, type ManualClock } from './manual-clock.js';

export interface TestRunOptions {
  input?: unknown;
  types?: NodeType[];
  /** Go on from the run stored here (same clock), as a process that takes it over would. */
  resumeFrom?: { store: MemoryStore; clock: ManualClock; event?: RestoredRun['event']; retries?: number };
}

export function startTestRun(definition: WorkflowDefinitionInput, options: TestRunOptions = {}) {
  const nodes = createControlledNodes();
  const store = options.resumeFrom?.store ?? createMemoryStore();
  const clock = options.resumeFrom?.clock ?? createManualClock();
  const published: RunEvent[] = [];
  const engine = createEngine({
    store,
    registry: createNodeRegistry([...nodes.types, ...(options.types ?? [])]),
    clock,
    random: () => 0.5,
    onCommitted: (commit) => published.push(...commit.events),
  });
  const graph = compileWorkflow(definition, engine.registry);
  const restored = options.resumeFrom ? restoredFrom(store, options.resumeFrom.event ?? 'RUN_RESUMED') : undefined;
  const handle = engine.startRun({
    runId: 'run-1',
    graph,
    input: options.input ?? { hello: 'world' },
    retries: options.resumeFrom?.retries ?? 0,
    ...(restored ? { restored } : {}),
  });
  const stored = () => store.get('run-1')!;
  return {
    nodes,
    clock,
    engine,
    store,
    graph,
    published,
    done: handle.done,
    ended: handle.ended,
    stored,
    /** The stored step of a node. */
    step: (nodeId: string) => stored().steps.get(nodeId)!,
    /** Node id → stored status. */
    statuses: () => Object.fromEntries([...stored().steps].map(([id, step]) => [id, step.status])),
    events: (type?: RunEvent['type']) => stored().events.filter((e) => !type || e.type === type),
  };
}

/** What the memory store holds of run-1, as a process taking it over reads it. */
export function restoredFrom(store: MemoryStore, event: RestoredRun['event']): RestoredRun {
  const stored = store.get('run-1')!;
  return {
    run: { ...stored.run!, status: 'RUNNING', finishedAt: null },
    steps: [...stored.steps.values()],
    branches: [...stored.branches.values()],
    lastSeq: stored.events.length,
    event,
  };
}
