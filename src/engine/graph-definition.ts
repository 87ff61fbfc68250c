// Reading an untrusted definition: zod's structural issues, turned into messages that name the node
// or edge, plus a lenient view of the nodes and edges so the graph rules still run on a broken one.
import type { z } from 'zod';
import { definitionSchema, type WorkflowDefinition } from './definition.js';
import { valueAt } from './json-walk.js';
import type { NodeType } from './nodes/node-type.js';
import { edgeLabel, nodeLabel, type IssueList } from './validation-issues.js';

/** The most nodes and edges a definition may have in this process (the engine's own ceiling). */
export interface DefinitionLimits {
  maxNodes: number;
  maxEdges: number;
}

/** The ceiling unless a process raises it: what the engine is known to run within its memory. */
export const defaultDefinitionLimits: Readonly<DefinitionLimits> = Object.freeze({ maxNodes: 100_000, maxEdges: 200_000 });

let limits: Readonly<DefinitionLimits> = defaultDefinitionLimits;

/**
 * Sets this process's ceiling (a server configured for larger definitions raises it before serving);
 * returns the previous one, to restore. Stored definitions compile under the same ceiling at startRun.
 */
export function setDefinitionLimits(next: DefinitionLimits): Readonly<DefinitionLimits> {
  const previous = limits;
  limits = Object.freeze({ ...next });
  return previous;
}

/** The ceiling in force. */
export const definitionLimits = (): Readonly<DefinitionLimits> => limits;

/** What the graph rules need of a node: readable even when other fields of it are malformed. */
export interface NodeView {
  index: number;
  id: string;
  type: string;
  /** null when `params` is malformed (its structural issue is already reported). */
  params: Record<string, unknown> | null;
  /** Its position among the nodes with unique ids (set by graph.ts; topology works on slots). */
  slot?: number;
  nodeType?: NodeType;
  /** The handles its edges must name; null for none; undefined when they cannot be known. */
  handles?: readonly string[] | null;
}

/** What the graph rules need of an edge. `sourceHandle` undefined: malformed, already reported. */
export interface EdgeView {
  index: number;
  source: string;
  target: string;
  sourceHandle: string | null | undefined;
}

export interface DefinitionRead {
  /** The parsed definition (defaults filled) when it is structurally valid. */
  definition: WorkflowDefinition | null;
  /** null when `nodes` (resp. `edges`) is not a usable array: graph-wide rules are then skipped. */
  nodes: NodeView[] | null;
  edges: EdgeView[] | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** Checks the definition's structure, reporting every issue, and returns what can be read of it. */
export function readDefinition(input: unknown, issues: IssueList): DefinitionRead {
  if (!isRecord(input)) {
    issues.add([], null, `the definition must be an object with "nodes" and "edges", not ${kind(input)}`);
    return { definition: null, nodes: null, edges: null };
  }
  const { nodes, edges } = input;
  let tooBig = false;
  for (const [key, list, max] of [['nodes', nodes, limits.maxNodes], ['edges', edges, limits.maxEdges]] as const) {
    if (Array.isArray(list) && list.length > max) {
      issues.add([key], null, `too many ${key}: ${list.length} (at most ${max})`);
      tooBig = true;
    }
  }
  if (tooBig) return { definition: null, nodes: null, edges: null };

  const parsed = definitionSchema.safeParse(input);
  if (parsed.success) {
    const { data } = parsed;
    return {
      definition: data,
      nodes: data.nodes.map((node, index) => ({ index, id: node.id, type: node.type, params: node.params ?? {} })),
      edges: data.edges.map((edge, index) => ({ index, ...edge, sourceHandle: edge.sourceHandle ?? null })),
    };
  }
  for (const issue of parsed.error.issues) reportZodIssue(issue, input, issues);
  return {
    definition: null,
    nodes: Array.isArray(nodes) ? nodes.flatMap((node, index) => readNode(node, index)) : null,
    edges: Array.isArray(edges) ? edges.flatMap((edge, index) => readEdge(edge, index)) : null,
  };
}

function readNode(node: unknown, index: number): NodeView[] {
  if (!isRecord(node) || typeof node.id !== 'string' || node.id === '' || typeof node.type !== 'string') return [];
  const params = node.params === undefined ? {} : isRecord(node.params) ? node.params : null;
  return [{ index, id: node.id, type: node.type, params }];
}

function readEdge(edge: unknown, index: number): EdgeView[] {
  if (!isRecord(edge) || typeof edge.source !== 'string' || typeof edge.target !== 'string') return [];
  const handle = edge.sourceHandle;
  const sourceHandle = handle === undefined ? null : typeof handle === 'string' && handle !== '' ? handle : undefined;
  return [{ index, source: edge.source, target: edge.target, sourceHandle }];
}

/** Reports one zod issue with the node or edge it is about; unknown keys get one issue each. */
function reportZodIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>, issues: IssueList): void {
  const path = issue.path.map(String);
  const [head, index, ...rest] = path;
  let subject = path.join('.') || 'definition';
  let nodeId: string | null = null;
  let field = '';
  if ((head === 'nodes' || head === 'edges') && index !== undefined) {
    const item = valueAt(input, [head, index]);
    const record = isRecord(item) ? item : {};
    field = rest.join('.');
    if (head === 'nodes') {
      nodeId = typeof record.id === 'string' && record.id !== '' ? record.id : null;
      subject = nodeId === null ? `nodes.${index}` : nodeLabel(nodeId);
    } else {
      subject = edgeLabel(index, record.source, record.target);
    }
  }
  const at = (text: string) => (text ? `${subject}: ${text}` : subject);
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) issues.add([...path, key], nodeId, `${at(field)}: unknown field ${JSON.stringify(key)}`);
  } else {
    issues.add(path, nodeId, `${at(field)}: ${issue.message}`);
  }
}
