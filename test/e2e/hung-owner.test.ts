// A hung owner (paused inside a transaction, its lease expired) keeps its runs' rows locked; claims skip
// locked rows, so the survivors end its database sessions and take the runs over (PostgreSQL only).
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branches, runEvents, runs, steps } from '../../src/db/schema.js';
import { createWorkflow, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.skipIf(!process.env.DATABASE_URL)('a hung owner', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  it('has its sessions ended, and its run taken over and finished', async () => {
    const { adminKey, id: organizationId } = await t.createOrganization();
    const workflowId = await createWorkflow(t, adminKey, {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'a', type: 'delay', params: { ms: 1 } },
      ],
      edges: [{ source: 't', target: 'a' }],
    });
    const runId = 'run_of_a_hung_owner';
    const at = new Date(Date.now() - 60_000);
    await t.database.db.insert(runs).values({
      id: runId, organizationId, workflowId, workflowVersion: 1, status: 'RUNNING', startedAt: at,
      owner: 'proc_hung', leaseUntil: at, epoch: 1,
    });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at, finishedAt: at },
      { runId, nodeId: 'a', nodeType: 'delay', status: 'RUNNING', attempt: 1, branch: 'main', startedAt: at },
    ]);
    await t.database.db.insert(branches).values({ runId, id: 'main', status: 'RUNNING', nodeIds: ['t', 'a'], startedAt: at });
    await t.database.db.insert(runEvents).values([{ runId, seq: 1, type: 'RUN_STARTED', at, status: 'RUNNING' }]);

    // The hung owner: a session named for it, inside a transaction that locked the run's row.
    const hung = postgres(t.database.url!, { max: 1, onnotice: () => {}, connection: { application_name: 'braid:proc_hung' } });
    const reserved = await hung.reserve();
    await reserved`begin`;
    await reserved`select id from runs where id = ${runId} for no key update`;
    const ended = reserved`select pg_sleep(60)`.then(
      () => 'still alive',
      (error: { code?: string }) => error.code,
    );

    const events = await watchRun(t, t.wsClient(adminKey), runId).done;
    expect(events.map((e) => e.type)).toEqual(['RUN_STARTED', 'RUN_RESUMED', 'NODE_SUCCEEDED', 'BRANCH_FINISHED', 'RUN_SUCCEEDED']);
    expect(['57P01', 'CONNECTION_CLOSED']).toContain(await ended); // its session was ended
    const [row] = await t.database.rows<{ owner: string }>(sql`select owner from runs where id = ${runId}`);
    expect(row?.owner).toBe(t.server.services.runs.processId);
    reserved.release();
    await hung.end({ timeout: 1 });
  }, 30_000);
});
