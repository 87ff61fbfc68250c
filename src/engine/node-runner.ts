// Runs one node to its outcome: templates, attempts, per-attempt timeout, retries with backoff.
// Knows nothing of XState; the node actor wraps it.
import type { Clock } from './clock.js';
import type { RetryPolicy } from './definition.js';
import { describeError, NodeExecutionError, NodeTimeoutError } from './errors.js';
import { evaluate, prepareParams, templateExpressions, type ExpressionScope } from './expressions.js';
import type { GraphNode } from './graph.js';
import type { Log, NodeContext } from './nodes/node-type.js';
import type { NodeOutcome } from './scheduler.js';

/** What every node of one run shares (one object per run, not per node). */
export interface RunShared {
  runId: string;
  runInput: unknown;
  /** `$nodes`, growing as the run goes on. */
  outputs: Record<string, unknown>;
  clock: Clock;
  log: Log;
  allowPrivateNetwork: boolean;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Called when an attempt of `node` failed and another follows after a backoff. */
  onRetry(node: GraphNode, failedAttempt: number, error: string): void;
}

/** What a node actor runs. */
export interface NodeRunInput {
  run: RunShared;
  node: GraphNode;
  input: unknown;
}

/** An abort signal made only when someone asks for it: most handlers never look. */
export interface StopToken {
  readonly signal: AbortSignal;
  readonly aborted: boolean;
}

/**
 * Runs the node until it succeeds, fails for good, or `stop` aborts (then it rejects with the
 * signal's reason; the run actor has already marked the node CANCELLED). Never rejects otherwise.
 */
export async function runNode({ run, node, input }: NodeRunInput, stop: StopToken): Promise<NodeOutcome> {
  const { definition } = node;
  const maxAttempts = definition.retry?.maxAttempts ?? 1;
  const scope: ExpressionScope = { input, nodes: run.outputs, run: { id: run.runId, input: run.runInput } };
  for (let attempt = 1; ; attempt++) {
    try {
      const params = staticParams(node) ?? (await prepareParams(node.nodeType, definition.params, scope));
      const call = (signal: () => AbortSignal) => {
        const ctx: NodeContext = {
          runId: run.runId,
          nodeId: node.id,
          attempt,
          input,
          runInput: run.runInput,
          get signal() {
            return signal();
          },
          clock: run.clock,
          log: run.log,
          evaluate: (expression) => evaluate(expression, scope),
          allowPrivateNetwork: run.allowPrivateNetwork,
        };
        return node.nodeType.run(params, ctx);
      };
      const result =
        definition.timeoutMs === undefined
          ? await call(() => stop.signal)
          : await withTimeout(definition.timeoutMs, run.clock, stop.signal, (signal) => call(() => signal));
      return { status: 'SUCCEEDED', output: result.output ?? null, handle: result.handle };
    } catch (error) {
      if (stop.aborted) throw stop.signal.reason;
      const message = describeError(error);
      const retriable = !(error instanceof NodeExecutionError) || error.retriable;
      if (!retriable || attempt >= maxAttempts) return { status: 'FAILED', error: message };
      run.onRetry(node, attempt, message);
      await run.clock.sleep(retryDelay(definition.retry!, attempt, error, run.random), stop.signal);
    }
  }
}

const parsedParams = new WeakMap<GraphNode, { params: unknown } | null>();

/** Params without any `{{ }}` template, parsed once per compiled graph; null when they have templates. */
function staticParams(node: GraphNode): unknown {
  let cached = parsedParams.get(node);
  if (cached === undefined) {
    const raw = node.definition.params ?? {};
    const templated = templateExpressions(raw).length > 0;
    const parsed = templated ? null : node.nodeType.params.safeParse(raw);
    cached = parsed?.success ? { params: parsed.data } : null;
    parsedParams.set(node, cached);
  }
  return cached?.params ?? null;
}

/**
 * The wait before the attempt after `failedAttempt`: a server's Retry-After wins; otherwise FIXED or
 * EXPONENTIAL (doubling, with "equal jitter": half fixed, half random), capped by maxDelayMs.
 */
export function retryDelay(policy: RetryPolicy, failedAttempt: number, error: unknown, random: () => number): number {
  const cap = policy.maxDelayMs ?? Number.POSITIVE_INFINITY;
  if (error instanceof NodeExecutionError && error.retryAfterMs !== undefined) return error.retryAfterMs;
  if (policy.backoff === 'FIXED') return Math.min(policy.initialDelayMs, cap);
  const base = Math.min(policy.initialDelayMs * 2 ** (failedAttempt - 1), cap);
  return Math.round(base / 2 + (base / 2) * random());
}

/** Runs `work` with a signal that also aborts after `timeoutMs` on the injected clock. */
async function withTimeout<T>(
  timeoutMs: number,
  clock: Clock,
  signal: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const attempt = new AbortController();
  const stop = new AbortController();
  const onAbort = () => attempt.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timeout = new Promise<never>((_, reject) => {
    const expire = () => {
      const error = new NodeTimeoutError(timeoutMs);
      attempt.abort(error);
      reject(error);
    };
    // The sleep rejects only when `stop` aborts it: the work settled first and nothing waits on this.
    clock.sleep(timeoutMs, stop.signal).then(expire, () => undefined);
  });
  try {
    // A handler that ignores its signal still loses the race.
    return await Promise.race([work(attempt.signal), timeout]);
  } finally {
    stop.abort();
    signal.removeEventListener('abort', onAbort);
  }
}
