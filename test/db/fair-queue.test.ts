// The claim query of the fair share: priority then start order within an organization, organizations
// in turns, organization and workflow maxConcurrentRuns counted from live leases, orphans (expired
// leases) free their slots, and on PostgreSQL two claimers at once never pass a limit together.
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Database } from '../../src/db/client.js';
import { claimLockKey, claimRuns } from '../../src/db/queries/leases.js';
import { organizations, runs, workflows, workflowVersions } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const leaseMs = 60_000;
let clock = 0;

beforeEach(async () => {
  database = await createTestDatabase();
});

afterEach(async () => {
  await database.close();
});

async function organization(id: string, maxConcurrentRuns: number | null = null): Promise<void> {
  await database.db.insert(organizations).values({ id, name: id, maxConcurrentRuns });
}

async function workflow(id: string, organizationId: string, maxConcurrentRuns?: number): Promise<void> {
  await database.db.insert(workflows).values({ id, organizationId, name: id, version: 1 });
  const settings = maxConcurrentRuns === undefined ? {} : { maxConcurrentRuns };
  await database.db.insert(workflowVersions).values({ workflowId: id, version: 1, definition: { nodes: [], edges: [], settings } });
}

/** A waiting run (no owner), created after every earlier call; or one held (`owner`, a lease alive or expired). */
async function run(
  id: string,
  organizationId: string,
  workflowId: string,
  options: { priority?: number; owner?: string; expired?: boolean; status?: 'QUEUED' | 'RUNNING' } = {},
): Promise<void> {
  await database.db.insert(runs).values({
    id,
    organizationId,
    workflowId,
    workflowVersion: 1,
    status: options.status ?? 'QUEUED',
    priority: options.priority ?? 0,
    createdAt: new Date(Date.UTC(2026, 0, 1) + ++clock * 1000),
    owner: options.owner ?? null,
    leaseUntil: options.owner ? sql`now() + ${options.expired ? -1000 : leaseMs} * interval '1 millisecond'` : null,
  });
}

const claim = async (limit: number, owner = 'proc_a', db = database) =>
  claimRuns(db.db, { owner, leaseMs, limit, shared: db.driver === 'postgres' });
const ids = (claimed: { runs: { id: string }[] }) => claimed.runs.map((r) => r.id);

describe('order', () => {
  it('starts higher priorities first, then in the order runs were started', async () => {
    await organization('o');
    await workflow('w', 'o');
    await run('first', 'o', 'w');
    await run('second', 'o', 'w');
    await run('urgent', 'o', 'w', { priority: 5 });
    await run('low', 'o', 'w', { priority: -1 });
    expect(ids(await claim(1))).toEqual(['urgent']);
    expect(ids(await claim(1))).toEqual(['first']);
    expect(ids(await claim(1))).toEqual(['second']);
    expect(ids(await claim(1))).toEqual(['low']);
    expect(ids(await claim(1))).toEqual([]);
  });

  it("gives organizations turns: one's backlog does not go before another's first run", async () => {
    await organization('busy');
    await organization('quiet');
    await workflow('wb', 'busy');
    await workflow('wq', 'quiet');
    for (let i = 0; i < 5; i++) await run(`busy${i}`, 'busy', 'wb');
    await run('quiet0', 'quiet', 'wq');
    await run('quiet1', 'quiet', 'wq');
    const claimed = ids(await claim(4));
    expect(claimed.slice(0, 2).sort()).toEqual(['busy0', 'quiet0']);
    expect(claimed.slice(2).sort()).toEqual(['busy1', 'quiet1']);
  });

  it('counts the slots an organization already holds in its turn', async () => {
    await organization('busy');
    await organization('quiet');
    await workflow('wb', 'busy');
    await workflow('wq', 'quiet');
    for (let i = 0; i < 3; i++) await run(`held${i}`, 'busy', 'wb', { owner: 'proc_b', status: 'RUNNING' });
    await run('busy0', 'busy', 'wb');
    await run('quiet0', 'quiet', 'wq');
    await run('quiet1', 'quiet', 'wq');
    // quiet holds nothing: its two runs go before busy's fourth.
    expect(ids(await claim(2)).sort()).toEqual(['quiet0', 'quiet1']);
    expect(ids(await claim(2))).toEqual(['busy0']);
  });
});

