// JSONata expressions and `{{ }}` templates: compiled once and cached, evaluated with `$input`,
// `$nodes` and `$run` bound, results normalised to plain JSON; and the one call that prepares params.
import jsonata from 'jsonata';
import type { z } from 'zod';
import { NonRetriableError } from './errors.js';
import { findStrings, mapStrings } from './json-walk.js';
import type { NodeType } from './nodes/node-type.js';
import { mayHoldTemplate, parseTemplate, templateSources, wholeTemplate } from './template-syntax.js';

/** What an expression sees: `$input`, `$nodes` and `$run` (the input is also the context `$`). */
export interface ExpressionScope {
  input: unknown;
  nodes: Readonly<Record<string, unknown>>;
  run: { id: string; input: unknown };
}

/** A `{{ }}` template found in a value: its expression source and where it sits. */
export interface TemplateExpression {
  source: string;
  path: string[];
}

// Guardrails against runaway expressions: call depth, and wall time as a backstop. JSONata measures
// the time from the start of an evaluation, and evaluations interleave (the 10,000 transforms of a
// wide fan-out all start together, so each one's wall time is the whole batch's): a 1 s limit failed
// correct expressions under load (BENCHMARKS.md, scale). A node's own `timeoutMs` is the user's bound.
const LIMITS = { timeout: 30_000, stack: 500 };
const CACHE_LIMIT = 10_000;
const cache = new Map<string, jsonata.Expression>();

/** Compiles (or reuses) an expression; throws jsonata's parse error. */
function compile(source: string): jsonata.Expression {
  let expression = cache.get(source);
  if (expression === undefined) {
    expression = jsonata(source, LIMITS);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(source, expression);
  }
  return expression;
}

/** jsonata throws plain objects `{ code, position, message }`; this makes one line of any of them. */
function jsonataMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, position } = error as { message?: unknown; position?: unknown };
  const text = typeof message === 'string' && message ? message : String(error);
  return typeof position === 'number' ? `${text} (at position ${position})` : text;
}

/** An expression shortened for messages. */
function quote(source: string): string {
  return JSON.stringify(source.length > 80 ? `${source.slice(0, 77)}...` : source);
}

/** A readable parse error for `source`, or null when it parses. */
export function checkExpression(source: string): string | null {
  if (source.trim() === '') return 'the expression is empty';
  try {
    compile(source);
    return null;
  } catch (error) {
    return jsonataMessage(error);
  }
}

/**
 * Evaluates `source` against `scope`. The result is plain JSON: sequences become arrays, functions
 * and "no match" become `undefined`, non-finite numbers `null`. Parse and evaluation errors (type
 * errors, the depth and time guardrails) throw NonRetriableError: the same inputs would fail again.
 */
export async function evaluate(source: string, scope: ExpressionScope): Promise<unknown> {
  // A transform's expression is evaluated once per run: the cached compilation is the common case.
  let expression = cache.get(source);
  if (expression === undefined) {
    const parseError = checkExpression(source);
    if (parseError !== null) throw new NonRetriableError(`expression ${quote(source)} does not parse: ${parseError}`);
    expression = compile(source);
  }
  let result: unknown;
  try {
    result = await expression.evaluate(scope.input, { input: scope.input, nodes: scope.nodes, run: scope.run });
  } catch (error) {
    throw new NonRetriableError(`expression ${quote(source)} failed: ${jsonataMessage(error)}`, { cause: error });
  }
  return toPlainJson(result);
}

/** A JSON copy of a jsonata result, dropping functions (a lambda's environment is circular). */
function toPlainJson(value: unknown): unknown {
  const text = JSON.stringify(value, (_key, item: unknown) => (isFunction(item) ? undefined : item));
  return text === undefined ? undefined : JSON.parse(text);
}

function isFunction(item: unknown): boolean {
  if (typeof item === 'function') return true;
  return typeof item === 'object' && item !== null && ('_jsonata_lambda' in item || '_jsonata_function' in item);
}

/** How an expression's value reads inside a longer string: strings as-is, `undefined` as nothing. */
function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? '' : JSON.stringify(value);
}

async function resolveString(text: string, scope: ExpressionScope): Promise<unknown> {
  const whole = wholeTemplate(text);
  if (whole !== null) return evaluate(whole, scope);
  let out = '';
  for (const part of parseTemplate(text)) {
    out += part.kind === 'text' ? part.text : stringify(await evaluate(part.source, scope));
  }
  return out;
}

/**
 * A copy of `value` with the templates of every string resolved: `{{ expr }}` parts are replaced by
 * the value as text; a string that is one whole `{{ expr }}` takes the value with its type
 * (`undefined` drops an object key). `at` prefixes the path named in error messages.
 */
export async function resolveTemplates(
  value: unknown,
  scope: ExpressionScope,
  at: readonly string[] = [],
): Promise<unknown> {
  const found = findStrings(value, mayHoldTemplate);
  if (found.length === 0) return value;
  const resolved = new Map<string, unknown>();
  for (const { text, path } of found) {
    if (resolved.has(text)) continue;
    try {
      resolved.set(text, await resolveString(text, scope));
    } catch (error) {
      const where = [...at, ...path].join('.') || 'value';
      throw new NonRetriableError(`template in ${where}: ${(error as Error).message}`, { cause: error });
    }
  }
  return mapStrings(value, (text) => (resolved.has(text) ? resolved.get(text) : text));
}

/** Every `{{ }}` expression inside `value`, with the path of its string (for validation). */
export function templateExpressions(value: unknown): TemplateExpression[] {
  return findStrings(value, mayHoldTemplate).flatMap(({ text, path }) =>
    templateSources(text).map((source) => ({ source, path })),
  );
}

/** One line per zod issue: `path: message`. */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * What the engine calls before a handler: resolves the templates of every param except the
 * node type's `expressionParams`, then parses the result with the type's schema (defaults filled).
 * Throws NonRetriableError naming the param when a template fails or the params do not fit.
 */
export async function prepareParams<P>(
  nodeType: NodeType<P>,
  rawParams: Readonly<Record<string, unknown>> | undefined,
  scope: ExpressionScope,
): Promise<P> {
  const bare = new Set(nodeType.expressionParams ?? []);
  const entries: [string, unknown][] = [];
  for (const [key, value] of Object.entries(rawParams ?? {})) {
    const resolved = bare.has(key) ? value : await resolveTemplates(value, scope, ['params', key]);
    if (resolved !== undefined) entries.push([key, resolved]);
  }
  const parsed = nodeType.params.safeParse(Object.fromEntries(entries));
  if (!parsed.success) {
    const detail = describeZodIssues(parsed.error.issues, 'params');
    throw new NonRetriableError(`params do not fit "${nodeType.type}": ${detail}`, { cause: parsed.error });
  }
  return parsed.data;
}
