// Retry waits on the injected clock: EXPONENTIAL doubles from initialDelayMs and FIXED stays, both
// capped by maxDelayMs (random() is 0.5 in the harness: equal jitter gives base/2 + base/4).
import { describe, expect, it } from 'vitest';
import { startTestRun } from '../helpers/engine-harness.js';
import { dag } from '../helpers/workflows.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Fails the node's current attempt and returns the wait (ms on the clock) before the next one. */
async function failAndMeasure(run: ReturnType<typeof startTestRun>, nodeId: string): Promise<number> {
  await run.nodes.started(nodeId);
  const failedAt = run.clock.now();
  run.nodes.fail(nodeId);
  await settle();
  const retryAt = run.step(nodeId).retryAt;
  if (!retryAt) throw new Error(`node ${nodeId} is not waiting to retry: ${JSON.stringify(run.step(nodeId))}`);
  const wait = retryAt.getTime() - failedAt;
  // The next attempt starts at retryAt, not a millisecond before.
  await run.clock.advance(wait - 1);
  expect(run.nodes.isRunning(nodeId)).toBe(false);
  await run.clock.advance(1);
  await run.nodes.started(nodeId);
  return wait;
}

describe('retry backoff', () => {
  it('caps exponential waits at maxDelayMs', async () => {
    const run = startTestRun(
      dag('t>a', {
        nodes: { a: { retry: { maxAttempts: 5, backoff: 'EXPONENTIAL', initialDelayMs: 1000, maxDelayMs: 1200 } } },
      }),
    );
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await failAndMeasure(run, 'a'));
    // Bases 1000, min(2000, 1200), min(4000, 1200), min(8000, 1200); at 0.5 each wait is 3/4 of its base.
    expect(waits).toEqual([750, 900, 900, 900]);
    run.nodes.succeed('a');
    expect(await run.done).toMatchObject({ status: 'SUCCEEDED' });
    expect(run.step('a').attempt).toBe(5);
  });

  it('caps a fixed wait at maxDelayMs', async () => {
    const run = startTestRun(
      dag('t>a', { nodes: { a: { retry: { maxAttempts: 2, backoff: 'FIXED', initialDelayMs: 5000, maxDelayMs: 2000 } } } }),
    );
    expect(await failAndMeasure(run, 'a')).toBe(2000);
    run.nodes.succeed('a');
    expect((await run.done).status).toBe('SUCCEEDED');
  });

  it('without maxDelayMs, keeps doubling', async () => {
    const run = startTestRun(
      dag('t>a', { nodes: { a: { retry: { maxAttempts: 4, backoff: 'EXPONENTIAL', initialDelayMs: 1000 } } } }),
    );
    const waits = [];
    for (let i = 0; i < 3; i++) waits.push(await failAndMeasure(run, 'a'));
    expect(waits).toEqual([750, 1500, 3000]);
    run.nodes.succeed('a');
    expect((await run.done).status).toBe('SUCCEEDED');
  });
});
