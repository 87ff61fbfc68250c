// Workflow definitions the server benchmarks run (CONTRACT §2 JSON form), and their step times.

export interface Definition {
  nodes: { id: string; type: string; params?: Record<string, unknown> }[];
  edges: { source: string; target: string }[];
  settings?: { maxConcurrency?: number };
}

/** What each benchmark transform computes: a small object from its input. */
export const transformExpression = '{ "i": $input.i + 1 }';

const transform = (id: string) => ({ id, type: 'transform', params: { expression: transformExpression } });

/** trigger → n transforms in a row. */
export function chainDefinition(n: number): Definition {
  const ids = Array.from({ length: n }, (_, i) => `t${i}`);
  return {
    nodes: [{ id: 'start', type: 'trigger' }, ...ids.map(transform)],
    edges: ids.map((id, i) => ({ source: i === 0 ? 'start' : ids[i - 1]!, target: id })),
  };
}

/** trigger → n transforms side by side (all of them at once: maxConcurrency n). */
export function fanDefinition(n: number): Definition {
  const ids = Array.from({ length: n }, (_, i) => `t${i}`);
  return {
    nodes: [{ id: 'start', type: 'trigger' }, ...ids.map(transform)],
    edges: ids.map((id) => ({ source: 'start', target: id })),
    settings: { maxConcurrency: Math.max(1, n) },
  };
}

/** trigger → one http node per URL, side by side. */
export function httpFanDefinition(urls: string[]): Definition {
  const ids = urls.map((_, i) => `call${i}`);
  return {
    nodes: [{ id: 'start', type: 'trigger' }, ...ids.map((id, i) => ({ id, type: 'http', params: { url: urls[i] } }))],
    edges: ids.map((id) => ({ source: 'start', target: id })),
    settings: { maxConcurrency: Math.max(1, urls.length) },
  };
}

export interface StoredStep {
  nodeId: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** First step's startedAt → last step's finishedAt, in ms (the stored times have ms precision). */
export function makespan(steps: StoredStep[]): number {
  const starts = steps.flatMap((s) => (s.startedAt ? [Date.parse(s.startedAt)] : []));
  const ends = steps.flatMap((s) => (s.finishedAt ? [Date.parse(s.finishedAt)] : []));
  if (starts.length !== steps.length || ends.length !== steps.length) throw new Error('a step has no start or end time');
  return Math.max(...ends) - Math.min(...starts);
}

export const runStepsQuery = `query($id: ID!) {
  run(id: $id) { status startedAt finishedAt steps { nodeId status startedAt finishedAt } }
}`;

export interface StoredRun {
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: StoredStep[];
}
