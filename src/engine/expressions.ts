// JSONata expressions and `{{ }}` templates: evaluated with `$input`, `$nodes` and `$run` bound,
// results normalised to plain JSON; and the one call that prepares params. Where an expression runs
// (inline or in a bounded worker) is expression-evaluator.ts's business; the default here is the
// in-thread evaluator, unbounded, for callers that do not pass one.
import type { z } from 'zod';
import { compile, jsonataMessage } from './expression-compile.js';
import { createExpressionEvaluator, type EvaluationBounds, type ExpressionEvaluator } from './expression-evaluator.js';
import { ExpressionLimitError } from './expression-limits.js';
import { NonRetriableError } from './errors.js';
import { findStrings, mapStrings } from './json-walk.js';
import type { NodeType } from './nodes/node-type.js';
import { secretReference, type SecretReader } from './secret-refs.js';
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

/** The in-thread evaluator (the previous approach): no worker, no time or memory bound. */
export const inThread: ExpressionEvaluator = createExpressionEvaluator({ mode: 'inline' });

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
 * Evaluates `source` against `scope` in this thread. The result is plain JSON: sequences become
 * arrays, functions and "no match" become `undefined`, non-finite numbers `null`. Parse and evaluation
 * errors (type errors, JSONata's depth guard) throw NonRetriableError: the same inputs would fail again.
 */
export function evaluate(source: string, scope: ExpressionScope): Promise<unknown> {
  return inThread.evaluate(source, scope);
}

/** How an expression's value reads inside a longer string: strings as-is, `undefined` as nothing. */
function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined ? '' : JSON.stringify(value);
}

/** How templates are resolved: where, under which bounds, and (in params that allow them) secrets. */
interface Resolution {
  evaluator: ExpressionEvaluator;
  bounds: EvaluationBounds | undefined;
  /** Set where `{{ $secrets.NAME }}` is allowed; elsewhere `$secrets` is an unbound variable. */
  secrets: SecretReader | undefined;
}

/** The secret a template stands for, when secrets are allowed here and it is exactly `$secrets.NAME`. */
const secretOf = (source: string, how: Resolution) => (how.secrets === undefined ? null : secretReference(source));

async function resolveString(text: string, scope: ExpressionScope, how: Resolution): Promise<unknown> {
  const { evaluator, bounds, secrets } = how;
  const whole = wholeTemplate(text);
  if (whole !== null) {
    const name = secretOf(whole, how);
    return name === null ? evaluator.evaluate(whole, scope, bounds) : secrets!(name);
  }
  // Every other template first; the secrets are put in last, never seen by an expression.
  const pieces: string[] = [];
  const secretAt: [number, string][] = [];
  let length = 0;
  for (const part of parseTemplate(text)) {
    const name = part.kind === 'expression' ? secretOf(part.source, how) : null;
    if (name !== null) secretAt.push([pieces.push('') - 1, name]);
    else pieces.push(part.kind === 'text' ? part.text : stringify(await evaluator.evaluate(part.source, scope, bounds)));
    length += pieces.at(-1)!.length;
    // Each part is bounded; a string of many parts is bounded as a whole too.
    if (length > evaluator.limits.resultBytes) {
      throw new ExpressionLimitError('result', `the text is longer than ${evaluator.limits.resultBytes} bytes (EXPRESSION_RESULT_BYTES)`);
    }
  }
  for (const [index, name] of secretAt) pieces[index] = await secrets!(name);
  return pieces.join('');
}

/**
 * A copy of `value` with the templates of every string resolved: `{{ expr }}` parts are replaced by
 * the value as text; a string that is one whole `{{ expr }}` takes the value with its type
 * (`undefined` drops an object key). `at` prefixes the path named in error messages. With `secrets`,
 * each `{{ $secrets.NAME }}` becomes the secret's value, after the other templates of its string.
 */
export async function resolveTemplates(
  value: unknown,
  scope: ExpressionScope,
  at: readonly string[] = [],
  evaluator: ExpressionEvaluator = inThread,
  bounds?: EvaluationBounds,
  secrets?: SecretReader,
): Promise<unknown> {
  const found = findStrings(value, mayHoldTemplate);
  const how: Resolution = { evaluator, bounds, secrets };
  if (found.length === 0) return value;
  const resolved = new Map<string, unknown>();
  for (const { text, path } of found) {
    if (resolved.has(text)) continue;
    try {
      resolved.set(text, await resolveString(text, scope, how));
    } catch (error) {
      const where = [...at, ...path].join('.') || 'value';
      const message = `template in ${where}: ${(error as Error).message}`;
      if (error instanceof ExpressionLimitError) throw new ExpressionLimitError(error.limit, message);
      // A stop (cancel, shutdown) is not the template's failure.
      if (!(error instanceof NonRetriableError)) throw error;
      throw new NonRetriableError(message, { cause: error });
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
 * node type's `expressionParams` (and, given `secrets`, the secret references of its `secretParams`),
 * then parses the result with the type's schema (defaults filled). Throws NonRetriableError naming
 * the param when a template fails, a secret is missing or the params do not fit.
 */
export async function prepareParams<P>(
  nodeType: NodeType<P>,
  rawParams: Readonly<Record<string, unknown>> | undefined,
  scope: ExpressionScope,
  evaluator: ExpressionEvaluator = inThread,
  bounds?: EvaluationBounds,
  secrets?: SecretReader,
): Promise<P> {
  const bare = new Set(nodeType.expressionParams ?? []);
  const entries: [string, unknown][] = [];
  for (const [key, value] of Object.entries(rawParams ?? {})) {
    const secretsHere = secrets && nodeType.secretParams?.includes(key) ? secrets : undefined;
    const resolved = bare.has(key) ? value : await resolveTemplates(value, scope, ['params', key], evaluator, bounds, secretsHere);
    if (resolved !== undefined) entries.push([key, resolved]);
  }
  const parsed = nodeType.params.safeParse(Object.fromEntries(entries));
  if (!parsed.success) {
    const detail = describeZodIssues(parsed.error.issues, 'params');
    throw new NonRetriableError(`params do not fit "${nodeType.type}": ${detail}`, { cause: parsed.error });
  }
  return parsed.data;
}
