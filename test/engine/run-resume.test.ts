// Runs go on from their stored rows: on random DAGs a run cut short at a random moment and restored in
// a second engine ends exactly as the reference says, with one settlement per node and gapless seqs;
// delays, retry waits and the run's deadline keep their stored times; a drain starts nothing new.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stepsToRetry, type RunEvent } from '../../src/engine/index.js';
import { createCommitQueue } from '../../src/engine/commit-queue.js';
import { startTestRun } from '../helpers/engine-harness.js';
import { drive, planArbitrary, reference, settledTypes, toDefinition } from '../helpers/random-plans.js';
import { dag } from '../helpers/workflows.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function assertOneSettlementEach(nodeIds: string[], events: RunEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  for (const id of nodeIds) {
    expect(events.filter((e) => e.nodeId === id && settledTypes.has(e.type)), id).toHaveLength(1);
    expect(events.filter((e) => e.nodeId === id && e.type === 'NODE_STARTED').length, id).toBeLessThanOrEqual(1);
  }
}

describe('random DAGs cut short and resumed', () => {
  it('end as the reference says (300 runs)', async () => {
    let resumed = 0;
    await fc.assert(
      fc.asyncProperty(planArbitrary, fc.nat({ max: 8 }), async (plan, cut) => {
        const first = startTestRun(toDefinition(plan));
        const finishedFirst = await drive(plan, first, cut);
        let final = await (finishedFirst ? first.done : (first.engine.detachRun('run-1'), first.ended.then((end) => end.state)));
        if (!finishedFirst) {
          expect((await first.ended).how).toBe('detached');
          resumed++;
          const second = startTestRun(toDefinition(plan), { resumeFrom: { store: first.store, clock: first.clock } });
          await drive(plan, second, Number.POSITIVE_INFINITY, plan.seed + 1);
          final = await second.done;
          expect(first.events('RUN_RESUMED')).toHaveLength(1);
        }
        const events = first.events();
        assertOneSettlementEach(plan.nodes.map((n) => n.id), events);
        const expected = reference(plan);
        expect(final.status).toBe(expected.failed ? 'FAILED' : 'SUCCEEDED');
        const actual = first.statuses();
        for (const [id, status] of Object.entries(actual)) {
          if (plan.errorStrategy === 'CONTINUE' || !expected.failed || status !== 'CANCELLED') expect(status, id).toBe(expected.statuses[id]);
        }
        // Every branch the run stored has finished, with the run.
        for (const branch of first.stored().branches.values()) expect(branch.finishedAt, branch.id).not.toBeNull();
      }),
      { numRuns: 300 },
    );
    // Most runs are cut short and resumed: typically 110–145 of 300 (random seeds); 100 failed ~1 in 100.
    expect(resumed).toBeGreaterThan(60);
  });

  it('retried after failing, rerun only what failed and end as a run without failures', async () => {
    let retried = 0;
    await fc.assert(
      fc.asyncProperty(planArbitrary, async (plan) => {
        const first = startTestRun(toDefinition(plan));
        await drive(plan, first);
        if ((await first.done).status !== 'FAILED') return;
        retried++;
        const succeededBefore = Object.entries(first.statuses()).filter(([, s]) => s === 'SUCCEEDED').map(([id]) => id);
        // What retryRun does to the rows: the chosen steps back to PENDING, the run reopened.
        const stored = first.stored();
        const reset = stepsToRetry(first.graph, (id) => stored.steps.get(id)?.status);
        for (const id of reset) {
          const step = stored.steps.get(id)!;
          stored.steps.set(id, { ...step, status: 'PENDING', attempt: 0, branch: null, startedAt: null, finishedAt: null, error: null, reason: null, output: null, input: null });
        }
        const fixed = { ...plan, nodes: plan.nodes.map((n) => ({ ...n, fails: false })) };
        const second = startTestRun(toDefinition(plan), { resumeFrom: { store: first.store, clock: first.clock, event: null, retries: 1 } });
        const started: string[] = [];
        void second.nodes.log; // the controlled nodes record every start
        await drive(fixed, second);
        expect((await second.done).status).toBe('SUCCEEDED');
        for (const line of second.nodes.log) if (line.startsWith('start ')) started.push(line.slice(6));
        // Nothing that had succeeded ran again; everything ends as in a run that never failed.
        expect(started.filter((id) => succeededBefore.includes(id))).toEqual([]);
        expect(second.statuses()).toEqual(reference(fixed).statuses);
        expect(second.events().map((e) => e.seq)).toEqual(second.events().map((_, i) => i + 1));
      }),
      { numRuns: 300 },
    );
    expect(retried).toBeGreaterThan(30);
  });
});

