// Validates a workflow definition completely and compiles the topology the run actor schedules on. Pure.
import type { WorkflowDefinition, WorkflowNode, WorkflowSettings } from './definition.js';
import { WorkflowValidationError, type ValidationIssue } from './errors.js';
import { readDefinition, type EdgeView, type NodeView } from './graph-definition.js';
import { checkNodeParams } from './graph-params.js';
import { duplicateEdges, findCycles, unreachable, type Cycle } from './graph-topology.js';
import type { NodeRegistry, NodeType } from './nodes/node-type.js';
import { paramSecrets } from './secret-refs.js';
import { createIssueList, edgeLabel, nodeLabel, q, type IssueList } from './validation-issues.js';

/** A node with its edges resolved; `index` is its position in `WorkflowGraph.nodes`. */
export interface GraphNode {
  index: number;
  id: string;
  definition: WorkflowNode;
  nodeType: NodeType;
  /** The handles this node's outgoing edges may name, or null when they name none. */
  handles: readonly string[] | null;
  incoming: GraphEdge[];
  outgoing: GraphEdge[];
}

export interface GraphEdge {
  index: number;
  source: GraphNode;
  target: GraphNode;
  sourceHandle: string | null;
}

/** A valid definition, ready to run. */
export interface WorkflowGraph {
  definition: WorkflowDefinition;
  settings: WorkflowSettings;
  nodes: GraphNode[];
  byId: ReadonlyMap<string, GraphNode>;
  edges: GraphEdge[];
  triggers: GraphNode[];
  /** The names of the secrets its http nodes reference, sorted: what a run of it uses (`Run.secretsUsed`). */
  secrets: readonly string[];
}

export type ValidationResult = { ok: true; graph: WorkflowGraph } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks a definition against every rule of the workflow format and reports all its issues at once, each
 * naming its node or edge; on success returns the compiled graph. Never throws, whatever `input` is.
 */
export function validateWorkflow(input: unknown, registry: NodeRegistry): ValidationResult {
  const issues = createIssueList();
  const { definition, nodes, edges } = readDefinition(input, issues);
  const byId = new Map<string, NodeView>();
  const unique: NodeView[] = [];
  for (const node of nodes ?? []) {
    const first = byId.get(node.id);
    if (first) {
      const message = `${nodeLabel(node.id)}: duplicate id (nodes ${first.index} and ${node.index})`;
      issues.add(['nodes', String(node.index), 'id'], node.id, message);
    } else {
      node.slot = unique.length;
      byId.set(node.id, node);
      unique.push(node);
    }
    checkNode(node, registry, issues);
  }
  // Edges between existing nodes, by node slot, for the graph-wide rules.
  const topology = { n: unique.length, sources: [] as number[], targets: [] as number[], edges: [] as number[] };
  const handles: (string | null)[] = [];
  for (const edge of edges ?? []) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    checkEdge(edge, source, target, issues);
    if (source && target) {
      topology.sources.push(source.slot!);
      topology.targets.push(target.slot!);
      topology.edges.push(edge.index);
      handles.push(edge.sourceHandle ?? null);
    }
  }
  for (const [k, first] of duplicateEdges(topology, handles)) {
    const edge = edges![topology.edges[k]!]!;
    edgeIssue(issues, edge, null, edge.source, `duplicates edge ${topology.edges[first]}`);
  }
  if (nodes && edges) checkTopology(unique, topology, issues);
  const all = issues.all();
  if (all.length > 0 || !definition) return { ok: false, issues: all };
  return { ok: true, graph: buildGraph(definition, byId) };
}

/**
 * Validates and compiles a definition for running.
 * @throws WorkflowValidationError listing every issue.
 */
export function compileWorkflow(input: unknown, registry: NodeRegistry): WorkflowGraph {
  const result = validateWorkflow(input, registry);
  if (!result.ok) throw new WorkflowValidationError(result.issues);
  return result.graph;
}

function checkNode(node: NodeView, registry: NodeRegistry, issues: IssueList): void {
  const nodeType = registry.get(node.type);
  if (!nodeType) {
    const known = [...registry.keys()].join(', ');
    const message = `${nodeLabel(node.id)}: unknown type ${q(node.type)} (known types: ${known})`;
    issues.add(['nodes', String(node.index), 'type'], node.id, message);
    return;
  }
  node.nodeType = nodeType;
  if (node.params) node.handles = checkNodeParams(node.params, node, nodeType, issues);
  else node.handles = nodeType.handles ? undefined : null;
}

