// The time bounds of a node's attempts: the wait before a retry (backoff, or the server's Retry-After)
// and the per-attempt timeout, both on the injected clock.
import type { Clock } from './clock.js';
import type { RetryPolicy } from './definition.js';
import { NodeExecutionError } from './errors.js';

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

/** Runs `work` with a signal that also aborts after `timeoutMs` on the injected clock, with `timedOut()`. */
export async function withTimeout<T>(
  timeoutMs: number,
  clock: Clock,
  signal: AbortSignal,
  timedOut: () => Error,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const attempt = new AbortController();
  const stop = new AbortController();
  const onAbort = () => attempt.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timeout = new Promise<never>((_, reject) => {
    const expire = () => {
      const error = timedOut();
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