describe('stored times', () => {
  it('a resumed delay waits only for what was left of it', async () => {
    const first = startTestRun(dag('t>d d>a', { nodes: { d: { type: 'delay', params: { ms: 1000 } } } }));
    await settle();
    await first.clock.advance(600);
    expect(first.step('d')).toMatchObject({ status: 'RUNNING', wakeAt: new Date(1000) });
    first.engine.detachRun('run-1');
    expect((await first.ended).how).toBe('detached');

    const second = startTestRun(dag('t>d d>a', { nodes: { d: { type: 'delay', params: { ms: 1000 } } } }), {
      resumeFrom: { store: first.store, clock: first.clock },
    });
    await settle();
    await second.clock.advance(399);
    expect(second.nodes.isRunning('a')).toBe(false);
    await second.clock.advance(1);
    await second.nodes.started('a');
    second.nodes.succeed('a');
    expect((await second.done).status).toBe('SUCCEEDED');
    expect(first.step('d')).toMatchObject({ status: 'SUCCEEDED', attempt: 1, wakeAt: null });
  });

  it('a resumed retry wait keeps its time and its attempt number', async () => {
    const definition = dag('t>a', { nodes: { a: { retry: { maxAttempts: 2, backoff: 'FIXED', initialDelayMs: 1000 } } } });
    const first = startTestRun(definition);
    await first.nodes.started('a');
    first.nodes.fail('a');
    await settle();
    await first.clock.advance(300);
    expect(first.step('a')).toMatchObject({ status: 'RUNNING', attempt: 2, retryAt: new Date(1000) });
    first.engine.detachRun('run-1');
    await first.ended;

    const second = startTestRun(definition, { resumeFrom: { store: first.store, clock: first.clock } });
    await settle();
    await second.clock.advance(699);
    expect(second.nodes.isRunning('a')).toBe(false);
    await second.clock.advance(1);
    expect((await second.nodes.started('a')).attempt).toBe(2);
    // The last attempt fails for good: the crash used up no attempt.
    second.nodes.fail('a');
    expect(await second.done).toMatchObject({ status: 'FAILED', error: 'node "a" failed: a broke' });
  });

  it('a node running at the crash runs again under the same attempt', async () => {
    const definition = dag('t>a', { nodes: { a: { retry: { maxAttempts: 1 } } } });
    const first = startTestRun(definition);
    await first.nodes.started('a');
    first.engine.detachRun('run-1');
    await first.ended;
    const second = startTestRun(definition, { resumeFrom: { store: first.store, clock: first.clock } });
    expect((await second.nodes.started('a')).attempt).toBe(1);
    second.nodes.succeed('a');
    expect((await second.done).status).toBe('SUCCEEDED');
    expect(first.events().map((e) => e.type)).toEqual([
      'RUN_STARTED', 'BRANCH_STARTED', 'NODE_STARTED', 'NODE_SUCCEEDED', 'NODE_STARTED', 'RUN_RESUMED', 'NODE_SUCCEEDED', 'BRANCH_FINISHED', 'RUN_SUCCEEDED',
    ]);
  });

  it('a node cut short in its second attempt runs that attempt again, not a third', async () => {
    const definition = dag('t>a', { nodes: { a: { retry: { maxAttempts: 2, backoff: 'FIXED', initialDelayMs: 100 } } } });
    const first = startTestRun(definition);
    await first.nodes.started('a');
    first.nodes.fail('a');
    await settle();
    await first.clock.advance(100);
    expect((await first.nodes.started('a')).attempt).toBe(2);
    first.engine.detachRun('run-1');
    await first.ended;
    const second = startTestRun(definition, { resumeFrom: { store: first.store, clock: first.clock } });
    expect((await second.nodes.started('a')).attempt).toBe(2);
    second.nodes.fail('a');
    expect(await second.done).toMatchObject({ status: 'FAILED' });
    expect(first.step('a').attempt).toBe(2);
  });

  it("the run's timeout counts from its first start", async () => {
    const definition = dag('t>a', { settings: { timeoutMs: 1000 } });
    const first = startTestRun(definition);
    await first.nodes.started('a');
    await first.clock.advance(700);
    first.engine.detachRun('run-1');
    await first.ended;
    const second = startTestRun(definition, { resumeFrom: { store: first.store, clock: first.clock } });
    await second.nodes.started('a');
    await second.clock.advance(299);
    expect(second.step('a').status).toBe('RUNNING');
    await second.clock.advance(1);
    expect(await second.done).toMatchObject({ status: 'FAILED', error: 'run timed out after 1000 ms' });
  });
});

