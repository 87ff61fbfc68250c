// The fields a dashboard reads on a Run, through the API: the run's own version's definition, its
// stored events page by page, each edge's state (a condition's unchosen edge DEAD), and the timing of a
// finished run (critical path of a diamond with known step times, parallelism of a fan-out).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branches, runs, steps } from '../../src/db/schema.js';
import { graphql } from '../gql/index.js';
import { createWorkflow, runToEnd } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RunGraph = graphql(`
  query RunGraph($id: ID!) {
    run(id: $id) {
      id
      status
      definition
      edges { source target sourceHandle state }
      timing { criticalPath criticalPathMs workMs parallelism }
    }
  }
`);

const RunEventsPage = graphql(`
  query RunEventsPage($id: ID!, $afterSeq: Int, $first: Int) {
    run(id: $id) { events(afterSeq: $afterSeq, first: $first) { seq type nodeId } }
  }
`);

const UpdateDefinition = graphql(`
  mutation RunGraphUpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {
    updateWorkflow(id: $id, input: $input) { __typename ... on Workflow { version } }
  }
`);

let t: TestServer;
let key: string;
let organizationId: string;

beforeAll(async () => {
  t = await startTestServer();
  ({ adminKey: key, id: organizationId } = await t.createOrganization());
});

afterAll(async () => {
  await t?.close();
});

const condition = {
  nodes: [
    { id: 't', type: 'trigger' },
    { id: 'c', type: 'condition', params: { expression: '$input.ok = true' } },
    { id: 'yes', type: 'transform', params: { expression: '"yes"' } },
    { id: 'no', type: 'transform', params: { expression: '"no"' } },
  ],
  edges: [
    { source: 't', target: 'c' },
    { source: 'c', target: 'yes', sourceHandle: 'true' },
    { source: 'c', target: 'no', sourceHandle: 'false' },
  ],
};

describe('Run.edges and Run.definition', () => {
  it("a condition's chosen edge is LIVE and the other DEAD; the definition is the run's own version", async () => {
    const client = t.wsClient(key);
    const { runId, workflowId } = await runToEnd(t, key, client, condition, { ok: true });
    // A later version must not change what the run shows.
    const updated = await t.request(UpdateDefinition, { id: workflowId, input: { definition: { nodes: [{ id: 'only', type: 'trigger' }], edges: [] } } }, key);
    expect(updated.data?.updateWorkflow).toMatchObject({ __typename: 'Workflow', version: 2 });

    const result = await t.request(RunGraph, { id: runId }, key);
    expect(result.errors).toBeUndefined();
    const run = result.data?.run;
    expect(run?.status).toBe('SUCCEEDED');
    expect((run?.definition as { nodes: { id: string }[] }).nodes.map((n) => n.id)).toEqual(['t', 'c', 'yes', 'no']);
    expect(run?.edges).toEqual([
      { source: 't', target: 'c', sourceHandle: null, state: 'LIVE' },
      { source: 'c', target: 'yes', sourceHandle: 'true', state: 'LIVE' },
      { source: 'c', target: 'no', sourceHandle: 'false', state: 'DEAD' },
    ]);
  });

  it('edges out of nodes not settled yet are PENDING', async () => {
    const workflowId = await createWorkflow(t, key, condition);
    const runId = 'run_graph_pending';
    await t.database.db.insert(runs).values({ id: runId, organizationId, workflowId, workflowVersion: 1, status: 'CANCELLED', createdAt: at(0) });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(0), finishedAt: at(0) },
      { runId, nodeId: 'c', nodeType: 'condition', status: 'RUNNING', attempt: 1, branch: 'main', startedAt: at(1) },
    ]);
    const result = await t.request(RunGraph, { id: runId }, key);
    expect(result.data?.run?.edges.map((e) => e.state)).toEqual(['LIVE', 'PENDING', 'PENDING']);
    // Not final: no timing yet.
    expect(result.data?.run?.timing).toBeNull();
  });
});

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + ms);

describe('Run.timing', () => {
  it('a diamond: the critical path is the longer side, work the sum of the steps, parallelism work / duration', async () => {
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'a', type: 'delay', params: { ms: 1 } },
        { id: 'b', type: 'delay', params: { ms: 1 } },
        { id: 'j', type: 'merge', params: { mode: 'ALL' } },
      ],
      edges: [
        { source: 't', target: 'a' },
        { source: 't', target: 'b' },
        { source: 'a', target: 'j' },
        { source: 'b', target: 'j' },
      ],
    });
    const runId = 'run_graph_diamond';
    await t.database.db.insert(runs).values({
      id: runId, organizationId, workflowId, workflowVersion: 1, status: 'SUCCEEDED', createdAt: at(0), startedAt: at(0), finishedAt: at(1000),
    });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(0), finishedAt: at(10) },
      { runId, nodeId: 'a', nodeType: 'delay', status: 'SUCCEEDED', attempt: 1, branch: 'main/a', startedAt: at(10), finishedAt: at(310) },
      { runId, nodeId: 'b', nodeType: 'delay', status: 'SUCCEEDED', attempt: 1, branch: 'main/b', startedAt: at(10), finishedAt: at(910) },
      { runId, nodeId: 'j', nodeType: 'merge', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(910), finishedAt: at(910) },
    ]);
    await t.database.db.insert(branches).values({ runId, id: 'main', status: 'SUCCEEDED', nodeIds: ['t', 'j'], startedAt: at(0), finishedAt: at(1000) });
    const result = await t.request(RunGraph, { id: runId }, key);
    expect(result.errors).toBeUndefined();
    // The merge took no time: the path still ends at it.
    expect(result.data?.run?.timing).toEqual({ criticalPath: ['t', 'b', 'j'], criticalPathMs: 910, workMs: 1210, parallelism: 1.21 });
  });

  it('a fan-out of five 200 ms delays ran side by side: parallelism above 1', async () => {
    const fan = ['d1', 'd2', 'd3', 'd4', 'd5'];
    const { runId } = await runToEnd(t, key, t.wsClient(key), {
      nodes: [{ id: 't', type: 'trigger' }, ...fan.map((id) => ({ id, type: 'delay', params: { ms: 200 } }))],
      edges: fan.map((target) => ({ source: 't', target })),
    });
    const timing = (await t.request(RunGraph, { id: runId }, key)).data?.run?.timing;
    expect(timing?.workMs).toBeGreaterThanOrEqual(1000);
    expect(timing?.parallelism).toBeGreaterThan(1);
    expect(timing?.criticalPath).toHaveLength(2);
    expect(timing?.criticalPath[0]).toBe('t');
  });
});

describe('Run.events', () => {
  it('reads stored events after afterSeq, at most first of them; a bad first is refused by name', async () => {
    const { runId, events } = await runToEnd(t, key, t.wsClient(key), condition, { ok: false });
    const all = await t.request(RunEventsPage, { id: runId }, key);
    expect(all.data?.run?.events.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    const page = await t.request(RunEventsPage, { id: runId, afterSeq: 2, first: 3 }, key);
    expect(page.data?.run?.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(page.data?.run?.events[0]?.type).toBe(events[2]?.type);
    for (const first of [0, -1, 1001]) {
      const refused = await t.request(RunEventsPage, { id: runId, first }, key);
      expect(refused.errors?.[0]?.message).toMatch(/first must be between 1 and 1000/);
      expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});
