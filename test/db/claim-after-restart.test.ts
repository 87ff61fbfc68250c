// The first claim of a process that knows every other owner is dead (PGlite after a restart): their
// leases are given up, so the runs a limit keeps it from taking at once wait like any other run — the
// next free slot goes to them in priority order, without waiting for the dead owner's lease to lapse —
// and the limit holding them is named. The claiming process's own runs keep their leases.
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { limitsHolding } from '../../src/db/queries/fair-queue.js';
import { claimRuns } from '../../src/db/queries/leases.js';
import { organizations, runs, workflows, workflowVersions } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const leaseMs = 600_000;
let created = 0;

beforeEach(async () => {
  database = await createTestDatabase();
  await database.db.insert(organizations).values({ id: 'o', name: 'o', maxConcurrentRuns: 3 });
  await database.db.insert(workflows).values({ id: 'w', organizationId: 'o', name: 'w', version: 1 });
  await database.db.insert(workflowVersions).values({ workflowId: 'w', version: 1, definition: { nodes: [], edges: [], settings: {} } });
});

afterEach(async () => {
  await database.close();
});

/** A run created after every earlier one; `owner` holds it with a lease alive for the whole test. */
async function run(id: string, options: { priority?: number; owner?: string; status?: 'QUEUED' | 'RUNNING' } = {}): Promise<void> {
  await database.db.insert(runs).values({
    id,
    organizationId: 'o',
    workflowId: 'w',
    workflowVersion: 1,
    status: options.status ?? 'QUEUED',
    priority: options.priority ?? 0,
    createdAt: new Date(Date.UTC(2026, 0, 1) + ++created * 1000),
    owner: options.owner ?? null,
    leaseUntil: options.owner ? sql`now() + ${leaseMs} * interval '1 millisecond'` : null,
  });
}

const claim = async (othersDead = false) =>
  (await claimRuns(database.db, { owner: 'proc_new', leaseMs, limit: 10, othersDead, shared: database.driver === 'postgres' })).runs.map((r) => r.id);

async function owners(): Promise<Record<string, string | null>> {
  const rows = await database.db.select({ id: runs.id, owner: runs.owner }).from(runs);
  return Object.fromEntries(rows.map((row) => [row.id, row.owner]));
}

describe('a claim whose other owners are dead', () => {
  it("gives up their leases: the runs it cannot take wait, named by their limit, and take the next slot first", async () => {
    // Started here before the first claim (startRun's claimed insert): it keeps its slot.
    await run('mine', { owner: 'proc_new', status: 'RUNNING' });
    await run('a0', { owner: 'proc_dead', status: 'RUNNING' });
    await run('a1', { owner: 'proc_dead', status: 'RUNNING' });
    await run('x', { priority: 5 });
    await run('q');

    expect(await claim(true)).toEqual(['x', 'a0']);
    expect(await owners()).toEqual({ mine: 'proc_new', a0: 'proc_new', a1: null, x: 'proc_new', q: null });
    expect((await limitsHolding(database.db, 'o', ['w'])).organization).toBe('organization limit of 3 running runs');

    // Full: nothing more, whatever is asked.
    expect(await claim()).toEqual([]);
    // A slot frees: a1 (started before q, same priority) takes it, though proc_dead's lease has not lapsed.
    await database.db.update(runs).set({ status: 'SUCCEEDED' }).where(eq(runs.id, 'x'));
    expect(await claim()).toEqual(['a1']);
    await database.db.update(runs).set({ status: 'SUCCEEDED' }).where(eq(runs.id, 'mine'));
    expect(await claim()).toEqual(['q']);
  });

  it('without othersDead, a live lease of another owner holds its run and its slot', async () => {
    await run('a0', { owner: 'proc_other', status: 'RUNNING' });
    await run('a1', { owner: 'proc_other', status: 'RUNNING' });
    await run('a2', { owner: 'proc_other', status: 'RUNNING' });
    await run('q');
    expect(await claim()).toEqual([]);
    expect(await owners()).toEqual({ a0: 'proc_other', a1: 'proc_other', a2: 'proc_other', q: null });
  });
});
