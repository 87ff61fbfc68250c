// The database RunStore: what a commit writes, group commit across runs, order, scale and failures.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBranches, readRunEvents, readSteps, readUnfinishedRuns } from '../../src/db/run-reads.js';
import { createRunStore, RunCommitError, type CommittedBatch } from '../../src/db/run-store.js';
import { runs, steps } from '../../src/db/schema.js';
import { compileWorkflow, createEngine, createNodeRegistry } from '../../src/engine/index.js';
import type { RunStore } from '../../src/engine/store.js';
import { createControlledNodes } from '../helpers/controlled-nodes.js';
import { createManualClock } from '../helpers/manual-clock.js';
import { dag } from '../helpers/workflows.js';
import { deferred } from '../helpers/deferred.js';
import { createTestDatabase, insertRun, type TestDatabase } from '../helpers/db.js';
import { commit, event, step } from './commits.js';

let database: TestDatabase;
let nextRun = 0;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** Fresh runs for one test, inserted QUEUED. */
async function newRuns(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `run_${++nextRun}`);
  for (const id of ids) await insertRun(database, id);
  return ids;
}

function recorder() {
  const batches: CommittedBatch[] = [];
  return { batches, onCommitted: (batch: CommittedBatch) => batches.push(batch) };
}

describe('createRunStore', () => {
  it('is the engine’s RunStore: a run driven by the engine through it is in the database as it ran', async () => {
    const [runId] = (await newRuns(1)) as [string];
    const store: RunStore = createRunStore(database);
    const nodes = createControlledNodes();
    const engine = createEngine({ store, registry: createNodeRegistry(nodes.types), clock: createManualClock(), random: () => 0.5 });
    const handle = engine.startRun({ runId, graph: compileWorkflow(dag('t>a'), engine.registry), input: { n: 1 } });
    await nodes.started('a');
    nodes.succeed('a', { done: true });
    expect((await handle.done).status).toBe('SUCCEEDED');

    const events = await readRunEvents(database, runId, 0, 100);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => [e.type, e.nodeId])).toEqual([
      ['RUN_STARTED', null],
      ['BRANCH_STARTED', null],
      ['NODE_STARTED', 't'],
      ['NODE_SUCCEEDED', 't'],
      ['NODE_STARTED', 'a'],
      ['NODE_SUCCEEDED', 'a'],
      ['BRANCH_FINISHED', null],
      ['RUN_SUCCEEDED', null],
    ]);
    const stored = (await readSteps(database, runId)).sort((x, y) => x.nodeId.localeCompare(y.nodeId));
    expect(stored.map((s) => [s.nodeId, s.status, s.output])).toEqual([
      ['a', 'SUCCEEDED', { done: true }],
      ['t', 'SUCCEEDED', { n: 1 }],
    ]);
    const [row] = await database.db.select().from(runs).where(sql`${runs.id} = ${runId}`);
    expect(row).toMatchObject({ status: 'SUCCEEDED', output: { a: { done: true } } });
  });

  it('gathers the commits of later loop turns into one transaction while gatherMs runs', async () => {
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const twoTurns = async (gatherMs: number) => {
      const [runId] = (await newRuns(1)) as [string];
      const store = createRunStore(database, { gatherMs });
      const first = store.commit(commit(runId, { events: [event(runId, 1)] }));
      await turn();
      const second = store.commit(commit(runId, { events: [event(runId, 2)] }));
      await Promise.all([first, second]);
      return store.stats().transactions;
    };
    expect(await twoTurns(0)).toBe(2);
    expect(await twoTurns(1000)).toBe(1);
  });

  it('persists a commit’s events, steps, branches and run state', async () => {
    const [runId] = (await newRuns(1)) as [string];
    const store = createRunStore(database);
    const started = new Date('2026-03-04T05:06:07.089Z');
    const finished = new Date('2026-03-04T05:06:08.001Z');

    await store.commit(
      commit(runId, {
        events: [event(runId, 1, { type: 'RUN_STARTED', nodeId: null, status: 'RUNNING', attempt: null })],
        steps: [step('a'), step('b')],
        run: { status: 'RUNNING', startedAt: started, finishedAt: null, output: undefined, error: null, deadlineAt: null },
      }),
    );
    await store.commit(
      commit(runId, {
        events: [
          event(runId, 2, { type: 'NODE_SUCCEEDED', nodeId: 'a', status: 'SUCCEEDED' }),
          event(runId, 3, { type: 'NODE_SKIPPED', nodeId: 'b', status: 'SKIPPED', attempt: null, reason: 'upstream "a" chose "x"' }),
          event(runId, 4, { type: 'RUN_SUCCEEDED', nodeId: null, branch: null, status: 'SUCCEEDED', attempt: null }),
        ],
        steps: [
          step('a', { status: 'SUCCEEDED', startedAt: started, finishedAt: finished, input: { n: 1 }, output: [1, 'two'] }),
          step('b', { status: 'SKIPPED', reason: 'upstream "a" chose "x"' }),
        ],
        branches: [{ id: '0', status: 'SUCCEEDED', nodeIds: ['a', 'b'], startedAt: started, finishedAt: finished }],
        run: { status: 'SUCCEEDED', startedAt: started, finishedAt: finished, output: { done: true }, error: null, deadlineAt: null },
      }),
    );

    const events = await readRunEvents(database, runId, 0);
    expect(events.map((e) => [e.seq, e.type, e.nodeId, e.status])).toEqual([
      [1, 'RUN_STARTED', null, 'RUNNING'],
      [2, 'NODE_SUCCEEDED', 'a', 'SUCCEEDED'],
      [3, 'NODE_SKIPPED', 'b', 'SKIPPED'],
      [4, 'RUN_SUCCEEDED', null, 'SUCCEEDED'],
    ]);
    expect(events[0]).toEqual({
      runId, seq: 1, type: 'RUN_STARTED', at: new Date('2026-01-02T03:04:05.678Z'), nodeId: null, branch: '0',
      status: 'RUNNING', attempt: null, error: null, reason: null,
    });
    expect(await readSteps(database, runId)).toEqual([
      {
        runId, nodeId: 'a', nodeType: 'task', status: 'SUCCEEDED', attempt: 1, branch: '0', startedAt: started,
        finishedAt: finished, input: { n: 1 }, output: [1, 'two'], error: null, reason: null,
        handle: null, retryAt: null, wakeAt: null,
      },
      {
        runId, nodeId: 'b', nodeType: 'task', status: 'SKIPPED', attempt: 1, branch: '0', startedAt: null,
        finishedAt: null, input: null, output: null, error: null, reason: 'upstream "a" chose "x"',
        handle: null, retryAt: null, wakeAt: null,
      },
    ]);
    expect(await readBranches(database, runId)).toEqual([
      { runId, id: '0', status: 'SUCCEEDED', nodeIds: ['a', 'b'], startedAt: started, finishedAt: finished },
    ]);
    const [run] = await database.db.select().from(runs).where(sql`${runs.id} = ${runId}`);
    expect(run).toMatchObject({ status: 'SUCCEEDED', startedAt: started, finishedAt: finished, output: { done: true }, error: null, deadlineAt: null });
  });

  it('stores any JSON value as it was given', async () => {
    const [runId] = (await newRuns(1)) as [string];
    const values: unknown[] = [
      '123', 'true', '{"a":1}', 'plain', '', 0, -1.5, false, null, [], {}, [null, 'x', { y: [2] }],
      { text: 'émoji 🚀 \\ " \n', nested: { deep: [1, { deeper: 'yes' }] } },
    ];
    const store = createRunStore(database);
    await store.commit(commit(runId, { steps: values.map((value, i) => step(`n${i}`, { input: value, output: value })) }));
    await store.commit(commit(runId, { run: { status: 'RUNNING', startedAt: null, finishedAt: null, output: '42', error: null, deadlineAt: null } }));

    const stored = new Map((await readSteps(database, runId)).map((s) => [s.nodeId, s]));
    values.forEach((value, i) => {
      expect(stored.get(`n${i}`)?.input).toEqual(value);
      expect(stored.get(`n${i}`)?.output).toEqual(value);
    });
    const [run] = await database.db.select({ output: runs.output }).from(runs).where(sql`${runs.id} = ${runId}`);
    expect(run?.output).toBe('42');
  });

  it('writes the commits of many runs made together in one transaction, resolving them in call order', async () => {
    const ids = await newRuns(10);
    const { batches, onCommitted } = recorder();
    const store = createRunStore(database, { onCommitted });
    const resolved: string[] = [];

    const promises = [1, 2, 3].flatMap((seq) =>
      ids.map((runId) => {
        const label = `${runId}#${seq}`;
        return store
          .commit(commit(runId, { events: [event(runId, seq)], steps: [step('a', { attempt: seq })] }))
          .then(() => resolved.push(label));
      }),
    );
    await Promise.all(promises);

    expect(batches.map((b) => b.commits.length)).toEqual([30]);
    expect(store.stats()).toMatchObject({ commits: 30, transactions: 1, failedTransactions: 0, pending: 0 });
    expect(resolved).toEqual([1, 2, 3].flatMap((seq) => ids.map((runId) => `${runId}#${seq}`)));
    for (const runId of ids) {
      expect((await readRunEvents(database, runId, 0)).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await readSteps(database, runId)).map((s) => s.attempt)).toEqual([3]);
    }
  });

  it('queues commits behind the write in flight and writes them all in the next transaction', async () => {
    const ids = await newRuns(5);
    const [first] = ids as [string];
    const { batches, onCommitted } = recorder();
    const store = createRunStore(database, { onCommitted });
    const release = deferred();
    const holding = deferred();
    // Another transaction locks the first run's row: the store's write for it cannot finish yet.
    const blocker = database.db.transaction(async (tx) => {
      await tx.select().from(runs).where(sql`${runs.id} = ${first}`).for('update');
      holding.resolve();
      await release.promise;
    });
    await holding.promise;

    const firstCommit = store.commit(commit(first, { events: [event(first, 1)] }));
    await new Promise((resolve) => setImmediate(resolve)); // the store's write has begun
    expect(store.stats().pending).toBe(1);
    const later = ids.flatMap((runId) => [
      store.commit(commit(runId, { events: [event(runId, runId === first ? 2 : 1)] })),
      store.commit(commit(runId, { events: [event(runId, runId === first ? 3 : 2)] })),
    ]);
    expect(store.stats().pending).toBe(11);
    release.resolve();
    await blocker;
    await Promise.all([firstCommit, ...later]);

    expect(batches.map((b) => b.commits.length)).toEqual([1, 10]);
    expect((await readRunEvents(database, first, 0)).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('keeps the latest state of a step touched by several commits of one batch', async () => {
    const [runId] = (await newRuns(1)) as [string];
    const { batches, onCommitted } = recorder();
    const store = createRunStore(database, { onCommitted });
    const t0 = new Date('2026-05-05T05:05:05.005Z');

    await Promise.all([
      store.commit(commit(runId, { steps: [step('a'), step('b')] })),
      store.commit(commit(runId, { steps: [step('a', { status: 'RUNNING', startedAt: t0 })] })),
      store.commit(
        commit(runId, {
          steps: [step('a', { status: 'SUCCEEDED', startedAt: t0, finishedAt: t0, output: 'done' }), step('b', { status: 'RUNNING' })],
          branches: [{ id: '0', status: 'RUNNING', nodeIds: ['a'], startedAt: t0, finishedAt: null }],
        }),
      ),
      store.commit(commit(runId, { branches: [{ id: '0', status: 'SUCCEEDED', nodeIds: ['a', 'b'], startedAt: t0, finishedAt: t0 }] })),
    ]);

    expect(batches).toHaveLength(1);
    expect((await readSteps(database, runId)).map((s) => [s.nodeId, s.status, s.output])).toEqual([
      ['a', 'SUCCEEDED', 'done'],
      ['b', 'RUNNING', null],
    ]);
    expect((await readBranches(database, runId)).map((b) => [b.status, b.nodeIds])).toEqual([['SUCCEEDED', ['a', 'b']]]);
  });

  it('writes a 10,000-step commit and its updates, split over several statements', async () => {
    const [runId, other] = (await newRuns(2)) as [string, string];
    const nodeIds = Array.from({ length: 10_000 }, (_, i) => `node_${i}`);
    const store = createRunStore(database, { maxStatementChars: 256 * 1024 });

    await store.commit(commit(runId, { events: [event(runId, 1)], steps: nodeIds.map((id) => step(id)) }));
    await Promise.all([
      store.commit(commit(runId, { steps: nodeIds.map((id) => step(id, { status: 'SKIPPED', reason: 'test' })) })),
      store.commit(commit(other, { steps: nodeIds.map((id) => step(id, { output: { id } })) })),
    ]);

    const stored = await readSteps(database, runId);
    expect(stored).toHaveLength(10_000);
    expect(stored.every((s) => s.status === 'SKIPPED' && s.reason === 'test')).toBe(true);
    const [counted] = await database.rows<{ count: string }>(
      sql`select count(*) as count from ${steps} where ${steps.runId} = ${other} and ${steps.output} ->> 'id' = ${steps.nodeId}`,
    );
    expect(Number(counted?.count)).toBe(10_000);
  });

  it('rejects the commits of a run whose write fails, and still writes the others', async () => {
    const [good, bad] = (await newRuns(2)) as [string, string];
    const store = createRunStore(database);

    const results = await Promise.allSettled([
      store.commit(commit(good, { events: [event(good, 1)] })),
      // jsonb cannot hold \u0000: a realistic poison, e.g. an HTTP body.
      store.commit(commit(bad, { events: [event(bad, 1)], steps: [step('a', { output: { body: 'a\u0000b' } })] })),
      store.commit(commit(good, { events: [event(good, 2)] })),
      store.commit(commit(bad, { events: [event(bad, 2)] })),
    ]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    const failure = (results[1] as PromiseRejectedResult).reason as RunCommitError;
    expect(failure).toBeInstanceOf(RunCommitError);
    expect(failure.message).toContain(bad);
    expect(failure.message).toMatch(/unicode/i); // the database's reason, without the batch's parameters
    expect(failure.message.length).toBeLessThan(300);
    expect(failure.cause).toBeInstanceOf(Error);
    expect((await readRunEvents(database, good, 0)).map((e) => e.seq)).toEqual([1, 2]);
    expect(await readRunEvents(database, bad, 0)).toEqual([]);

    await store.commit(commit(bad, { events: [event(bad, 1)] }));
    expect((await readRunEvents(database, bad, 0)).map((e) => e.seq)).toEqual([1]);
    expect(store.stats()).toMatchObject({ commits: 5, failedTransactions: 2, pending: 0 });
  });

  it('rejects a failed batch of one run with the database error as cause, then serves later commits', async () => {
    const store = createRunStore(database);
    const missing = 'run_that_does_not_exist';

    const failed = store.commit(commit(missing, { events: [event(missing, 1)] }));
    await expect(failed).rejects.toBeInstanceOf(RunCommitError);
    await expect(failed).rejects.toMatchObject({ cause: expect.any(Error) });

    const [runId] = (await newRuns(1)) as [string];
    await store.commit(commit(runId, { events: [event(runId, 1)] }));
    expect(await readRunEvents(database, runId, 0)).toHaveLength(1);
  });

  it('drains: resolves once every commit made so far has settled', async () => {
    const [runId] = (await newRuns(1)) as [string];
    const store = createRunStore(database);
    let settled = 0;
    for (let seq = 1; seq <= 5; seq++) void store.commit(commit(runId, { events: [event(runId, seq)] })).then(() => settled++);
    await store.drain();
    expect(settled).toBe(5);
    expect(store.stats().pending).toBe(0);
  });
});

describe('readRunEvents', () => {
  it('reads after a seq, in order, up to a limit', async () => {
    const [runId] = (await newRuns(1)) as [string];
    const store = createRunStore(database);
    await store.commit(commit(runId, { events: [5, 3, 1, 4, 2].map((seq) => event(runId, seq)) }));

    expect((await readRunEvents(database, runId, 0)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await readRunEvents(database, runId, 2)).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await readRunEvents(database, runId, 1, 2)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await readRunEvents(database, runId, 5)).toEqual([]);
  });
});

describe('readUnfinishedRuns', () => {
  it('lists the QUEUED and RUNNING runs, not the finished ones', async () => {
    const [queued, running, done] = (await newRuns(3)) as [string, string, string];
    const store = createRunStore(database);
    const at = new Date();
    await Promise.all([
      store.commit(commit(running, { run: { status: 'RUNNING', startedAt: at, finishedAt: null, output: null, error: null, deadlineAt: null } })),
      store.commit(commit(done, { run: { status: 'FAILED', startedAt: at, finishedAt: at, output: null, error: 'boom', deadlineAt: null } })),
    ]);

    const unfinished = new Map((await readUnfinishedRuns(database)).map((run) => [run.id, run.status]));
    expect(unfinished.get(queued)).toBe('QUEUED');
    expect(unfinished.get(running)).toBe('RUNNING');
    expect(unfinished.has(done)).toBe(false);
  });
});
