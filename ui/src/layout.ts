// Where each node of a graph is drawn: its own `position` when every node has one; else ELK's layered
// layout (left to right); past 300 nodes a plain rank layout (column = longest path from a source),
// which is instant where ELK would take seconds. ELK (1.4 MB) is a chunk of its own, loaded only when
// a run page opens (preloadLayout) rather than with the dashboard.
import type { Definition } from './run-data';

export type Positions = Map<string, { x: number; y: number }>;

export const nodeWidth = 170;
export const nodeHeight = 44;
const elkLimit = 300;

let elkModule: Promise<typeof import('elkjs/lib/elk.bundled.js')> | undefined;
/** Starts loading ELK (once), so that it arrives while the run's definition is read. */
export function preloadLayout(): void {
  elkModule ??= import('elkjs/lib/elk.bundled.js').catch((error: unknown) => {
    elkModule = undefined;
    throw error;
  });
}

export async function layoutGraph(definition: Definition): Promise<Positions> {
  const { nodes, edges } = definition;
  if (nodes.length > 0 && nodes.every((node) => node.position)) {
    return new Map(nodes.map((node) => [node.id, node.position!]));
  }
  if (nodes.length > elkLimit) return rankLayout(definition);
  preloadLayout();
  let ELK;
  try {
    ({ default: ELK } = await elkModule!);
  } catch {
    // Its chunk did not load (the server was updated or went away meanwhile): columns will do.
    return rankLayout(definition);
  }
  const elk = new ELK();
  const laid = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '24',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
    },
    children: nodes.map((node) => ({ id: node.id, width: nodeWidth, height: nodeHeight })),
    edges: edges.map((edge, index) => ({ id: `e${index}`, sources: [edge.source], targets: [edge.target] })),
  });
  return new Map((laid.children ?? []).map((child) => [child.id, { x: child.x ?? 0, y: child.y ?? 0 }]));
}

function rankLayout({ nodes, edges }: Definition): Positions {
  const rank = new Map(nodes.map((node) => [node.id, 0]));
  const incoming = new Map(nodes.map((node) => [node.id, 0]));
  const outgoing = new Map<string, string[]>(nodes.map((node) => [node.id, []]));
  for (const edge of edges) {
    incoming.set(edge.target, (incoming.get(edge.target) ?? 0) + 1);
    outgoing.get(edge.source)?.push(edge.target);
  }
  const ready = nodes.filter((node) => incoming.get(node.id) === 0).map((node) => node.id);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    for (const target of outgoing.get(id) ?? []) {
      rank.set(target, Math.max(rank.get(target) ?? 0, rank.get(id)! + 1));
      const left = incoming.get(target)! - 1;
      incoming.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  const rows = new Map<number, number>();
  const positions: Positions = new Map();
  for (const node of nodes) {
    const column = rank.get(node.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(node.id, { x: column * (nodeWidth + 60), y: row * (nodeHeight + 16) });
  }
  return positions;
}
