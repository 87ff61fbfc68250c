// Retention through a real server: a run deleted by RUN_RETENTION_HOURS reads, through the API, as a run
// that never existed; the server sweeps by itself once it listens (counted in /metrics); and a backlog of
// 20,000 finished runs is deleted in batches while runs started through the API keep completing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createRetention } from '../../src/runs/retention.js';
import { buildServer } from '../../src/server.js';
import { createTestDatabase } from '../helpers/db.js';
import { deferred } from '../helpers/deferred.js';
import { insertOldRuns, storedRows } from '../helpers/old-runs.js';
import { createWorkflow, runToEnd, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { dag } from '../helpers/workflows.js';
import { sql } from 'drizzle-orm';

const definition = dag('t>a a>b', {
  nodes: { a: { type: 'transform', params: { expression: '$input' } }, b: { type: 'transform', params: { expression: '$input' } } },
});
const quiet = { info: () => {}, warn: () => {} };

const RunQuery = `query Run($id: ID!) { run(id: $id) { id status steps { nodeId } branches { id } } }`;
const RunsQuery = `query Runs($workflowId: ID) { runs(workflowId: $workflowId, first: 100) { edges { node { id } } } }`;
const CancelRun = `mutation Cancel($id: ID!) { cancelRun(id: $id) { __typename ... on Error { message } } }`;
const RetryRun = `mutation Retry($id: ID!) { retryRun(id: $id) { __typename ... on Error { message } } }`;
const WorkflowQuery = `query Workflow($id: ID!) { workflow(id: $id) { id version } }`;

type RunAnswer = { run: { id: string; status: string; steps: { nodeId: string }[]; branches: { id: string }[] } | null };

let t: TestServer;
let key: string;
let organizationId: string;

beforeAll(async () => {
  t = await startTestServer({ runRetentionHours: 720 });
  ({ adminKey: key, id: organizationId } = await t.createOrganization());
});
afterAll(() => t?.close());

const metric = async (name: string) => {
  const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('retention through the API', () => {
  it('a run deleted by retention reads as one that does not exist; newer runs and the workflow stay', async () => {
    const client = t.wsClient(key);
    const old = await runToEnd(t, key, client, definition, { n: 1 });
    const recentId = await startRun(t, key, old.workflowId, { input: { n: 2 } });
    await watchRun(t, client, recentId).done;
    expect(((await t.request<RunAnswer, { id: string }>(RunQuery, { id: old.runId }, key)).data?.run)?.status).toBe('SUCCEEDED');
    const deletedBefore = (await metric('braid_runs_deleted_total')) ?? Number.NaN;

    // The first run finished 721 hours ago.
    await t.database.rows(sql`update runs set finished_at = now() - interval '721 hours' where id = ${old.runId}`);
    expect(await t.server.retention.sweep()).toMatchObject({ deleted: 1 });

    const read = await t.request<RunAnswer, { id: string }>(RunQuery, { id: old.runId }, key);
    expect(read.errors).toBeUndefined();
    expect(read.data?.run).toBeNull();
    const listed = await t.request<{ runs: { edges: { node: { id: string } }[] } }, { workflowId: string }>(RunsQuery, { workflowId: old.workflowId }, key);
    expect(listed.data?.runs.edges.map((e) => e.node.id)).toEqual([recentId]);
    for (const mutation of [CancelRun, RetryRun]) {
      const answer = await t.request<Record<string, { __typename: string }>, { id: string }>(mutation, { id: old.runId }, key);
      expect(Object.values(answer.data ?? {})[0]?.__typename).toBe('NotFoundError');
    }
    const refused = await watchRun(t, client, old.runId).done.then(() => 'completed', (error: unknown) => error);
    expect(JSON.stringify(refused)).toContain('NOT_FOUND');
    expect(await storedRows(t.database, old.runId)).toEqual({ runs: 0, steps: 0, branches: 0, events: 0 });
    const recent = (await t.request<RunAnswer, { id: string }>(RunQuery, { id: recentId }, key)).data?.run;
    expect(recent).toMatchObject({ status: 'SUCCEEDED', steps: [{}, {}, {}] });
    const workflow = await t.request<{ workflow: { id: string; version: number } | null }, { id: string }>(WorkflowQuery, { id: old.workflowId }, key);
    expect(workflow.data?.workflow).toEqual({ id: old.workflowId, version: 1 });
    expect(await metric('braid_runs_deleted_total')).toBe(deletedBefore + 1);
    expect(await metric('braid_runs_stored')).toBeGreaterThanOrEqual(1);
  });

  it('deletes a backlog of 20,000 finished runs in batches while runs started through the API keep completing', async () => {
    const workflowId = await createWorkflow(t, key, definition);
    await insertOldRuns(t.database, { prefix: 'backlog_', count: 20_000, organizationId, workflowId, finishedAt: new Date(Date.now() - 800 * 3_600_000) });
    expect((await storedRows(t.database, 'backlog_')).runs).toBe(20_000);

    const client = t.wsClient(key);
    const started: string[] = [];
    const liveStarted = deferred();
    const batches: number[] = [];
    const sweeper = createRetention({
      database: t.database,
      hours: 720,
      log: quiet,
      batchSize: 500,
      // After the first batch, 10 runs start through the API; the sweep goes on while they run.
      onDeleted: async (count) => {
        batches.push(count);
        if (batches.length !== 1) return;
        for (let i = 0; i < 10; i++) started.push(await startRun(t, key, workflowId, { input: { i } }));
        liveStarted.resolve();
      },
    });
    const feeds = () => started.map((id) => watchRun(t, client, id).done);
    const sweeping = sweeper.sweep();
    await liveStarted.promise;
    const finals = await Promise.all(feeds());
    const result = await sweeping;

    expect(finals.map((events) => events.at(-1)?.type)).toEqual(Array(10).fill('RUN_SUCCEEDED'));
    expect(result).toMatchObject({ deleted: 20_000, backlog: false });
    expect(batches.length).toBe(40);
    expect(Math.max(...batches)).toBe(500);
    expect(await storedRows(t.database, 'backlog_')).toEqual({ runs: 0, steps: 0, branches: 0, events: 0 });
    for (const id of started) {
      expect((await t.request<RunAnswer, { id: string }>(RunQuery, { id }, key)).data?.run?.status).toBe('SUCCEEDED');
    }
  }, 120_000);
});

describe('the server sweeps by itself', () => {
  it('after it listens, deletes the finished runs past RUN_RETENTION_HOURS already stored, counts them in /metrics, and stops with the server', async () => {
    const database = await createTestDatabase();
    const config = { ...loadConfig({ ADMIN_TOKEN: 'retention-admin-token', PORT: '0' }), runRetentionHours: 24 };
    const swept: number[] = [];
    const allSwept = deferred();
    const onDeleted = (count: number) => {
      swept.push(count);
      if (swept.reduce((a, b) => a + b, 0) >= 120) allSwept.resolve();
    };
    const server = buildServer({ config, database, logger: createLogger({ level: 'silent' }), retention: { batchSize: 50, onDeleted } });
    try {
      await database.rows(sql`insert into organizations (id, name) values ('org_s', 'sweeps')`);
      await database.rows(sql`insert into workflows (id, organization_id, name, version) values ('wf_s', 'org_s', 'w', 1)`);
      await insertOldRuns(database, { prefix: 'gone_', count: 120, organizationId: 'org_s', workflowId: 'wf_s', finishedAt: new Date(Date.now() - 25 * 3_600_000) });
      await insertOldRuns(database, { prefix: 'kept_', count: 7, organizationId: 'org_s', workflowId: 'wf_s', finishedAt: new Date(Date.now() - 23 * 3_600_000) });
      expect(swept).toEqual([]);
      const started = await server.start(0, '127.0.0.1');
      await allSwept.promise;
      // Joins the sweep if it is still tidying up (or sweeps again, finding nothing).
      await server.retention.sweep();
      expect(swept.reduce((a, b) => a + b, 0)).toBe(120);
      expect(swept.length).toBe(3);
      expect(await storedRows(database, 'gone_')).toEqual({ runs: 0, steps: 0, branches: 0, events: 0 });
      expect((await storedRows(database, 'kept_')).runs).toBe(7);
      const text = await (await fetch(`http://127.0.0.1:${started.port}/metrics`)).text();
      expect(text).toMatch(/^braid_runs_deleted_total 120$/m);
      expect(text).toMatch(/^braid_runs_stored 7$/m);
    } finally {
      await server.stop();
      await database.close();
    }
  });
});
