// Runs end to end: cancel, idempotency under a race, replay with afterSeq (mid-run and after the end,
// over graphql-ws and SSE), run updates, versions, and the relay connections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { runs as runsTable } from '../../src/db/schema.js';
import { graphql } from '../gql/index.js';
import {
  CancelRun,
  GetRun,
  StartRun,
  contiguous,
  createWorkflow,
  runToEnd,
  startRun,
  watchRun,
  type RunEventItem,
} from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let organizationId: string;
let client: Client;

beforeAll(async () => {
  t = await startTestServer();
  ({ adminKey: key, id: organizationId } = await t.createOrganization());
  client = t.wsClient(key);
});

afterAll(async () => {
  await t?.close();
});

const RunUpdates = graphql(`
  subscription RunUpdates($workflowId: ID) {
    runUpdates(workflowId: $workflowId) { id status workflowVersion workflow { id } }
  }
`);

const UpdateDefinition = graphql(`
  mutation UpdateDefinition($id: ID!, $input: UpdateWorkflowInput!) {
    updateWorkflow(id: $id, input: $input) {
      __typename
      ... on Workflow { id version definition updatedAt }
      ... on Error { message }
    }
  }
`);

const RunsPage = graphql(`
  query RunsPage($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {
    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {
      edges { cursor node { id status createdAt } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
`);

