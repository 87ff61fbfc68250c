// CONTRACT §3 through the real engine: controlled nodes released by the test, a manual clock, no sleeps.
import { describe, expect, it } from 'vitest';
import { NodeExecutionError, NonRetriableError } from '../../src/engine/index.js';
import { startTestRun } from '../helpers/engine-harness.js';
import { dag } from '../helpers/workflows.js';

/** Lets every pending promise callback run (one macrotask turn); no time passes. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('scheduling', () => {
  it('starts every node of a fan-out at once', async () => {
    const run = startTestRun(dag('t>a t>b t>c t>d t>e'));
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => run.nodes.started(id)));
    expect(run.nodes.running).toBe(5);
    for (const id of ['a', 'b', 'c', 'd', 'e']) run.nodes.succeed(id);
    expect((await run.done).status).toBe('SUCCEEDED');
  });

  it('starts a join once, only after every input settled', async () => {
    const run = startTestRun(dag('t>a t>b t>c a>j b>j c>j'));
    await run.nodes.started('a');
    run.nodes.succeed('a');
    run.nodes.succeed('b');
    await settle();
    expect(run.nodes.log).not.toContain('start j');
    run.nodes.succeed('c');
    const join = await run.nodes.started('j');
    expect(join.input).toEqual({ a: 'a done', b: 'b done', c: 'c done' });
    run.nodes.succeed('j');
    await run.done;
    expect(run.nodes.log.filter((line) => line === 'start j')).toHaveLength(1);
    expect(run.events('NODE_STARTED').filter((e) => e.nodeId === 'j')).toHaveLength(1);
  });

  it('passes a single input as is and the run input to triggers', async () => {
    const run = startTestRun(dag('t>a'), { input: { n: 1 } });
    expect((await run.nodes.started('a')).input).toEqual({ n: 1 });
    run.nodes.succeed('a', { out: 2 });
    const final = await run.done;
    expect(final.output).toEqual({ a: { out: 2 } });
  });

  it('never runs more than maxConcurrency nodes at once', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const run = startTestRun(dag(ids.map((id) => `t>${id}`).join(' '), { settings: { maxConcurrency: 3 } }));
    for (const id of ids) {
      await run.nodes.started(id);
      expect(run.nodes.running).toBeLessThanOrEqual(3);
      run.nodes.succeed(id);
    }
    expect((await run.done).status).toBe('SUCCEEDED');
    expect(run.nodes.maxRunning).toBe(3);
    expect(run.step('n9').status).toBe('SUCCEEDED');
  });
});

describe('live and dead edges', () => {
  const conditional = (mode?: 'ALL' | 'ANY') =>
    dag('t>c c:yes>a c:no>b a>m b>m m>after b>z z>zz', {
      nodes: { c: { type: 'choice', params: { handles: ['yes', 'no'] } }, m: { type: 'merge', params: mode ? { mode } : {} } },
    });

  it('skips the side a condition did not choose, transitively, with a reason', async () => {
    const run = startTestRun(conditional());
    await run.nodes.started('c');
    run.nodes.succeed('c', 'chosen', 'yes');
    await run.nodes.started('a');
    run.nodes.succeed('a');
    await run.nodes.started('after');
    run.nodes.succeed('after');
    expect((await run.done).status).toBe('SUCCEEDED');
    expect(run.step('b')).toMatchObject({ status: 'SKIPPED', reason: 'choice "c" chose "yes"' });
    expect(run.step('z')).toMatchObject({ status: 'SKIPPED', reason: 'upstream "b" was skipped' });
    expect(run.step('zz')).toMatchObject({ status: 'SKIPPED', reason: 'upstream "z" was skipped' });
  });

  it('runs an ANY merge on its live inputs and skips an ALL merge missing one', async () => {
    const any = startTestRun(conditional('ANY'));
    await any.nodes.started('c');
    any.nodes.succeed('c', 'x', 'yes');
    await any.nodes.started('a');
    any.nodes.succeed('a', 'from a');
    expect((await any.nodes.started('after')).input).toEqual({ a: 'from a' });
    expect(any.step('m')).toMatchObject({ status: 'SUCCEEDED', output: { a: 'from a' } });

    const all = startTestRun(conditional('ALL'));
    await all.nodes.started('c');
    all.nodes.succeed('c', 'x', 'yes');
    await all.nodes.started('a');
    all.nodes.succeed('a');
    expect((await all.done).status).toBe('SUCCEEDED');
    expect(all.step('m')).toMatchObject({ status: 'SKIPPED', reason: 'merge "m" needs every input: upstream "b" was skipped' });
    expect(all.step('after').status).toBe('SKIPPED');
  });
});

describe('failures', () => {
  it('FAIL_FAST aborts running siblings and cancels nodes that never started', async () => {
    const run = startTestRun(dag('t>a t>b t>c c>d'));
    const [, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => run.nodes.started(id)));
    run.nodes.fail('a', new Error('boom'));
    const final = await run.done;
    expect(final).toMatchObject({ status: 'FAILED', error: 'node "a" failed: boom' });
    expect(b!.signal.aborted).toBe(true);
    expect(c!.signal.aborted).toBe(true);
    expect(run.statuses()).toEqual({ t: 'SUCCEEDED', a: 'FAILED', b: 'CANCELLED', c: 'CANCELLED', d: 'CANCELLED' });
    expect(run.step('d').reason).toBe('cancelled: node "a" failed');
    expect(run.events().at(-1)).toMatchObject({ type: 'RUN_FAILED', error: 'node "a" failed: boom' });
  });

  it('CONTINUE lets the other branches finish and fails the run at the end', async () => {
    const run = startTestRun(dag('t>a t>b a>after', { settings: { errorStrategy: 'CONTINUE' } }));
    await run.nodes.started('a');
    run.nodes.fail('a');
    await settle();
    expect(run.step('after')).toMatchObject({ status: 'SKIPPED', reason: 'upstream "a" failed' });
    expect(run.step('b').status).toBe('RUNNING');
    run.nodes.succeed('b');
    expect(await run.done).toMatchObject({ status: 'FAILED', error: 'node "a" failed: a broke' });
    expect(run.step('b').status).toBe('SUCCEEDED');
  });

  it('onError CONTINUE records the failure and lets the run succeed', async () => {
    const run = startTestRun(dag('t>a t>b a>after', { nodes: { a: { onError: 'CONTINUE' } } }));
    await run.nodes.started('a');
    run.nodes.fail('a');
    await run.nodes.started('b');
    run.nodes.succeed('b');
    expect((await run.done).status).toBe('SUCCEEDED');
    expect(run.step('a')).toMatchObject({ status: 'FAILED', error: 'a broke' });
    expect(run.step('after').status).toBe('SKIPPED');
  });

  it.each([
    ['a string', 'plain words', 'plain words'],
    ['an object', { code: 7 }, 'threw {"code":7}'],
    ['undefined', undefined, 'threw undefined'],
    ['an Error without message', new TypeError(), 'TypeError'],
  ])('turns a handler throwing %s into a readable FAILED step', async (_, thrown, message) => {
    const run = startTestRun(dag('t>a'));
    await run.nodes.started('a');
    run.nodes.fail('a', thrown);
    await run.done;
    expect(run.step('a')).toMatchObject({ status: 'FAILED', error: message });
  });
});

describe('retries and timeouts on the injected clock', () => {
  it('retries with exponential backoff and jitter', async () => {
    const run = startTestRun(
      dag('t>a', { nodes: { a: { retry: { maxAttempts: 3, backoff: 'EXPONENTIAL', initialDelayMs: 100 } } } }),
    );
    await run.nodes.started('a');
    run.nodes.fail('a');
    await settle();
    expect(run.events('NODE_RETRYING')).toMatchObject([{ nodeId: 'a', attempt: 1, error: 'a broke' }]);
    expect(run.step('a')).toMatchObject({ status: 'RUNNING', attempt: 2 });
    // Base 100 ms with equal jitter at random() = 0.5: 50 + 25.
    await run.clock.advance(74);
    expect(run.nodes.isRunning('a')).toBe(false);
    await run.clock.advance(1);
    expect((await run.nodes.started('a')).attempt).toBe(2);
    run.nodes.fail('a');
    await settle();
    await run.clock.advance(150);
    expect((await run.nodes.started('a')).attempt).toBe(3);
    run.nodes.succeed('a');
    await run.done;
    expect(run.step('a')).toMatchObject({ status: 'SUCCEEDED', attempt: 3, error: null });
  });

  it('honours a Retry-After and stops at a non-retriable error', async () => {
    const run = startTestRun(dag('t>a', { nodes: { a: { retry: { maxAttempts: 5, initialDelayMs: 10 } } } }));
    await run.nodes.started('a');
    run.nodes.fail('a', new NodeExecutionError('HTTP 429', { retryAfterMs: 5000 }));
    await settle();
    await run.clock.advance(4999);
    expect(run.nodes.isRunning('a')).toBe(false);
    await run.clock.advance(1);
    await run.nodes.started('a');
    run.nodes.fail('a', new NonRetriableError('HTTP 404'));
    expect(await run.done).toMatchObject({ status: 'FAILED', error: 'node "a" failed: HTTP 404' });
    expect(run.step('a').attempt).toBe(2);
  });

  it('times out an attempt after the node timeoutMs', async () => {
    const run = startTestRun(dag('t>a', { nodes: { a: { timeoutMs: 1000 } } }));
    const attempt = await run.nodes.started('a');
    await run.clock.advance(1000);
    expect(await run.done).toMatchObject({ status: 'FAILED', error: 'node "a" failed: timed out after 1000 ms' });
    expect(attempt.signal.aborted).toBe(true);
  });

  it('fails the whole run after the run timeoutMs', async () => {
    const run = startTestRun(dag('t>a a>b', { settings: { timeoutMs: 5000 } }));
    const attempt = await run.nodes.started('a');
    await run.clock.advance(5000);
    expect(await run.done).toMatchObject({ status: 'FAILED', error: 'run timed out after 5000 ms' });
    expect(attempt.signal.aborted).toBe(true);
    expect(run.step('a')).toMatchObject({ status: 'CANCELLED', reason: 'cancelled: run timed out after 5000 ms' });
    expect(run.step('b').status).toBe('CANCELLED');
  });
});

describe('cancellation', () => {
  it('cancelRun aborts running nodes, cancels the rest and ends the run CANCELLED', async () => {
    const run = startTestRun(dag('t>a t>b b>c'));
    const a = await run.nodes.started('a');
    await run.nodes.started('b');
    expect(run.engine.cancelRun('run-1', 'stopped by test')).toBe(true);
    expect((await run.done).status).toBe('CANCELLED');
    expect(a.signal.aborted).toBe(true);
    expect(run.statuses()).toEqual({ t: 'SUCCEEDED', a: 'CANCELLED', b: 'CANCELLED', c: 'CANCELLED' });
    expect(run.step('c').reason).toBe('cancelled: stopped by test');
    expect(run.engine.cancelRun('run-1')).toBe(false);
  });
});

describe('events', () => {
  it('gives every transition a gapless seq and publishes only what is stored', async () => {
    const run = startTestRun(dag('t>a t>b a>j b>j'));
    for (const id of ['a', 'b', 'j']) {
      await run.nodes.started(id);
      run.nodes.succeed(id);
    }
    await run.done;
    const events = run.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(run.published).toEqual(events);
    expect(events[0]!.type).toBe('RUN_STARTED');
    expect(events.at(-1)!.type).toBe('RUN_SUCCEEDED');
  });
});

describe('branches', () => {
  it('names branches as paths and joins them at their common prefix', async () => {
    const run = startTestRun(dag('t>A t>B t>C A>S1 A>S2 B>S3 B>S4 C>S5 S1>j S2>j'));
    for (const id of ['A', 'B', 'C', 'S1', 'S2', 'S3', 'S4', 'S5', 'j']) {
      await run.nodes.started(id);
      run.nodes.succeed(id);
    }
    await run.done;
    const branchOf = (id: string) => run.step(id).branch;
    expect(branchOf('t')).toBe('main');
    expect(branchOf('A')).toBe('main/A');
    expect(branchOf('S1')).toBe('main/A/S1');
    expect(branchOf('S3')).toBe('main/B/S3');
    expect(branchOf('S5')).toBe('main/C');
    expect(branchOf('j')).toBe('main/A');
    const branches = run.stored().branches;
    expect(branches.get('main/A')).toMatchObject({ status: 'SUCCEEDED', nodeIds: ['A', 'j'] });
    expect([...branches.values()].every((b) => b.status === 'SUCCEEDED' && b.finishedAt)).toBe(true);
    const started = run.events('BRANCH_STARTED').map((e) => e.branch);
    const finished = run.events('BRANCH_FINISHED').map((e) => e.branch);
    expect(new Set(started)).toEqual(new Set(finished));
    expect(started).toHaveLength(branches.size);
  });
});