describe('limits', () => {
  it("never passes an organization's maxConcurrentRuns, and says that it holds runs back", async () => {
    await organization('o', 2);
    await workflow('w', 'o');
    await run('running', 'o', 'w', { owner: 'proc_b', status: 'RUNNING' });
    for (let i = 0; i < 4; i++) await run(`q${i}`, 'o', 'w');
    const first = await claim(10);
    expect(ids(first)).toEqual(['q0']);
    expect(first.heldBy).toEqual({ organizations: ['o'], workflows: [] });
    const second = await claim(10);
    expect(ids(second)).toEqual([]);
    expect(second.heldBy).toEqual({ organizations: ['o'], workflows: [] });
  });

  it("never passes a workflow's maxConcurrentRuns; the organization's other workflows go on", async () => {
    await organization('o');
    await workflow('limited', 'o', 1);
    await workflow('free', 'o');
    await run('l0', 'o', 'limited');
    await run('l1', 'o', 'limited');
    await run('l2', 'o', 'limited');
    await run('f0', 'o', 'free');
    const claimed = await claim(10);
    expect(ids(claimed).sort()).toEqual(['f0', 'l0']);
    expect(claimed.heldBy).toEqual({ organizations: [], workflows: ['limited'] });
    // Once full, the workflow is still named while its runs wait.
    expect(await claim(10)).toMatchObject({ runs: [], heldBy: { organizations: [], workflows: ['limited'] } });
  });

  it('counts only the leases that are alive: a dead owner frees its slots and its runs wait first', async () => {
    await organization('o', 1);
    await workflow('w', 'o');
    await run('orphan', 'o', 'w', { owner: 'proc_dead', expired: true, status: 'RUNNING' });
    await run('q0', 'o', 'w');
    const claimed = await claim(10);
    expect(ids(claimed)).toEqual(['orphan']);
    expect(claimed.heldBy).toEqual({ organizations: ['o'], workflows: [] });
  });

  it('frees the slot when a run finishes', async () => {
    await organization('o', 1);
    await workflow('w', 'o');
    await run('r0', 'o', 'w');
    await run('r1', 'o', 'w');
    expect(ids(await claim(10))).toEqual(['r0']);
    expect(ids(await claim(10))).toEqual([]);
    await database.db.update(runs).set({ status: 'SUCCEEDED' }).where(sql`id = 'r0'`);
    const after = await claim(10);
    expect(ids(after)).toEqual(['r1']);
    expect(after.heldBy).toEqual({ organizations: [], workflows: [] });
  });
});

describe.skipIf(!process.env.DATABASE_URL)('two claimers at once (PostgreSQL)', () => {
  it('take turns: while another process claims, a claim takes nothing and says so', async () => {
    await organization('o', 3);
    await workflow('w', 'o');
    await run('q0', 'o', 'w');
    const other: Database = await openDb({ databaseUrl: database.url!, dataDir: 'memory://', maxConnections: 2 });
    try {
      await other.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${claimLockKey[0]}, ${claimLockKey[1]})`);
        const blocked = await claim(10);
        expect(blocked).toMatchObject({ runs: [], busy: true });
      });
      expect(ids(await claim(10))).toEqual(['q0']);
    } finally {
      await other.close();
    }
  });

  it('never fill the same slots twice', async () => {
    await organization('o', 3);
    await workflow('w', 'o');
    for (let i = 0; i < 20; i++) await run(`q${i}`, 'o', 'w');
    const other: Database = await openDb({ databaseUrl: database.url!, dataDir: 'memory://', maxConnections: 4 });
    try {
      // Many rounds of two claims racing: together they never take more than the 3 slots.
      const taken: string[] = [];
      for (let round = 0; round < 10 && taken.length < 3; round++) {
        const [a, b] = await Promise.all([
          claimRuns(database.db, { owner: 'proc_a', leaseMs, limit: 5, shared: true }),
          claimRuns(other.db, { owner: 'proc_b', leaseMs, limit: 5, shared: true }),
        ]);
        taken.push(...ids(a), ...ids(b));
        expect(taken.length).toBeLessThanOrEqual(3);
      }
      expect(taken.sort()).toEqual(['q0', 'q1', 'q2']);
      const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from runs where owner is not null`);
      expect(row?.n).toBe(3);
    } finally {
      await other.close();
    }
  });
});
