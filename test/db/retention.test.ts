// Retention against a real database: which finished runs a sweep deletes (with every row of theirs),
// which it keeps (newer, live, idempotency-keyed within 24 h, everything with 0 hours), in batches; the
// stored-runs estimate; one sweeper at a time on PostgreSQL.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateStoredRuns } from '../../src/db/maintenance.js';
import { organizations, workflows, workflowVersions } from '../../src/db/schema.js';
import { createRetention, type RetentionOptions } from '../../src/runs/retention.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { deferred } from '../helpers/deferred.js';
import { eventsPerRun, insertOldRuns, stepsPerRun, storedRows } from '../helpers/old-runs.js';

const hour = 3_600_000;
/** "Now" for every sweep of these tests: retention reads only its injected clock. */
const now = Date.parse('2030-06-01T12:00:00.000Z');
const ago = (hours: number) => new Date(now - hours * hour);
const quiet = { info: () => {}, warn: () => {} };

let database: TestDatabase;
let nextPrefix = 0;
beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(organizations).values({ id: 'org_r', name: 'retention' });
  await database.db.insert(workflows).values({ id: 'wf_r', organizationId: 'org_r', name: 'kept', version: 1 });
  await database.db.insert(workflowVersions).values({ workflowId: 'wf_r', version: 1, definition: { nodes: [], edges: [] } });
});
afterAll(async () => {
  await database?.close();
});

