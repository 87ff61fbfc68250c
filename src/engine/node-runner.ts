// Runs one node to its outcome: templates, attempts, per-attempt timeout, retries with backoff.
// Knows nothing of XState; the node actor wraps it.
import type { Clock } from './clock.js';
import type { RetryPolicy } from './definition.js';
import { describeError, NodeExecutionError, NodeTimeoutError } from './errors.js';
import { evaluate, prepareParams } from './expressions.js';
import type { GraphNode } from './graph.js';
import type { Log, NodeContext } from './nodes/node-type.js';
import type { NodeOutcome } from './scheduler.js';

/** What a node needs from its run. */
export interface NodeRunInput {
  runId: string;
  runInput: unknown;
  node: GraphNode;
  input: unknown;
  /** `$nodes`, shared and growing as the run goes on. */
  outputs: Record<string, unknown>;
  clock: Clock;
  log: Log;
  allowPrivateNetwork: boolean;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Called when an attempt failed and another follows after `delayMs`. */
  onRetry(failedAttempt: number, error: string, delayMs: number): void;
}

/**
 * Runs the node until it succeeds, fails for good, or `signal` aborts (then it rejects with the
 * signal's reason; the run actor has already marked the node CANCELLED). Never rejects otherwise.
 */
export async function runNode(run: NodeRunInput, signal: AbortSignal): Promise<NodeOutcome> {
  const { node, clock } = run;
  const maxAttempts = node.definition.retry?.maxAttempts ?? 1;
  const scope = { input: run.input, nodes: run.outputs, run: { id: run.runId, input: run.runInput } };
  for (let attempt = 1; ; attempt++) {
    try {
      const params = await prepareParams(node.nodeType, node.definition.params ?? {}, scope);
      const result = await withTimeout(node.definition.timeoutMs, clock, signal, (attemptSignal) => {
        const ctx: NodeContext = {
          runId: run.runId,
          nodeId: node.id,
          attempt,
          input: run.input,
          runInput: run.runInput,
          signal: attemptSignal,
          clock,
          log: run.log,
          evaluate: (expression) => evaluate(expression, scope),
          allowPrivateNetwork: run.allowPrivateNetwork,
        };
        return node.nodeType.run(params, ctx);
      });
      return { status: 'SUCCEEDED', output: result.output ?? null, handle: result.handle };
    } catch (error) {
      signal.throwIfAborted();
      const message = describeError(error);
      const retriable = !(error instanceof NodeExecutionError) || error.retriable;
      if (!retriable || attempt >= maxAttempts) return { status: 'FAILED', error: message };
      const delayMs = retryDelay(node.definition.retry!, attempt, error, run.random);
      run.onRetry(attempt, message, delayMs);
      await clock.sleep(delayMs, signal);
    }
  }
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
  timeoutMs: number | undefined,
  clock: Clock,
  signal: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (timeoutMs === undefined) return work(signal);
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
