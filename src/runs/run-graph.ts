// What a dashboard reads off a run's stored rows: the state of each edge of its workflow version
// (decided as the engine decides it: live out of a SUCCEEDED node whose handle it carries, dead out
// of any other settled node) and the timing of a finished run (critical path, work, parallelism).
import type { StepRow } from '../db/schema.js';

export type EdgeState = 'PENDING' | 'LIVE' | 'DEAD';

export interface DefinitionEdge {
  source: string;
  target: string;
  sourceHandle: string | null;
}

export interface RunEdge extends DefinitionEdge {
  state: EdgeState;
}

export interface RunTiming {
  criticalPath: string[];
  criticalPathMs: number;
  workMs: number;
  parallelism: number;
}

const settled: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);

/** The node ids and edges of a stored definition (already validated when it was stored). */
export function definitionGraph(definition: unknown): { nodeIds: string[]; edges: DefinitionEdge[] } {
  const shape = (definition ?? {}) as { nodes?: { id?: unknown }[]; edges?: { source?: unknown; target?: unknown; sourceHandle?: unknown }[] };
  const nodeIds = (shape.nodes ?? []).map((node) => String(node.id));
  const edges = (shape.edges ?? []).map((edge) => ({
    source: String(edge.source),
    target: String(edge.target),
    sourceHandle: typeof edge.sourceHandle === 'string' ? edge.sourceHandle : null,
  }));
  return { nodeIds, edges };
}

/**
 * Each edge's state from the steps: PENDING while its source has not settled; LIVE when the source
 * SUCCEEDED and the edge names no handle or the handle the source chose; DEAD otherwise.
 */
export function edgeStates(edges: readonly DefinitionEdge[], steps: readonly StepRow[]): RunEdge[] {
  const byNode = new Map(steps.map((step) => [step.nodeId, step]));
  return edges.map((edge) => {
    const source = byNode.get(edge.source);
    let state: EdgeState = 'PENDING';
    if (source && settled.has(source.status)) {
      const live = source.status === 'SUCCEEDED' && (edge.sourceHandle === null || edge.sourceHandle === source.handle);
      state = live ? 'LIVE' : 'DEAD';
    }
    return { ...edge, state };
  });
}

const stepMs = (step: StepRow | undefined) =>
  step?.startedAt && step.finishedAt ? Math.max(0, step.finishedAt.getTime() - step.startedAt.getTime()) : 0;

/**
 * The longest chain of step durations through the graph (nodes that never ran weigh 0 and are left
 * out of the path), its length, the sum of every step's duration, and work over the run's duration.
 */
export function runTiming(
  graph: { nodeIds: readonly string[]; edges: readonly DefinitionEdge[] },
  steps: readonly StepRow[],
  runDurationMs: number,
): RunTiming {
  const byNode = new Map(steps.map((step) => [step.nodeId, step]));
  const ran = (id: string) => {
    const step = byNode.get(id);
    return step?.startedAt != null && step.finishedAt != null;
  };
  const incoming = new Map<string, string[]>(graph.nodeIds.map((id) => [id, []]));
  const outgoing = new Map<string, string[]>(graph.nodeIds.map((id) => [id, []]));
  const pending = new Map<string, number>(graph.nodeIds.map((id) => [id, 0]));
  for (const edge of graph.edges) {
    if (!ran(edge.source) || !ran(edge.target)) continue;
    incoming.get(edge.target)?.push(edge.source);
    outgoing.get(edge.source)?.push(edge.target);
    pending.set(edge.target, (pending.get(edge.target) ?? 0) + 1);
  }
  // Longest path in a DAG: nodes in topological order (Kahn), each taking its heaviest predecessor.
  const best = new Map<string, { ms: number; previous: string | null }>();
  const ready = graph.nodeIds.filter((id) => ran(id) && pending.get(id) === 0);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    let previous: string | null = null;
    let before = 0;
    for (const source of incoming.get(id) ?? []) {
      const ms = best.get(source)?.ms ?? 0;
      if (previous === null || ms > before) [previous, before] = [source, ms];
    }
    best.set(id, { ms: before + stepMs(byNode.get(id)), previous });
    for (const target of outgoing.get(id) ?? []) {
      const left = pending.get(target)! - 1;
      pending.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  let end: string | null = null;
  let criticalPathMs = 0;
  // Ties go to the node later in topological order: a chain goes on through steps that took no time (a merge).
  for (const [id, { ms }] of best) if (end === null || ms >= criticalPathMs) [end, criticalPathMs] = [id, ms];
  const criticalPath: string[] = [];
  for (let id = end; id !== null; id = best.get(id)!.previous) criticalPath.unshift(id);
  const workMs = steps.reduce((sum, step) => sum + stepMs(step), 0);
  return { criticalPath, criticalPathMs, workMs, parallelism: workMs / Math.max(runDurationMs, 1) };
}
