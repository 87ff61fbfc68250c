// Definition checking at the edge: size limits, JSON depth and NUL, then the engine's validator. ValidationIssue,
// ValidationError (a mutation's failure) and ValidationResult with the validateWorkflow query.
import { describeUnstorable, findDeeperThan, findUnstorable, validateWorkflow, type ValidationIssue, type WorkflowGraph } from '../engine/index.js';
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

/** The deepest JSON a client may send: objects and arrays inside each other, the outermost being level 1. */
export const maxJsonDepth = 64;

/** A path for messages: `input.a.b`, cut short past a few keys. */
function shown(path: readonly string[]): string {
  return path.length > 6 ? `${path.slice(0, 3).join('.')}.….${path.slice(-2).join('.')}` : path.join('.');
}

/**
 * An issue when a client's JSON value cannot be taken, or null: nested deeper than `maxJsonDepth`
 * levels (V8's JSON.stringify and PostgreSQL's jsonb parser recurse, so depth is bounded here, at the
 * edge), or holding a real NUL character (U+0000) in a string or key, which jsonb cannot store. The
 * issue's path is `at` followed by the keys that lead to the fault. Both walks are iterative.
 */
export function jsonIssue(at: string | readonly string[], value: unknown, nodeId: string | null = null): ValidationIssue | null {
  const base = typeof at === 'string' ? [at] : [...at];
  const deep = findDeeperThan(value, maxJsonDepth);
  if (deep) {
    const path = [...base, ...deep];
    return { path, nodeId, message: `${shown(path)} is nested deeper than ${maxJsonDepth} levels` };
  }
  const bad = findUnstorable(value);
  if (bad) {
    const path = [...base, ...bad.path];
    return { path, nodeId, message: `${shown(path)} contains ${describeUnstorable(bad.kind)}, which cannot be stored` };
  }
  return null;
}

/**
 * The issues of the JSON in a definition: each node's params (depth and NUL), then NUL anywhere else
 * (ids, names, handles). Runs before the engine's rules, which walk params.
 */
function definitionJsonIssues(input: DefinitionArg, definition: Record<string, unknown>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  input.nodes.forEach((node, index) => {
    const id = typeof node.id === 'string' && findUnstorable(node.id) === null ? node.id : null;
    const issue = node.params === undefined ? null : jsonIssue(['nodes', String(index), 'params'], node.params, id);
    if (issue) issues.push(issue);
  });
  if (issues.length > 0) return issues;
  const bad = findUnstorable(definition);
  if (!bad) return [];
  const node = bad.path[0] === 'nodes' ? input.nodes[Number(bad.path[1])] : undefined;
  const nodeId = node && findUnstorable(node.id) === null ? node.id : null;
  return [{ path: bad.path, nodeId, message: `${shown(bad.path)} contains ${describeUnstorable(bad.kind)}, which cannot be stored` }];
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
  const unstorable = definitionJsonIssues(input, definition);
  if (unstorable.length > 0) return { ok: false, issues: unstorable };
  const result = validateWorkflow(definition, registry);
  return result.ok ? { ok: true, definition, graph: result.graph } : { ok: false, issues: result.issues };
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
