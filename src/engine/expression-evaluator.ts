// Where an expression is evaluated: inline when its cost is provably small (the whitelist of
// expression-plan.ts, over little data), otherwise in the worker pool under the time, memory and
// result bounds. `mode: 'inline'` keeps the previous in-thread evaluation (the benchmarks' baseline).
import { compile, cached, jsonataMessage, quote, type Compiled } from './expression-compile.js';
import { defaultExpressionLimits, ExpressionLimitError, type ExpressionLimits } from './expression-limits.js';
import { createExpressionPool, type ExpressionPool } from './expression-pool.js';
import { resultAnswer, type ExpressionTask } from './expression-worker.mjs';
import { NonRetriableError } from './errors.js';
import type { ExpressionScope } from './expressions.js';

/** What one evaluation may take; a node's timeoutMs, else EXPRESSION_TIMEOUT_MS. */
export interface EvaluationBounds {
  timeoutMs: number;
  /** The setting `timeoutMs` came from, named in the error: `timeoutMs` or `EXPRESSION_TIMEOUT_MS`. */
  timeoutName: string;
  /** The node's stop signal (cancel, attempt timeout); asked for only when a worker is used. */
  signal?: (() => AbortSignal) | undefined;
}

export interface ExpressionEvaluator {
  /**
   * Evaluates `source` against `scope`; the result is plain JSON (see `expressions.ts`). Throws
   * NonRetriableError for parse and evaluation errors, ExpressionLimitError past a bound.
   */
  evaluate(source: string, scope: ExpressionScope, bounds?: EvaluationBounds): Promise<unknown>;
  readonly limits: ExpressionLimits;
  /** Closes the pool if this evaluator made it (one passed in is its owner's to close); idempotent. */
  close(): Promise<void>;
}

export type ExpressionMode = 'bounded' | 'workers' | 'inline';

export interface ExpressionEvaluatorOptions {
  limits?: Partial<ExpressionLimits> | undefined;
  /**
   * `bounded` (default): inline when provably cheap, else in the pool; `workers`: every expression in
   * the pool (to measure the pool alone); `inline`: everything in this thread, unbounded — the previous
   * approach, for the benchmarks' baseline only.
   */
  mode?: ExpressionMode | undefined;
  /** A pool to use instead of making one (then not closed by `close`). */
  pool?: ExpressionPool | undefined;
  /** Start the pool's threads now instead of at the first expression that needs one (a server). */
  warm?: boolean | undefined;
  /** Where a worker thread's failure that no evaluation waits for is reported. */
  log?: ((message: string, data?: Record<string, unknown>) => void) | undefined;
}

/**
 * Inline only when astSize × (values the expression's paths start from) stays under this: JSONata
 * costs ~1–2 µs per syntax node per value, so at most a few ms of the main thread.
 */
const INLINE_BUDGET = 4096;