const WorkflowWithRuns = graphql(`
  query WorkflowWithRuns($id: ID!, $first: Int, $after: String) {
    workflow(id: $id) {
      id
      version
      runs(first: $first, after: $after) {
        edges { node { id workflowVersion } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

const WorkflowsPage = graphql(`
  query WorkflowsPage($first: Int, $after: String) {
    workflows(first: $first, after: $after) {
      edges { cursor node { id name } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const trigger = { id: 't', type: 'trigger' };
const chain = (ms: number) => ({
  nodes: [trigger, { id: 'd1', type: 'delay', params: { ms } }, { id: 'd2', type: 'delay', params: { ms } }, { id: 'd3', type: 'delay', params: { ms } }],
  edges: [
    { source: 't', target: 'd1' },
    { source: 'd1', target: 'd2' },
    { source: 'd2', target: 'd3' },
  ],
});
const only = (events: RunEventItem[]) => events.map((e) => `${e.seq}:${e.type}:${e.nodeId ?? e.branch ?? ''}`);

describe('cancelRun', () => {
  it('aborts the running node, cancels the rest with reasons, and ends the run CANCELLED', async () => {
    const workflowId = await createWorkflow(t, key, {
      nodes: [trigger, { id: 'slow', type: 'http', params: { url: `${t.slow.url}/slow?ms=10000&tag=cancel-me` } }, { id: 'after', type: 'delay', params: { ms: 1 } }],
      edges: [
        { source: 't', target: 'slow' },
        { source: 'slow', target: 'after' },
      ],
    });
    const runId = await startRun(t, key, workflowId);
    const feed = watchRun(t, client, runId);
    await feed.until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'slow');

    const result = await t.request(CancelRun, { id: runId }, key);
    const run = result.data?.cancelRun;
    expect(run?.__typename).toBe('Run');
    if (run?.__typename !== 'Run') return;
    expect(run.status).toBe('CANCELLED');
    expect(run.finishedAt).not.toBeNull();
    const steps = Object.fromEntries(run.steps.map((s) => [s.nodeId, s]));
    expect(steps.slow).toMatchObject({ status: 'CANCELLED', reason: expect.stringMatching(/cancelled/) });
    expect(steps.after).toMatchObject({ status: 'CANCELLED', reason: expect.stringMatching(/cancelled/) });

    const events = await feed.done;
    expect(events.at(-1)?.type).toBe('RUN_CANCELLED');
    expect(contiguous(events)).toBe(true);

    // Cancelling again returns the run as it is.
    const again = await t.request(CancelRun, { id: runId }, key);
    expect(again.data?.cancelRun).toMatchObject({ __typename: 'Run', status: 'CANCELLED' });
  });

  it('cancels in the database a run no engine here drives, with its events', async () => {
    const workflowId = await createWorkflow(t, key, chain(1));
    const runId = 'run_orphan_for_cancel';
    await t.database.db.insert(runsTable).values({
      id: runId,
      organizationId,
      workflowId,
      workflowVersion: 1,
      status: 'RUNNING',
      startedAt: new Date(),
    });
    const feed = watchRun(t, client, runId);
    const result = await t.request(CancelRun, { id: runId }, key);
    expect(result.data?.cancelRun).toMatchObject({ __typename: 'Run', status: 'CANCELLED' });
    const events = await feed.done;
    expect(only(events)).toEqual(['1:RUN_CANCELLED:']);
  });

  it('answers an unknown id with NotFoundError', async () => {
    const result = await t.request(CancelRun, { id: 'run_nope' }, key);
    expect(result.data?.cancelRun).toEqual({ __typename: 'NotFoundError', message: 'run "run_nope" not found' });
  });
});

describe('outputs that cannot be stored', () => {
  it('fail their step with a readable error; the run ends, nothing stuck', async () => {
    const { run } = await runToEnd(t, key, client, {
      nodes: [trigger, { id: 'nul', type: 'transform', params: { expression: '{"k": $base64decode("AA==")}' } }],
      edges: [{ source: 't', target: 'nul' }],
    });
    expect(run.status).toBe('FAILED');
    expect(run.steps.find((s) => s.nodeId === 'nul')).toMatchObject({
      status: 'FAILED',
      error: 'the output cannot be stored: output.k holds a NUL character (\\u0000)',
    });
  });
});

describe('idempotency', () => {
  it('two concurrent startRun calls with one key make one run and both get it', async () => {
    const workflowId = await createWorkflow(t, key, chain(1));
    const idempotencyKey = `race-${Date.now()}`;
    const [a, b] = await Promise.all([
      t.request(StartRun, { workflowId, idempotencyKey }, key),
      t.request(StartRun, { workflowId, idempotencyKey }, key),
    ]);
    const idA = a.data?.startRun.__typename === 'Run' ? a.data.startRun.id : null;
    const idB = b.data?.startRun.__typename === 'Run' ? b.data.startRun.id : null;
    expect(idA).not.toBeNull();
    expect(idA).toBe(idB);
    const page = await t.request(RunsPage, { workflowId, first: 10 }, key);
    expect(page.data?.runs.edges.map((e) => e.node.id)).toEqual([idA]);

    const later = await startRun(t, key, workflowId, { idempotencyKey });
    expect(later).toBe(idA);
    await watchRun(t, client, idA!).done;

    // Keys are per organization: another organization's run with the same key is its own.
    const other = (await t.createOrganization()).adminKey;
    const otherWorkflow = await createWorkflow(t, other, chain(1));
    expect(await startRun(t, other, otherWorkflow, { idempotencyKey })).not.toBe(idA);
  });
});

describe('branches', () => {
  it('lists the nodes of a branch still running, then of the finished one', async () => {
    const workflowId = await createWorkflow(t, key, chain(150));
    const runId = await startRun(t, key, workflowId);
    const feed = watchRun(t, client, runId);
    await feed.until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'd2');
    const midRun = (await t.request(GetRun, { id: runId }, key)).data?.run;
    expect(midRun?.branches).toMatchObject([{ path: 'main', status: 'RUNNING', nodeIds: ['t', 'd1', 'd2'] }]);
    await feed.done;
    const finished = (await t.request(GetRun, { id: runId }, key)).data?.run;
    expect(finished?.branches).toMatchObject([{ path: 'main', status: 'SUCCEEDED', nodeIds: ['t', 'd1', 'd2', 'd3'] }]);
  });
});

describe('runEvents replay', () => {
  it('replays from afterSeq mid-run, then goes live, without gap or duplicate', async () => {
    const workflowId = await createWorkflow(t, key, chain(150));
    const runId = await startRun(t, key, workflowId);
    const full = watchRun(t, client, runId);
    const d1Done = await full.until((e) => e.type === 'NODE_SUCCEEDED' && e.nodeId === 'd1');

    const afterSeq = d1Done.seq - 1;
    const late = watchRun(t, t.wsClient(key), runId, afterSeq);
    const [all, tail] = await Promise.all([full.done, late.done]);

    expect(contiguous(all)).toBe(true);
    expect(all.at(-1)?.type).toBe('RUN_SUCCEEDED');
    expect(contiguous(tail, afterSeq + 1)).toBe(true);
    expect(only(tail)).toEqual(only(all.slice(afterSeq)));
  });

  it('replays a finished run from any afterSeq and completes', async () => {
    const workflowId = await createWorkflow(t, key, chain(1));
    const runId = await startRun(t, key, workflowId);
    const all = await watchRun(t, client, runId).done;
    const last = all.at(-1)!.seq;

    expect(only(await watchRun(t, client, runId).done)).toEqual(only(all));
    expect(only(await watchRun(t, client, runId, last - 2).done)).toEqual(only(all.slice(-2)));
    expect(await watchRun(t, client, runId, last).done).toEqual([]);
    expect(await watchRun(t, client, runId, last + 100).done).toEqual([]);
  });

  it('streams the same events over SSE', async () => {
    const workflowId = await createWorkflow(t, key, chain(1));
    const runId = await startRun(t, key, workflowId);
    const all = await watchRun(t, client, runId).done;
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: 'subscription ($runId: ID!) { runEvents(runId: $runId) { seq type nodeId branch } }',
        variables: { runId },
      }),
    });
    const text = await response.text(); // the stream ends after the final event
    const seqs = [...text.matchAll(/"seq":(\d+)/g)].map((m) => Number(m[1]));
    expect(seqs).toEqual(all.map((e) => e.seq));
    expect(text).toMatch(/event: complete/);
  });
});

