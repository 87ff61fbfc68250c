// `npx tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [per] [top]`: the objects of
// a V8 heap snapshot that a second snapshot of the same process holds and the first did not (matched by
// node id), grouped by kind and constructor (closures by function name), with what retains each group
// (one hop: the retainer's kind and name and the edge), per `per` (subscriptions, say).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Grown {
  group: string;
  count: number;
  bytes: number;
  /** The commonest retainers of the group's objects: "<kind> <name> .<edge>", with how many. */
  retainers: [string, number][];
}

function load(file: string): Snapshot {
  return JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
}

function ids(snapshot: Snapshot): Set<number> {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const idAt = fields.indexOf('id');
  const set = new Set<number>();
  for (let i = 0; i < snapshot.nodes.length; i += width) set.add(snapshot.nodes[i + idAt]!);
  return set;
}

/** The objects of `afterFile` absent from `beforeFile`, by group, largest first. */
export function heapGrowth(beforeFile: string, afterFile: string): Grown[] {
  const before = ids(load(beforeFile));
  const after = load(afterFile);
  const { node_fields: fields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes } = after.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, idAt, sizeAt, edgeCountAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => fields.indexOf(f)) as [number, number, number, number, number];
  const edgeWidth = edgeFields.length;
  const [edgeTypeAt, edgeNameAt, toAt] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f)) as [number, number, number];
  const { nodes, edges, strings } = after;
  const kind = (node: number) => nodeTypes[0][nodes[node + typeAt]!]!;
  const label = (node: number) => {
    const k = kind(node);
    const name = strings[nodes[node + nameAt]!]!;
    // Strings and numbers are named by their value: group them by kind alone.
    return k === 'string' || k === 'concatenated string' || k === 'sliced string' || k === 'number' ? k : `${k} ${name.slice(0, 60)}`;
  };

  const groups = new Map<string, { count: number; bytes: number; retainers: Map<string, number> }>();
  const groupOf = new Map<number, string>();
  for (let node = 0; node < nodes.length; node += width) {
    if (before.has(nodes[node + idAt]!)) continue;
    const group = label(node);
    groupOf.set(node, group);
    let entry = groups.get(group);
    if (!entry) groups.set(group, (entry = { count: 0, bytes: 0, retainers: new Map() }));
    entry.count++;
    entry.bytes += nodes[node + sizeAt]!;
  }
  // One pass over the edges: who points at each new object (weak edges aside).
  let edge = 0;
  for (let node = 0; node < nodes.length; node += width) {
    const end = edge + nodes[node + edgeCountAt]! * edgeWidth;
    for (; edge < end; edge += edgeWidth) {
      const to = edges[edge + toAt]!;
      const group = groupOf.get(to);
      if (group === undefined) continue;
      const edgeType = edgeTypes[0][edges[edge + edgeTypeAt]!]!;
      if (edgeType === 'weak') continue;
      const nameOrIndex = edges[edge + edgeNameAt]!;
      const edgeName = edgeType === 'element' || edgeType === 'hidden' ? `[${nameOrIndex}]` : strings[nameOrIndex]!;
      const retainer = `${label(node)} .${edgeName.slice(0, 40)}`;
      const retainers = groups.get(group)!.retainers;
      retainers.set(retainer, (retainers.get(retainer) ?? 0) + 1);
    }
  }
  return [...groups]
    .map(([group, { count, bytes, retainers }]) => ({ group, count, bytes, retainers: [...retainers].sort((a, b) => b[1] - a[1]).slice(0, 3) }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** The growth as a markdown table, per `per` objects of interest (e.g. subscriptions). */
export function growthTable(grown: Grown[], per: number, top: number): string {
  const total = grown.reduce((sum, g) => sum + g.bytes, 0);
  const lines = [
    `new objects: ${grown.reduce((sum, g) => sum + g.count, 0)}, ${(total / 1024 / 1024).toFixed(1)} MB; per ${per}: ${(total / per).toFixed(0)} bytes`,
    '',
    '| kind and name | bytes each | count each | share | commonest retainers (count) |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const g of grown.slice(0, top)) {
    const retainers = g.retainers.map(([r, n]) => `${r.replaceAll('|', '\\|')} (${n})`).join('; ');
    lines.push(`| ${g.group.replaceAll('|', '\\|')} | ${(g.bytes / per).toFixed(0)} | ${(g.count / per).toFixed(2)} | ${((100 * g.bytes) / total).toFixed(1)} % | ${retainers} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [beforeFile, afterFile, per, top] = process.argv.slice(2);
  if (!beforeFile || !afterFile) throw new Error('usage: bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [per] [top]');
  console.log(growthTable(heapGrowth(beforeFile, afterFile), Number(per ?? 1), Number(top ?? 40)));
}
