// Definition checking at the edge: size limits, then the engine's validator. ValidationIssue,
// ValidationError (a mutation's failure) and ValidationResult with the validateWorkflow query.
import { validateWorkflow, type ValidationIssue, type WorkflowGraph } from '../engine/index.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { definitionFromInput, WorkflowDefinitionInput, type DefinitionArg } from './definition-input.js';
import { ErrorInterface } from './errors.js';

/** A definition or an input broke rules; `issues` lists every one, each naming its node, edge or field. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    readonly issues: ValidationIssue[],
    subject = 'workflow definition',
  ) {
    const first = issues.slice(0, 3).map((issue) => issue.message);
    super(
      `invalid ${subject}: ${issues.length} issue${issues.length === 1 ? '' : 's'}` +
        (first.length > 0 ? ` (${first.join('; ')}${issues.length > 3 ? '; …' : ''})` : ''),
    );
  }
}

/** One issue about one input field (not a definition). */
export function fieldIssue(field: string, message: string): ValidationIssue {
  return { path: [field], nodeId: null, message };
}

/** PostgreSQL's jsonb cannot hold U+0000: an issue for `field` when `value` has one somewhere. */
export function nulIssue(field: string, value: unknown): ValidationIssue | null {
  return value !== undefined && JSON.stringify(value).includes('\\u0000')
    ? fieldIssue(field, `${field} contains a NUL character (\\u0000), which cannot be stored`)
    : null;
}

export type CheckedDefinition =
  | { ok: true; definition: Record<string, unknown>; graph: WorkflowGraph }
  | { ok: false; issues: ValidationIssue[] };

/** Checks a definition completely: the server's size limits first, then every rule of the engine. */
export function checkDefinition(context: Context, input: DefinitionArg): CheckedDefinition {
  const { config, registry } = context.services;
  const issues: ValidationIssue[] = [];
  if (input.nodes.length > config.maxDefinitionNodes) {
    issues.push(fieldIssue('nodes', `too many nodes: ${input.nodes.length}, at most ${config.maxDefinitionNodes}`));
  }
  if (input.edges.length > config.maxDefinitionEdges) {
    issues.push(fieldIssue('edges', `too many edges: ${input.edges.length}, at most ${config.maxDefinitionEdges}`));
  }
  if (issues.length > 0) return { ok: false, issues };
  const definition = definitionFromInput(input);
  const result = validateWorkflow(definition, registry);
  if (!result.ok) return { ok: false, issues: result.issues };
  const nul = nulIssue('definition', definition);
  return nul ? { ok: false, issues: [nul] } : { ok: true, definition, graph: result.graph };
}

export const ValidationIssueRef = builder.objectRef<ValidationIssue>('ValidationIssue').implement({
  description: 'One broken rule: where (a path into the input, and the node when there is one) and what.',
  fields: (t) => ({
    path: t.exposeStringList('path'),
    nodeId: t.exposeString('nodeId', { nullable: true }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input broke one or more rules; nothing was stored.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    issues: t.field({ type: [ValidationIssueRef], resolve: (error) => error.issues }),
  }),
});

const ValidationResultRef = builder.objectRef<{ valid: boolean; issues: ValidationIssue[] }>('ValidationResult').implement({
  description: 'Whether a definition is valid, with every issue when it is not.',
  fields: (t) => ({
    valid: t.exposeBoolean('valid'),
    issues: t.field({ type: [ValidationIssueRef], resolve: (result) => result.issues }),
  }),
});

builder.queryField('validateWorkflow', (t) =>
  t.field({
    type: ValidationResultRef,
    description: 'Checks a definition without storing anything.',
    authScopes: { viewer: true },
    args: { definition: t.arg({ type: WorkflowDefinitionInput, required: true }) },
    resolve: (_root, args, context) => {
      const checked = checkDefinition(context, args.definition);
      return checked.ok ? { valid: true, issues: [] } : { valid: false, issues: checked.issues };
    },
  }),
);
