// totalCount on every connection: how many items the connection's filter matches in all (whatever the
// page), within the caller's organization only, and counted only when a query asks for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { CancelRun, GetRun, createWorkflow, startRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { statementsDuring } from '../helpers/statements.js';

let t: TestServer;
let key: string;
let otherKey: string;
let quickId: string;
let heldId: string;
let otherWorkflowId: string;

const quick = {
  nodes: [
    { id: 't', type: 'trigger' },
    { id: 'a', type: 'delay', params: { ms: 1 } },
  ],
  edges: [{ source: 't', target: 'a' }],
};
const held = {
  nodes: [
    { id: 't', type: 'trigger' },
    { id: 'wait', type: 'delay', params: { ms: 600_000 } },
  ],
  edges: [{ source: 't', target: 'wait' }],
};

const Counts = graphql(`
  query TotalCounts($workflowId: ID, $status: RunStatus, $first: Int, $after: String) {
    workflows(first: $first) { totalCount edges { node { id } } }
    runs(workflowId: $workflowId, status: $status, first: $first, after: $after) {
      totalCount
      edges { node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const WorkflowRunCount = graphql(`
  query WorkflowRunCount($id: ID!, $first: Int) {
    workflow(id: $id) { runs(first: $first) { totalCount edges { node { id } } } }
  }
`);

const RunsWithoutCount = graphql(`
  query RunsWithoutCount($first: Int) {
    workflows(first: $first) { edges { node { id runs(first: $first) { edges { node { id } } } } } }
    runs(first: $first) { edges { node { id status } } }
  }
`);

async function counts(variables: { workflowId?: string; status?: 'SUCCEEDED' | 'CANCELLED' | 'FAILED'; first?: number; after?: string }, as = key) {
  const response = await t.request(Counts, variables, as);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

/** Polls the run until it has `status` (runs finish on their own; nothing here sleeps blindly). */
async function until(runId: string, status: string, as: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const run = (await t.request(GetRun, { id: runId }, as)).data?.run;
    if (run?.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`run ${runId} never became ${status}`);
}

beforeAll(async () => {
  t = await startTestServer();
  ({ adminKey: key } = await t.createOrganization());
  ({ adminKey: otherKey } = await t.createOrganization());
  // Ours: two workflows; 5 runs that succeed and 2 that are cancelled.
  quickId = await createWorkflow(t, key, quick, 'quick');
  heldId = await createWorkflow(t, key, held, 'held');
  const succeeded = [];
  for (let i = 0; i < 5; i++) succeeded.push(await startRun(t, key, quickId));
  const cancelled = [await startRun(t, key, heldId), await startRun(t, key, heldId)];
  for (const runId of cancelled) {
    await until(runId, 'RUNNING', key);
    const result = await t.request(CancelRun, { id: runId }, key);
    expect(result.data?.cancelRun.__typename).toBe('Run');
  }
  for (const runId of succeeded) await until(runId, 'SUCCEEDED', key);
  for (const runId of cancelled) await until(runId, 'CANCELLED', key);
  // Another organization's workflows and runs, succeeded too: never ours to count.
  otherWorkflowId = await createWorkflow(t, otherKey, quick, 'theirs');
  await createWorkflow(t, otherKey, quick, 'theirs too');
  await createWorkflow(t, otherKey, quick, 'theirs three');
  const theirs = [];
  for (let i = 0; i < 4; i++) theirs.push(await startRun(t, otherKey, otherWorkflowId));
  for (const runId of theirs) await until(runId, 'SUCCEEDED', otherKey);
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('totalCount', () => {
  it('counts every workflow and run of the organization, whatever the page size', async () => {
    const all = await counts({ first: 2 });
    expect(all.workflows.totalCount).toBe(2);
    expect(all.runs.totalCount).toBe(7);
    expect(all.runs.edges).toHaveLength(2);
    expect(all.runs.pageInfo.hasNextPage).toBe(true);
    // A later page counts the same total.
    const next = await counts({ first: 2, after: all.runs.pageInfo.endCursor! });
    expect(next.runs.totalCount).toBe(7);
    expect(next.runs.edges[0]!.node.id).not.toBe(all.runs.edges[0]!.node.id);
  });

  it("never counts another organization's rows", async () => {
    const theirs = await counts({ first: 1 }, otherKey);
    expect(theirs.workflows.totalCount).toBe(3);
    expect(theirs.runs.totalCount).toBe(4);
    // Their workflow id, asked by us: nothing.
    expect((await counts({ workflowId: otherWorkflowId })).runs.totalCount).toBe(0);
  });

  it('honours the status and workflow filters, alone and together', async () => {
    expect((await counts({ status: 'SUCCEEDED' })).runs.totalCount).toBe(5);
    expect((await counts({ status: 'CANCELLED' })).runs.totalCount).toBe(2);
    expect((await counts({ status: 'FAILED' })).runs.totalCount).toBe(0);
    expect((await counts({ workflowId: quickId })).runs.totalCount).toBe(5);
    expect((await counts({ workflowId: heldId, status: 'CANCELLED' })).runs.totalCount).toBe(2);
    expect((await counts({ workflowId: heldId, status: 'SUCCEEDED' })).runs.totalCount).toBe(0);
  });

  it("counts a workflow's runs on Workflow.runs", async () => {
    const response = await t.request(WorkflowRunCount, { id: heldId, first: 1 }, key);
    expect(response.errors).toBeUndefined();
    expect(response.data?.workflow?.runs.totalCount).toBe(2);
    expect(response.data?.workflow?.runs.edges).toHaveLength(1);
  });

  it('is counted only when selected', async () => {
    await t.request(RunsWithoutCount, { first: 5 }, key); // the key's first use is recorded: not measured
    const counting = (texts: string[]) => texts.filter((text) => /count\(\*\)[^;]*from "(runs|workflows)"/i.test(text));
    const without = await statementsDuring(t.database, () => t.request(RunsWithoutCount, { first: 5 }, key));
    expect(without.some((text) => /from "runs"/i.test(text))).toBe(true);
    expect(counting(without)).toEqual([]);
    const withCount = await statementsDuring(t.database, () => t.request(Counts, { first: 5 }, key));
    // One COUNT for workflows, one for runs.
    expect(counting(withCount)).toHaveLength(2);
  });
});
