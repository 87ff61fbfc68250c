// The GraphQL input types of a workflow definition, mirroring src/engine/definition.ts field for field,
// and their conversion to the definition's JSON form (GraphQL nulls become absent fields).
import { builder } from './builder.js';

export const OnErrorEnum = builder.enumType('OnError', {
  description: 'What a node failure does: FAIL counts against the run; CONTINUE records it and goes on.',
  values: ['FAIL', 'CONTINUE'] as const,
});

export const ErrorStrategyEnum = builder.enumType('ErrorStrategy', {
  description: 'FAIL_FAST aborts the run at the first failure; CONTINUE lets every other branch finish.',
  values: ['FAIL_FAST', 'CONTINUE'] as const,
});

export const BackoffEnum = builder.enumType('Backoff', {
  description: 'Delay between attempts: FIXED, or EXPONENTIAL (doubling from initialDelayMs).',
  values: ['FIXED', 'EXPONENTIAL'] as const,
});

export const RetryPolicyInput = builder.inputType('RetryPolicyInput', {
  fields: (t) => ({
    maxAttempts: t.int({ required: true, description: 'Every attempt counts, the first included.' }),
    backoff: t.field({ type: BackoffEnum }),
    initialDelayMs: t.int(),
    maxDelayMs: t.int(),
  }),
});

export const NodePositionInput = builder.inputType('NodePositionInput', {
  description: 'Where a node is drawn (the dashboard lays out nodes without one itself). Execution ignores it.',
  fields: (t) => ({
    x: t.float({ required: true }),
    y: t.float({ required: true }),
  }),
});

export const WorkflowNodeInput = builder.inputType('WorkflowNodeInput', {
  fields: (t) => ({
    id: t.string({ required: true }),
    type: t.string({ required: true, description: 'A node type of the catalog (Query.nodeTypes).' }),
    name: t.string(),
    params: t.field({ type: 'JSON', description: "The node type's params (see NodeType.paramsSchema)." }),
    retry: t.field({ type: RetryPolicyInput }),
    timeoutMs: t.int(),
    onError: t.field({ type: OnErrorEnum }),
    position: t.field({ type: NodePositionInput }),
  }),
});

export const WorkflowEdgeInput = builder.inputType('WorkflowEdgeInput', {
  fields: (t) => ({
    id: t.string(),
    source: t.string({ required: true }),
    target: t.string({ required: true }),
    sourceHandle: t.string({ description: 'Required out of condition/switch nodes: one of their handles.' }),
  }),
});

export const WorkflowSettingsInput = builder.inputType('WorkflowSettingsInput', {
  fields: (t) => ({
    maxConcurrency: t.int(),
    errorStrategy: t.field({ type: ErrorStrategyEnum }),
    timeoutMs: t.int(),
    maxConcurrentRuns: t.int({ description: 'Most runs of the workflow running at once, across every process; unset: unlimited.' }),
  }),
});

export const WorkflowDefinitionInput = builder.inputType('WorkflowDefinitionInput', {
  description: 'A workflow graph: the JSON form of a definition as GraphQL input.',
  fields: (t) => ({
    nodes: t.field({ type: [WorkflowNodeInput], required: true }),
    edges: t.field({ type: [WorkflowEdgeInput], required: true }),
    settings: t.field({ type: WorkflowSettingsInput }),
  }),
});

export type DefinitionArg = typeof WorkflowDefinitionInput.$inferInput;

/** The definition's JSON form: optional fields left null by the client are dropped (params kept as sent). */
export function definitionFromInput(input: DefinitionArg): Record<string, unknown> {
  const definition: Record<string, unknown> = {
    nodes: input.nodes.map((node) => {
      const out = compact(node);
      if (node.retry) out.retry = compact(node.retry);
      return out;
    }),
    edges: input.edges.map((edge) => compact(edge)),
  };
  if (input.settings) definition.settings = compact(input.settings);
  return definition;
}

function compact(object: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (value !== null && value !== undefined) out[key] = value;
  return out;
}