/** Adds an issue about `edge` (at `edges.<i>.<field>`), its message prefixed with the edge's label. */
function edgeIssue(
  issues: IssueList,
  edge: EdgeView,
  field: string | null,
  nodeId: string | null,
  text: string,
): void {
  const path = field === null ? ['edges', String(edge.index)] : ['edges', String(edge.index), field];
  issues.add(path, nodeId, `${edgeLabel(edge.index, edge.source, edge.target)}: ${text}`);
}

function checkEdge(edge: EdgeView, source: NodeView | undefined, target: NodeView | undefined, issues: IssueList): void {
  if (!source) edgeIssue(issues, edge, 'source', target?.id ?? null, `source ${q(edge.source)} does not exist`);
  if (!target) edgeIssue(issues, edge, 'target', source?.id ?? null, `target ${q(edge.target)} does not exist`);
  if (target?.type === 'trigger') {
    edgeIssue(issues, edge, 'target', target.id, `leads into trigger ${q(target.id)}; a trigger has no inputs`);
  }
  const { sourceHandle } = edge;
  if (!source?.nodeType || sourceHandle === undefined) return;
  const { handles } = source;
  const owner = `${source.type} node ${q(source.id)}`;
  if (!source.nodeType.handles) {
    if (sourceHandle === null) return;
    const text = `${owner} has no handles, so its edges name no sourceHandle (got ${q(sourceHandle)})`;
    edgeIssue(issues, edge, 'sourceHandle', source.id, text);
  } else if (sourceHandle === null) {
    const choices = handles ? `: one of ${handles.join(', ')}` : '';
    edgeIssue(issues, edge, 'sourceHandle', source.id, `an edge out of ${owner} must name a sourceHandle${choices}`);
  } else if (handles && !handles.includes(sourceHandle)) {
    const text = `${q(sourceHandle)} is not a handle of ${owner} (its handles: ${handles.join(', ')})`;
    edgeIssue(issues, edge, 'sourceHandle', source.id, text);
  }
}

function checkTopology(
  nodes: NodeView[],
  topology: { n: number; sources: number[]; targets: number[]; edges: number[] },
  issues: IssueList,
): void {
  const triggers: number[] = [];
  nodes.forEach((node, slot) => node.type === 'trigger' && triggers.push(slot));
  if (triggers.length === 0) {
    issues.add(['nodes'], null, 'no trigger: a workflow needs at least one node of type "trigger"');
  }
  for (const cycle of findCycles(topology)) {
    const first = nodes[cycle.nodes[0]!]!;
    const closing = topology.edges[cycle.edges[cycle.edges.length - 1]!]!;
    issues.add(['edges', String(closing)], first.id, `cycle: ${describeCycle(cycle, nodes)}`);
  }
  if (triggers.length === 0) return; // every node would be unreachable: the missing trigger says it all
  for (const slot of unreachable(topology, triggers)) {
    const node = nodes[slot]!;
    issues.add(['nodes', String(node.index)], node.id, `${nodeLabel(node.id)} is not reachable from any trigger`);
  }
}

/** `"a" → "b" → "c" → "a"`, shortened in the middle for long cycles. */
function describeCycle(cycle: Cycle, nodes: NodeView[]): string {
  const ids = cycle.nodes.map((slot) => q(nodes[slot]!.id));
  const shown = ids.length > 12 ? [...ids.slice(0, 6), `… ${ids.length - 10} more …`, ...ids.slice(-4)] : ids;
  return [...shown, ids[0]].join(' → ');
}

/** The graph of a valid definition; `views` are its nodes as validation saw them (types and handles set). */
function buildGraph(definition: WorkflowDefinition, views: ReadonlyMap<string, NodeView>): WorkflowGraph {
  const nodes = definition.nodes.map((node, index): GraphNode => {
    const view = views.get(node.id)!;
    const { nodeType, handles } = view;
    return { index, id: node.id, definition: node, nodeType: nodeType!, handles: handles ?? null, incoming: [], outgoing: [] };
  });
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const edges = definition.edges.map((edge, index): GraphEdge => {
    const source = byId.get(edge.source)!;
    const target = byId.get(edge.target)!;
    const graphEdge = { index, source, target, sourceHandle: edge.sourceHandle ?? null };
    source.outgoing.push(graphEdge);
    target.incoming.push(graphEdge);
    return graphEdge;
  });
  const triggers = nodes.filter((node) => node.definition.type === 'trigger');
  const secrets = new Set<string>();
  for (const node of nodes) paramSecrets(node.definition.params, node.nodeType, secrets);
  return { definition, settings: definition.settings, nodes, byId, edges, triggers, secrets: [...secrets].sort() };
}
