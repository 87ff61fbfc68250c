// Cycles and reachability over node indices, in linear time and without recursion (a definition may
// be a 100,000-node chain).

/** Directed edges between nodes 0..n-1: edge k goes from `sources[k]` to `targets[k]`. */
export interface IndexGraph {
  n: number;
  sources: readonly number[];
  targets: readonly number[];
}

/** A cycle: its nodes in edge order, and `edges[i]` the edge from `nodes[i]` to the next (wrapping). */
export interface Cycle {
  nodes: number[];
  edges: number[];
}

interface Adjacency {
  start: Int32Array;
  list: Int32Array;
}

const adjacencies = new WeakMap<readonly number[], Adjacency>();

/**
 * Edge indices grouped by one end (compressed sparse rows), in edge order: `list[start[v] .. start[v+1])`.
 * Memoized per array: the checks of one validation share them.
 */
function groupBy(n: number, ends: readonly number[]): Adjacency {
  const known = adjacencies.get(ends);
  if (known) return known;
  const start = new Int32Array(n + 1);
  for (const v of ends) start[v + 1]!++;
  for (let v = 0; v < n; v++) start[v + 1]! += start[v]!;
  const fill = start.slice(0, n);
  const list = new Int32Array(ends.length);
  ends.forEach((v, k) => (list[fill[v]!++] = k));
  adjacencies.set(ends, { start, list });
  return { start, list };
}

/** `[k, first]` for every edge k that repeats an earlier edge `first` (same source, target and handle). */
export function duplicateEdges(
  { n, sources, targets }: IndexGraph,
  handles: readonly (string | null)[],
): [number, number][] {
  const outgoing = groupBy(n, sources);
  const seenFrom = new Int32Array(n).fill(-1); // the source whose edges last reached each target
  const firstAt = new Int32Array(n); // where in that source's list the first edge to it sits
  const found: [number, number][] = [];
  for (let v = 0; v < n; v++) {
    for (let i = outgoing.start[v]!; i < outgoing.start[v + 1]!; i++) {
      const k = outgoing.list[i]!;
      const t = targets[k]!;
      if (seenFrom[t] !== v) {
        seenFrom[t] = v;
        firstAt[t] = i;
        continue;
      }
      for (let j = firstAt[t]!; j < i; j++) {
        const earlier = outgoing.list[j]!;
        if (targets[earlier] === t && handles[earlier] === handles[k]) {
          found.push([k, earlier]);
          break;
        }
      }
    }
  }
  return found.sort((a, b) => a[0] - b[0]);
}

/**
 * One cycle per strongly connected component that has one (so every independent cycle is named),
 * each starting at its lowest index. Components come from an iterative Tarjan; inside one, a walk
 * along predecessors of the same component must close a loop.
 */
export function findCycles(graph: IndexGraph): Cycle[] {
  const { n, sources, targets } = graph;
  if (isAcyclic(graph)) return [];
  const component = components(graph);
  const incoming = groupBy(n, targets);
  const size = new Int32Array(n);
  for (let v = 0; v < n; v++) size[component[v]!]!++;
  const selfLoop = new Uint8Array(n);
  sources.forEach((s, k) => s === targets[k] && (selfLoop[s] = 1));
  const cycles: Cycle[] = [];
  const reported = new Uint8Array(n); // by component
  const onWalk = new Uint8Array(n);
  const viaEdge = new Int32Array(n); // the edge a walk took into a node from its predecessor
  for (let from = 0; from < n; from++) {
    const c = component[from]!;
    if (reported[c] || (size[c] === 1 && !selfLoop[from])) continue;
    reported[c] = 1;
    const walk: number[] = [];
    let v = from;
    while (!onWalk[v]) {
      onWalk[v] = 1;
      walk.push(v);
      let edge = -1;
      for (let i = incoming.start[v]!; i < incoming.start[v + 1]! && edge < 0; i++) {
        if (component[sources[incoming.list[i]!]!] === c) edge = incoming.list[i]!;
      }
      viaEdge[v] = edge;
      v = sources[edge]!;
    }
    // The walk went backwards: walk[j] ← … ← walk[last] ← v = walk[j]. Forward: v → walk[last] → … → walk[j+1] → v.
    const nodes = [v, ...walk.slice(walk.indexOf(v) + 1).reverse()];
    cycles.push(rotate(nodes, nodes.map((_, i) => viaEdge[nodes[(i + 1) % nodes.length]!]!)));
  }
  return cycles;
}

/** Kahn's algorithm: whether peeling off nodes without inputs empties the graph (the common, cheap case). */
function isAcyclic({ n, sources, targets }: IndexGraph): boolean {
  const outgoing = groupBy(n, sources);
  const inputs = new Int32Array(n);
  for (const t of targets) inputs[t]!++;
  const queue = new Int32Array(n);
  let tail = 0;
  for (let v = 0; v < n; v++) if (inputs[v] === 0) queue[tail++] = v;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (let i = outgoing.start[v]!; i < outgoing.start[v + 1]!; i++) {
      const t = targets[outgoing.list[i]!]!;
      if (--inputs[t]! === 0) queue[tail++] = t;
    }
  }
  return tail === n;
}

/** Strongly connected component id of every node (Tarjan's algorithm with an explicit call stack). */
function components({ n, targets, sources }: IndexGraph): Int32Array {
  const outgoing = groupBy(n, sources);
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const component = new Int32Array(n).fill(-1);
  const cursor = new Int32Array(n);
  const open: number[] = [];
  const calls: number[] = [];
  let counter = 0;
  let components = 0;
  const enter = (v: number) => {
    order[v] = low[v] = counter++;
    cursor[v] = outgoing.start[v]!;
    open.push(v);
    calls.push(v);
  };
  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    enter(root);
    while (calls.length > 0) {
      const v = calls[calls.length - 1]!;
      if (cursor[v]! < outgoing.start[v + 1]!) {
        const w = targets[outgoing.list[cursor[v]!++]!]!;
        if (order[w] === -1) enter(w);
        else if (component[w] === -1) low[v] = Math.min(low[v]!, order[w]!);
        continue;
      }
      calls.pop();
      const parent = calls[calls.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent]!, low[v]!);
      if (low[v] === order[v]) {
        let w: number;
        do {
          w = open.pop()!;
          component[w] = components;
        } while (w !== v);
        components++;
      }
    }
  }
  return component;
}

function rotate(nodes: number[], edges: number[]): Cycle {
  let at = 0;
  for (let i = 1; i < nodes.length; i++) if (nodes[i]! < nodes[at]!) at = i;
  return { nodes: [...nodes.slice(at), ...nodes.slice(0, at)], edges: [...edges.slice(at), ...edges.slice(0, at)] };
}

/** The nodes no path from `starts` reaches, in index order. */
export function unreachable({ n, sources, targets }: IndexGraph, starts: readonly number[]): number[] {
  const outgoing = groupBy(n, sources);
  const seen = new Uint8Array(n);
  const queue = [...starts];
  for (const s of starts) seen[s] = 1;
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (let i = outgoing.start[v]!; i < outgoing.start[v + 1]!; i++) {
      const t = targets[outgoing.list[i]!]!;
      if (seen[t] === 0) {
        seen[t] = 1;
        queue.push(t);
      }
    }
  }
  const missed: number[] = [];
  for (let v = 0; v < n; v++) if (seen[v] === 0) missed.push(v);
  return missed;
}