/** Inserts runs under a fresh id prefix and returns the prefix. */
async function runs(count: number, spec: { finishedAt: Date | null; status?: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'; keyed?: boolean; createdAt?: Date }) {
  const prefix = `r${++nextPrefix}x`;
  await insertOldRuns(database, { prefix, count, organizationId: 'org_r', workflowId: 'wf_r', ...spec });
  return prefix;
}

const full = (count: number) => ({ runs: count, steps: count * stepsPerRun, branches: count, events: count * eventsPerRun });
const none = full(0);

function retention(options: Partial<RetentionOptions> & { hours: number }) {
  return createRetention({ database, log: quiet, now: () => now, pauseMs: 0, ...options });
}

describe('retention sweep', () => {
  it('deletes finished runs whose finishedAt is before the cutoff, with their steps, branches and events, and keeps the newer ones', async () => {
    const old = await Promise.all(['SUCCEEDED', 'FAILED', 'CANCELLED'].map((status) => runs(20, { finishedAt: ago(721), status: status as 'FAILED' })));
    const recent = await runs(20, { finishedAt: ago(719) });
    const result = await retention({ hours: 720 }).sweep();
    expect(result.deleted).toBeGreaterThanOrEqual(60);
    for (const prefix of old) expect(await storedRows(database, prefix)).toEqual(none);
    expect(await storedRows(database, recent)).toEqual(full(20));

    // Two hours later by the injected clock, the recent ones are past the cutoff too.
    await createRetention({ database, log: quiet, hours: 720, now: () => now + 2 * hour }).sweep();
    expect(await storedRows(database, recent)).toEqual(none);
    // The workflow and its version stay.
    const kept = await database.rows<{ n: number }>(sql`select count(*)::int as n from workflow_versions where workflow_id = 'wf_r'`);
    expect(Number(kept[0]!.n)).toBe(1);
    expect((await database.rows(sql`select id from workflows where id = 'wf_r'`)).length).toBe(1);
  });

  it('takes decimal hours: 0.5 h deletes a run finished 31 minutes ago and keeps one finished 29 minutes ago', async () => {
    const older = await runs(3, { finishedAt: ago(31 / 60) });
    const newer = await runs(3, { finishedAt: ago(29 / 60) });
    await retention({ hours: 0.5 }).sweep();
    expect(await storedRows(database, older)).toEqual(none);
    expect(await storedRows(database, newer)).toEqual(full(3));
  });

  it('never touches live runs (QUEUED, RUNNING), however old, even with a finishedAt left from before a retry', async () => {
    const live = [
      await runs(5, { status: 'QUEUED', finishedAt: null, createdAt: ago(10_000) }),
      await runs(5, { status: 'RUNNING', finishedAt: null, createdAt: ago(10_000) }),
      await runs(5, { status: 'RUNNING', finishedAt: ago(10_000) }),
      await runs(5, { status: 'QUEUED', finishedAt: ago(10_000) }),
    ];
    await retention({ hours: 1 }).sweep();
    for (const prefix of live) expect(await storedRows(database, prefix)).toEqual(full(5));
  });

  it('keeps a run started with an idempotency key for 24 h after it finished, even when the retention is shorter', async () => {
    const keyedRecent = await runs(4, { finishedAt: ago(23), keyed: true });
    const plainRecent = await runs(4, { finishedAt: ago(23) });
    const keyedOld = await runs(4, { finishedAt: ago(25), keyed: true });
    await retention({ hours: 1 }).sweep();
    expect(await storedRows(database, keyedRecent)).toEqual(full(4));
    expect(await storedRows(database, plainRecent)).toEqual(none);
    expect(await storedRows(database, keyedOld)).toEqual(none);
  });

  it('with 0 hours keeps everything, even runs finished years ago', async () => {
    const ancient = await runs(5, { finishedAt: ago(100_000) });
    const zero = retention({ hours: 0 });
    expect(await zero.sweep()).toMatchObject({ deleted: 0, batches: 0 });
    zero.start();
    await zero.stop();
    expect(await storedRows(database, ancient)).toEqual(full(5));
    await retention({ hours: 1 }).sweep();
    expect(await storedRows(database, ancient)).toEqual(none);
  });

  it('deletes in batches of at most batchSize runs, and leaves a backlog past maxBatches for the next sweep', async () => {
    const backlog = await runs(1200, { finishedAt: ago(1000) });
    const batches: number[] = [];
    const sweeper = retention({ hours: 1, batchSize: 500, maxBatches: 2, onDeleted: (count) => void batches.push(count) });
    expect(await sweeper.sweep()).toMatchObject({ deleted: 1000, batches: 2, backlog: true });
    expect(batches).toEqual([500, 500]);
    expect((await storedRows(database, backlog)).runs).toBe(200);
    expect(await sweeper.sweep()).toMatchObject({ deleted: 200, batches: 1, backlog: false });
    expect(batches).toEqual([500, 500, 200]);
    expect(await storedRows(database, backlog)).toEqual(none);
  });

  it('once started, sweeps again soon while a backlog remains (not after the whole interval), then stops', async () => {
    const prefix = await runs(250, { finishedAt: ago(1000) });
    let total = 0;
    const gone = deferred();
    const sweeper = retention({
      hours: 1,
      batchSize: 100,
      maxBatches: 1,
      intervalMs: 3_600_000,
      backlogIntervalMs: 1,
      onDeleted: (count) => {
        total += count;
        if (total >= 250) gone.resolve();
      },
    });
    sweeper.start();
    await gone.promise;
    await sweeper.stop();
    expect(total).toBe(250);
    expect(await storedRows(database, prefix)).toEqual(none);
  });

  it('stops between batches: stop() waits for the statement under way and deletes nothing after it', async () => {
    const prefix = await runs(300, { finishedAt: ago(1000) });
    const held = deferred();
    const first = deferred();
    const sweeper = retention({
      hours: 1,
      batchSize: 100,
      onDeleted: async () => {
        first.resolve();
        await held.promise;
      },
    });
    const sweeping = sweeper.sweep();
    await first.promise;
    const stopped = sweeper.stop();
    held.resolve();
    await stopped;
    expect(await sweeping).toMatchObject({ deleted: 100, batches: 1, backlog: true });
    expect((await storedRows(database, prefix)).runs).toBe(200);
    expect(await sweeper.sweep()).toMatchObject({ deleted: 0 });
    await retention({ hours: 1 }).sweep();
  });

  it('estimates the stored runs from the statistics, and the estimate follows a large sweep', async () => {
    await retention({ hours: 1 }).sweep();
    await database.rows(sql`analyze runs`);
    const before = Number((await database.rows<{ n: number }>(sql`select count(*)::int as n from runs`))[0]!.n);
    expect(await estimateStoredRuns(database)).toBe(before);
    const added = await runs(3000, { finishedAt: ago(1000) });
    await database.rows(sql`analyze runs`);
    expect(await estimateStoredRuns(database)).toBe(before + 3000);
    expect(await retention({ hours: 1, tidyAfter: 1000 }).sweep()).toMatchObject({ deleted: 3000 });
    expect(await storedRows(database, added)).toEqual(none);
    // The sweep analyzed the table itself: the estimate is back without an ANALYZE of ours.
    expect(await estimateStoredRuns(database)).toBe(before);
  });

  it.runIf(process.env.DATABASE_URL)('PostgreSQL: a run another transaction holds (a retryRun reopening it) is skipped, not waited for, and deleted by a later sweep', async () => {
    if (database.driver !== 'postgres') throw new Error('expected PostgreSQL');
    const prefix = await runs(10, { finishedAt: ago(1000), status: 'FAILED' });
    const holder = await database.client.reserve();
    try {
      await holder`begin`;
      await holder`select id from runs where id = ${`${prefix}1`} for update`;
      expect(await retention({ hours: 1 }).sweep()).toMatchObject({ deleted: 9 });
      expect((await storedRows(database, `${prefix}1`)).runs).toBe(1);
      await holder`commit`;
    } finally {
      holder.release();
    }
    expect(await retention({ hours: 1 }).sweep()).toMatchObject({ deleted: 1 });
    expect(await storedRows(database, prefix)).toEqual(none);
  });

  it.runIf(process.env.DATABASE_URL)('PostgreSQL: one process sweeps at a time; the other skips its sweep', async () => {
    const prefix = await runs(400, { finishedAt: ago(1000) });
    const held = deferred();
    const first = deferred();
    const a = retention({
      hours: 1,
      batchSize: 100,
      onDeleted: async () => {
        first.resolve();
        await held.promise;
      },
    });
    const sweeping = a.sweep();
    await first.promise;
    expect(await retention({ hours: 1 }).sweep()).toMatchObject({ skipped: true, deleted: 0 });
    held.resolve();
    expect(await sweeping).toMatchObject({ deleted: 400, skipped: false });
    expect(await storedRows(database, prefix)).toEqual(none);
    // The lock was released: the next sweep runs.
    expect(await retention({ hours: 1 }).sweep()).toMatchObject({ skipped: false });
  });
});
