// Runs one workflow on a real engine with controlled nodes, a manual clock and the memory store.
import {
  compileWorkflow,
  createEngine,
  createMemoryStore,
  createNodeRegistry,
  type NodeType,
  type RunEvent,
  type WorkflowDefinitionInput,
} from '../../src/engine/index.js';
import { createControlledNodes } from './controlled-nodes.js';
import { createManualClock } from './manual-clock.js';

export function startTestRun(definition: WorkflowDefinitionInput, options: { input?: unknown; types?: NodeType[] } = {}) {
  const nodes = createControlledNodes();
  const store = createMemoryStore();
  const clock = createManualClock();
  const published: RunEvent[] = [];
  const engine = createEngine({
    store,
    registry: createNodeRegistry([...nodes.types, ...(options.types ?? [])]),
    clock,
    random: () => 0.5,
    onCommitted: (commit) => published.push(...commit.events),
  });
  const graph = compileWorkflow(definition, engine.registry);
  const handle = engine.startRun({ runId: 'run-1', graph, input: options.input ?? { hello: 'world' } });
  const stored = () => store.get('run-1')!;
  return {
    nodes,
    clock,
    engine,
    store,
    published,
    done: handle.done,
    stored,
    /** The stored step of a node. */
    step: (nodeId: string) => stored().steps.get(nodeId)!,
    /** Node id → stored status. */
    statuses: () => Object.fromEntries([...stored().steps].map(([id, step]) => [id, step.status])),
    events: (type?: RunEvent['type']) => stored().events.filter((e) => !type || e.type === type),
  };
}
