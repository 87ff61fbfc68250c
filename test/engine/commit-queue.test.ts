// The commit queue: one write in flight per run; commits made meanwhile merged into writes of bounded
// size, in order, each commit whole; nothing written after a failure.
import { describe, expect, it } from 'vitest';
import { createCommitQueue } from '../../src/engine/commit-queue.js';
import type { RunCommit, RunEvent, StepState } from '../../src/engine/events.js';
import { deferred, type Deferred } from '../helpers/deferred.js';

/** A commit of `events` events (seqs from `first`), touching step `step` when given. */
function commit(first: number, events: number, step?: string): RunCommit {
  return {
    runId: 'r',
    events: Array.from({ length: events }, (_, i) => ({ seq: first + i }) as RunEvent),
    steps: step ? [{ nodeId: step, status: 'RUNNING' } as StepState] : [],
    branches: [],
    run: null,
  };
}

/** A store whose writes the test completes one by one. */
function heldStore() {
  const writes: { commit: RunCommit; done: Deferred<void> }[] = [];
  return {
    writes,
    store: {
      commit(c: RunCommit) {
        const done = deferred();
        writes.push({ commit: c, done });
        return done.promise;
      },
    },
    /** Completes the write in flight and waits until the queue handed over the next one. */
    async finish(index: number) {
      writes[index]!.done.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const seqs = (c: RunCommit) => c.events.map((e) => e.seq);

describe('createCommitQueue', () => {
  it('merges the commits made during a write into writes of about maxMergedRows rows, in order, never splitting one', async () => {
    const held = heldStore();
    const stored: number[][] = [];
    const queue = createCommitQueue(held.store, { stored: (c) => stored.push(seqs(c)), failed: () => undefined }, { maxMergedRows: 5 });
    queue.push(commit(1, 1));
    // While seq 1 is written: 3 + 3 rows fill one write past the bound, 7 rows go alone (whole), 1 + 1 make the last.
    queue.push(commit(2, 2, 'a'));
    queue.push(commit(4, 3));
    queue.push(commit(7, 7));
    queue.push(commit(14, 1));
    queue.push(commit(15, 1, 'a'));
    expect(held.writes).toHaveLength(1);
    for (let i = 0; i < 4; i++) await held.finish(i);
    await queue.drained();
    expect(held.writes.map((w) => seqs(w.commit))).toEqual([[1], [2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12, 13], [14, 15]]);
    expect(held.writes.map((w) => w.commit.steps.map((s) => s.nodeId))).toEqual([[], ['a'], [], ['a']]);
    expect(stored).toEqual(held.writes.map((w) => seqs(w.commit)));
  });

  it('writes one merged commit when the bound is not reached', async () => {
    const held = heldStore();
    const queue = createCommitQueue(held.store, { stored: () => undefined, failed: () => undefined });
    queue.push(commit(1, 1));
    for (let seq = 2; seq <= 1001; seq++) queue.push(commit(seq, 1, `n${seq % 10}`));
    await held.finish(0);
    await held.finish(1);
    await queue.drained();
    expect(held.writes).toHaveLength(2);
    expect(seqs(held.writes[1]!.commit)).toHaveLength(1000);
    expect(held.writes[1]!.commit.steps).toHaveLength(10);
  });

  it('writes none of the waiting merged commits after a failed write', async () => {
    const held = heldStore();
    let failed: unknown;
    const queue = createCommitQueue(held.store, { stored: () => undefined, failed: (error) => (failed = error) }, { maxMergedRows: 1 });
    queue.push(commit(1, 1));
    queue.push(commit(2, 1));
    queue.push(commit(3, 1));
    held.writes[0]!.done.reject(new Error('lost'));
    await queue.drained();
    queue.push(commit(4, 1));
    await queue.drained();
    expect(failed).toEqual(new Error('lost'));
    expect(held.writes).toHaveLength(1);
  });
});