describe('runUpdates', () => {
  it('tells every status change of the workflow runs', async () => {
    const workflowId = await createWorkflow(t, key, chain(1));
    const updates = t.subscribe(t.wsClient(key), RunUpdates, { workflowId });
    // graphql-ws does not acknowledge a subscription: run probes until one is seen, then it is live.
    const probes: string[] = [];
    while (!updates.items.some((u) => probes.includes(u.runUpdates.id))) {
      const probe = await startRun(t, key, workflowId);
      probes.push(probe);
      await watchRun(t, client, probe).done;
    }
    // A run of another workflow must not show up.
    const otherWorkflow = await createWorkflow(t, key, chain(1));
    const otherRun = await startRun(t, key, otherWorkflow);
    await watchRun(t, client, otherRun).done;
    const runId = await startRun(t, key, workflowId);
    await updates.until((u) => u.runUpdates.id === runId && u.runUpdates.status === 'SUCCEEDED');
    updates.dispose();
    const mine = updates.items.map((u) => u.runUpdates).filter((u) => u.id === runId);
    expect(mine.map((u) => u.status)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(mine.every((u) => u.workflow.id === workflowId && u.workflowVersion === 1)).toBe(true);
    expect(updates.items.some((u) => u.runUpdates.id === otherRun)).toBe(false);
  });
});

describe('versions and connections', () => {
  it('a run keeps the version it started with', async () => {
    const workflowId = await createWorkflow(t, key, chain(1));
    const first = await startRun(t, key, workflowId);
    const updated = await t.request(
      UpdateDefinition,
      { id: workflowId, input: { definition: { nodes: [trigger], edges: [] } } },
      key,
    );
    expect(updated.data?.updateWorkflow).toMatchObject({ __typename: 'Workflow', version: 2, definition: { nodes: [trigger], edges: [] } });
    const second = await startRun(t, key, workflowId);
    await Promise.all([watchRun(t, client, first).done, watchRun(t, client, second).done]);
    const a = await t.request(GetRun, { id: first }, key);
    const b = await t.request(GetRun, { id: second }, key);
    expect(a.data?.run).toMatchObject({ workflowVersion: 1, status: 'SUCCEEDED' });
    expect(a.data?.run?.steps.map((s) => s.nodeId).sort()).toEqual(['d1', 'd2', 'd3', 't']);
    expect(b.data?.run).toMatchObject({ workflowVersion: 2, status: 'SUCCEEDED' });
    expect(b.data?.run?.steps.map((s) => s.nodeId)).toEqual(['t']);
  });

  it('pages runs and workflows newest first with cursors', async () => {
    const workflowId = await createWorkflow(t, key, { nodes: [trigger], edges: [] }, 'paged');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await startRun(t, key, workflowId));
    await Promise.all(ids.map((id) => watchRun(t, client, id).done));

    const page1 = await t.request(RunsPage, { workflowId, first: 2 }, key);
    expect(page1.data?.runs.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(page1.data?.runs.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.request(RunsPage, { workflowId, first: 2, after: page1.data?.runs.pageInfo.endCursor }, key);
    expect(page2.data?.runs.edges.map((e) => e.node.id)).toEqual([ids[0]]);
    expect(page2.data?.runs.pageInfo.hasNextPage).toBe(false);

    const succeeded = await t.request(RunsPage, { workflowId, status: 'SUCCEEDED', first: 10 }, key);
    expect(succeeded.data?.runs.edges).toHaveLength(3);
    const failed = await t.request(RunsPage, { workflowId, status: 'FAILED', first: 10 }, key);
    expect(failed.data?.runs.edges).toHaveLength(0);

    const nested = await t.request(WorkflowWithRuns, { id: workflowId, first: 1 }, key);
    expect(nested.data?.workflow?.runs.edges.map((e) => e.node.id)).toEqual([ids[2]]);

    const workflows = await t.request(WorkflowsPage, { first: 1 }, key);
    expect(workflows.data?.workflows.edges[0]?.node).toEqual({ id: workflowId, name: 'paged' });
    expect(workflows.data?.workflows.pageInfo.hasNextPage).toBe(true);

    const badCursor = await t.request(RunsPage, { first: 1, after: 'not-a-cursor' }, key);
    expect(badCursor.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});