export function createExpressionEvaluator(options: ExpressionEvaluatorOptions = {}): ExpressionEvaluator {
  const limits: ExpressionLimits = { ...defaultExpressionLimits, ...options.limits };
  const defaultBounds: EvaluationBounds = { timeoutMs: limits.timeoutMs, timeoutName: 'EXPRESSION_TIMEOUT_MS' };
  let pool = options.pool;
  const ownPool = pool === undefined;
  const onError = (error: unknown) => options.log?.('expression worker failed outside a task', { error: String(error) });
  const poolNow = () => (pool ??= createExpressionPool({ memoryMb: limits.memoryMb, workers: limits.workers, onError }));
  if (options.warm && options.mode !== 'inline') poolNow();

  async function evaluate(source: string, scope: ExpressionScope, bounds = defaultBounds): Promise<unknown> {
    const compiled = cached(source) ?? compileOrThrow(source);
    if (options.mode === 'inline') return inline(source, compiled, scope, Number.POSITIVE_INFINITY);
    if (options.mode !== 'workers' && affordable(compiled, scope)) return inline(source, compiled, scope, limits.resultBytes);
    return inWorker(source, compiled, scope, bounds);
  }

  async function inWorker(source: string, compiled: Compiled, scope: ExpressionScope, bounds: EvaluationBounds): Promise<unknown> {
    const { plan } = compiled;
    const task: ExpressionTask = {
      source,
      input: scope.input,
      nodes: plan.nodes === null ? scope.nodes : pick(scope.nodes, plan.nodes),
      ...(plan.run ? { run: scope.run } : {}),
      resultBytes: limits.resultBytes,
    };
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const message = `expression ${quote(source)} timed out after ${bounds.timeoutMs} ms (${bounds.timeoutName})`;
      controller.abort(new ExpressionLimitError('timeout', message));
    }, bounds.timeoutMs);
    const stop = bounds.signal?.();
    const onStop = () => controller.abort(stop!.reason);
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
    try {
      const answer = await poolNow().run(task, controller.signal);
      if (answer.ok) return answer.json === undefined ? undefined : JSON.parse(answer.json);
      const message = `expression ${quote(source)} ${answer.message}`;
      throw answer.limit ? new ExpressionLimitError(answer.limit, message) : new NonRetriableError(message);
    } catch (error) {
      if (error instanceof ExpressionLimitError && error.limit === 'memory') {
        throw new ExpressionLimitError('memory', `expression ${quote(source)} ${error.message}`);
      }
      if (error instanceof NonRetriableError || controller.signal.aborted) throw error;
      throw new NonRetriableError(`expression ${quote(source)} failed in its worker: ${jsonataMessage(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    }
  }

  return {
    evaluate,
    limits,
    close: async () => {
      // A pool of its own is made again if something is evaluated after this.
      if (!ownPool || pool === undefined) return;
      const closing = pool;
      pool = undefined;
      await closing.close();
    },
  };
}

function compileOrThrow(source: string): Compiled {
  try {
    if (source.trim() === '') throw new Error('the expression is empty');
    return compile(source);
  } catch (error) {
    throw new NonRetriableError(`expression ${quote(source)} does not parse: ${jsonataMessage(error)}`, { cause: error });
  }
}

/** Evaluates in this thread; the result checked against `resultBytes` and copied to plain JSON. */
async function inline(source: string, { expression }: Compiled, scope: ExpressionScope, resultBytes: number): Promise<unknown> {
  let result: unknown;
  try {
    result = await expression.evaluate(scope.input, { input: scope.input, nodes: scope.nodes, run: scope.run });
  } catch (error) {
    throw new NonRetriableError(`expression ${quote(source)} failed: ${jsonataMessage(error)}`, { cause: error });
  }
  const answer = resultAnswer(result, resultBytes);
  if (!answer.ok) throw new ExpressionLimitError(answer.limit ?? 'result', `expression ${quote(source)} ${answer.message}`);
  return answer.json === undefined ? undefined : JSON.parse(answer.json);
}

/** Whether the plan allows inline evaluation and the data its paths start from is small enough. */
function affordable({ plan }: Compiled, scope: ExpressionScope): boolean {
  const { inline } = plan;
  if (inline === null) return false;
  // An object constructor over an array context groups its items, which JSONata does in quadratic time.
  if (inline.constructsObjects && Array.isArray(scope.input)) return false;
  let budget = Math.floor(INLINE_BUDGET / inline.astSize);
  for (const root of inline.roots) {
    budget -= countValues(valueAt(scope, root), budget);
    if (budget < 0) return false;
  }
  return true;
}

/** The value at a root path, descending through objects only (a name over an array maps over it). */
function valueAt(scope: ExpressionScope, root: readonly string[]): unknown {
  const [variable, ...names] = root;
  let value: unknown = variable === 'nodes' ? scope.nodes : variable === 'run' ? scope.run : scope.input;
  for (const name of names) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) break;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** How many values (containers and scalars) `value` holds, counting no further than `cap` + 1. */
function countValues(value: unknown, cap: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= cap) {
    const item = stack.pop();
    count++;
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      if (item.length > cap) return cap + 1;
      for (const member of item) stack.push(member);
    } else {
      for (const key in item) {
        stack.push((item as Record<string, unknown>)[key]);
        if (stack.length > cap) return cap + 1;
      }
    }
  }
  return count;
}

function pick(nodes: Readonly<Record<string, unknown>>, ids: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const id of ids) if (Object.hasOwn(nodes, id)) picked[id] = nodes[id];
  return picked;
}
