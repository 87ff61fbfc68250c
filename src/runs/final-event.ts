// Waiting for a run's final event on the local feed: how cancelRun on one process learns that the
// process driving the run has stored its end.
import type { ServerPubSub } from './event-feed.js';

const finalTypes: ReadonlySet<string> = new Set(['RUN_SUCCEEDED', 'RUN_FAILED', 'RUN_CANCELLED']);

/**
 * Listens from now: `done` resolves at the run's next final event, after `timeoutMs`, or at `stop()`
 * (the caller reads the stored row either way).
 */
export function waitForFinalEvent(pubsub: ServerPubSub, runId: string, timeoutMs: number): { done: Promise<void>; stop(): void } {
  const feed = pubsub.events.subscribe(runId);
  const timer = setTimeout(() => feed.close(), timeoutMs);
  const done = (async () => {
    try {
      for await (const event of feed) if (finalTypes.has(event.type)) return;
    } catch {
      // Dropped as too slow: the caller reads the stored row.
    } finally {
      clearTimeout(timer);
      feed.close();
    }
  })();
  return { done, stop: () => feed.close() };
}
