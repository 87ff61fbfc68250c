// Run.durationMs and Step.durationMs as a client reads them: finishedAt − startedAt, in ms, null until
// both are known. Rows with known times are written to the database, so nothing depends on the wall clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branches, runs, steps } from '../../src/db/schema.js';
import { createWorkflow } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let organizationId: string;
let workflowId: string;

beforeAll(async () => {
  t = await startTestServer();
  ({ adminKey: key, id: organizationId } = await t.createOrganization());
  workflowId = await createWorkflow(t, key, {
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'a', type: 'delay', params: { ms: 1 } },
      { id: 'b', type: 'delay', params: { ms: 1 } },
    ],
    edges: [
      { source: 't', target: 'a' },
      { source: 'a', target: 'b' },
    ],
  });
});

afterAll(async () => {
  await t?.close();
});

const Durations = `query ($id: ID!) {
  run(id: $id) { status createdAt startedAt finishedAt durationMs steps { nodeId status durationMs } }
}`;

interface DurationsResult {
  run: {
    status: string;
    durationMs: number | null;
    steps: { nodeId: string; status: string; durationMs: number | null }[];
  } | null;
}

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + ms);

describe('durations', () => {
  it('a finished run lasts from startedAt to finishedAt (not from createdAt), each step from its own start to its end', async () => {
    const runId = 'run_durations_finished';
    // Queued for 4 s before it started, then ran 2.5 s.
    await t.database.db.insert(runs).values({
      id: runId,
      organizationId,
      workflowId,
      workflowVersion: 1,
      status: 'FAILED',
      error: 'node "b" failed: broke',
      createdAt: at(0),
      startedAt: at(4000),
      finishedAt: at(6500),
    });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(4000), finishedAt: at(4000) },
      { runId, nodeId: 'a', nodeType: 'delay', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(4010), finishedAt: at(5260) },
      { runId, nodeId: 'b', nodeType: 'delay', status: 'FAILED', attempt: 1, branch: 'main', startedAt: at(5300), finishedAt: at(6450), error: 'broke' },
    ]);
    await t.database.db.insert(branches).values({ runId, id: 'main', status: 'FAILED', nodeIds: ['t', 'a', 'b'], startedAt: at(4000), finishedAt: at(6500) });

    const result = await t.request<DurationsResult, { id: string }>(Durations, { id: runId }, key);
    expect(result.errors).toBeUndefined();
    expect(result.data?.run).toMatchObject({ status: 'FAILED', durationMs: 2500 });
    expect(result.data?.run?.steps.map((s) => [s.nodeId, s.durationMs])).toEqual([
      ['t', 0],
      ['a', 1250],
      ['b', 1150],
    ]);
  });

  it('is null until the run and the step have both ends', async () => {
    const runId = 'run_durations_running';
    await t.database.db.insert(runs).values({
      id: runId,
      organizationId,
      workflowId,
      workflowVersion: 1,
      // Finished already (no process picks it up), but with steps that never got both ends.
      status: 'CANCELLED',
      createdAt: at(0),
      startedAt: at(100),
      finishedAt: null,
    });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(100), finishedAt: at(130) },
      { runId, nodeId: 'a', nodeType: 'delay', status: 'CANCELLED', attempt: 1, branch: 'main', startedAt: at(140), finishedAt: null },
      { runId, nodeId: 'b', nodeType: 'delay', status: 'CANCELLED', attempt: 0, branch: null, startedAt: null, finishedAt: at(150) },
    ]);
    const result = await t.request<DurationsResult, { id: string }>(Durations, { id: runId }, key);
    expect(result.errors).toBeUndefined();
    expect(result.data?.run?.durationMs).toBeNull();
    expect(result.data?.run?.steps.map((s) => [s.nodeId, s.durationMs])).toEqual([
      ['t', 30],
      ['a', null],
      ['b', null],
    ]);
  });
});
