// Validates a workflow definition completely and compiles the topology the run actor schedules on. Pure.
import type { ValidationIssue } from './errors.js';
import type { WorkflowDefinition, WorkflowNode, WorkflowSettings } from './definition.js';
import type { NodeRegistry, NodeType } from './nodes/node-type.js';

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
}

export type ValidationResult = { ok: true; graph: WorkflowGraph } | { ok: false; issues: ValidationIssue[] };

// IMPLEMENTATION IN PROGRESS BY A HELPER — see the issue. Exports to come:
//   validateWorkflow(input: unknown, registry: NodeRegistry): ValidationResult
//   compileWorkflow(input: unknown, registry: NodeRegistry): WorkflowGraph  (throws WorkflowValidationError)
export type { NodeRegistry };