describe('drain', () => {
  it('starts no new node, lets the running one finish and stores it, then leaves the run as stored', async () => {
    const run = startTestRun(dag('t>a a>b'));
    await run.nodes.started('a');
    const drained = run.engine.drain(10_000);
    run.nodes.succeed('a');
    await drained;
    expect((await run.ended).how).toBe('detached');
    expect(run.statuses()).toMatchObject({ a: 'SUCCEEDED', b: 'PENDING' });
    expect(run.nodes.log).not.toContain('start b');
    expect(run.stored().run?.status).toBe('RUNNING');
  });

  it('leaves a node still running at the grace deadline RUNNING, never CANCELLED', async () => {
    const run = startTestRun(dag('t>a'));
    const attempt = await run.nodes.started('a');
    const drained = run.engine.drain(500);
    await run.clock.advance(500);
    await drained;
    expect(attempt.signal.aborted).toBe(true);
    expect(run.step('a')).toMatchObject({ status: 'RUNNING' });
    expect(run.events().map((e) => e.type)).not.toContain('NODE_CANCELLED');
  });
});

describe('storage failures', () => {
  it('the commit queue writes nothing after a failed write, not even a later commit', async () => {
    const written: number[] = [];
    let failed: unknown;
    const queue = createCommitQueue(
      {
        commit: async (c) => {
          if (c.events[0]?.seq === 1) throw new Error('lost');
          written.push(c.events[0]!.seq);
        },
      },
      { stored: () => undefined, failed: (error) => (failed = error) },
    );
    const commit = (seq: number) => ({ runId: 'r', events: [{ seq } as RunEvent], steps: [], branches: [], run: null });
    queue.push(commit(1));
    queue.push(commit(2)); // made while 1 was being written
    await queue.drained();
    queue.push(commit(3)); // made after
    await queue.drained();
    expect(failed).toEqual(new Error('lost'));
    expect(written).toEqual([]);
  });

  it('an output holding NUL fails its step with a readable error, and the run goes on', async () => {
    const run = startTestRun(dag('t>a', { nodes: { a: { onError: 'CONTINUE' } } }));
    await run.nodes.started('a');
    run.nodes.succeed('a', { k: 'x\u0000y' });
    expect((await run.done).status).toBe('SUCCEEDED');
    expect(run.step('a')).toMatchObject({ status: 'FAILED', error: 'the output cannot be stored: output.k holds a NUL character (\\u0000)' });
  });

  it('after a failed commit nothing more is written and the run ends as store-failed', async () => {
    const run = startTestRun(dag('t>a a>b'));
    await run.nodes.started('a');
    const commit = run.store.commit.bind(run.store);
    let failing = true;
    run.store.commit = async (c) => {
      if (failing) throw new Error('disk full');
      return commit(c);
    };
    const seqBefore = run.events().length;
    run.nodes.succeed('a');
    const end = await run.ended;
    failing = false;
    expect(end).toMatchObject({ how: 'store-failed', error: new Error('disk full') });
    expect(run.events()).toHaveLength(seqBefore);
    // b started in the step whose commit failed: it is stopped, and nothing of it was stored.
    expect(run.nodes.attempt('b').signal.aborted).toBe(true);
    expect(run.step('b').status).toBe('PENDING');
  });
});
