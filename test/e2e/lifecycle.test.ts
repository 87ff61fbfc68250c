// The server's life: shutdown cancels live runs ("server shutting down") and subscribers see it; runs a
// crashed process left behind are settled on start; dev mode; health; a bad environment stops main.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import { branches, runEvents, runs, steps } from '../../src/db/schema.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { graphql } from '../gql/index.js';
import { GetRun, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { adminToken, startTestServer, type TestServer } from '../helpers/server.js';

const Organization = graphql(`
  query Organization {
    organization { id name }
  }
`);

let database: TestDatabase;
let t: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.close();
  await t?.close();
});

/** A server over the shared database of this file. */
async function serverOn(config: Partial<Config> = {}) {
  const server = buildServer({
    config: { ...loadConfig({ ADMIN_TOKEN: adminToken, HTTP_ALLOW_PRIVATE: 'true' }), ...config },
    database,
  });
  const started = await server.start(0, '127.0.0.1');
  return { server, started, url: `http://127.0.0.1:${started.port}/graphql` };
}

async function post(url: string, key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
}

describe('dev mode', () => {
  let server: BraidServer;
  afterAll(() => server?.stop());

  it('makes an organization "default" with a new ADMIN key each start, pre-filled in GraphiQL', async () => {
    const first = await serverOn({ adminToken: undefined });
    server = first.server;
    const key = first.started.devApiKey!;
    expect(key).toMatch(/^brd_/);
    const org = await post(first.url, key, '{ organization { id name } }');
    expect(org.data?.organization.name).toBe('default');
    const page = await fetch(first.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain(`Bearer ${key}`);
    await first.server.stop();

    const second = await serverOn({ adminToken: undefined });
    server = second.server;
    expect(second.started.devApiKey).not.toBe(key);
    const again = await post(second.url, second.started.devApiKey!, '{ organization { id name } }');
    expect(again.data?.organization).toEqual(org.data?.organization);
  });
});

describe('shutdown and restart', () => {
  it('stopping cancels live runs with "server shutting down"; subscribers see the end', async () => {
    const slow = (await import('../helpers/slow-server.js')).startSlowServer;
    const slowServer = await slow();
    const { server, url, started } = await serverOn();
    try {
      const created = await post(url, adminToken, 'mutation { createOrganization(name: "shutdown") { ... on CreateOrganizationPayload { apiKey } } }');
      const key = created.data?.createOrganization.apiKey as string;
      const workflow = await post(url, key, 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { ... on Workflow { id } } }', {
        input: {
          name: 'long',
          definition: {
            nodes: [
              { id: 't', type: 'trigger' },
              { id: 'long', type: 'http', params: { url: `${slowServer.url}/slow?ms=30000` } },
            ],
            edges: [{ source: 't', target: 'long' }],
          },
        },
      });
      const run = await post(url, key, 'mutation ($id: ID!) { startRun(workflowId: $id) { ... on Run { id } } }', {
        id: workflow.data?.createWorkflow.id,
      });
      const runId = run.data?.startRun.id as string;
      const client = createClient({
        url: `ws://127.0.0.1:${started.port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
      });
      const seen: { type: string; nodeId: string | null; reason: string | null }[] = [];
      let startedLong!: () => void;
      const longStarted = new Promise<void>((resolve) => (startedLong = resolve));
      const ended = new Promise<void>((resolve, reject) =>
        client.subscribe<{ runEvents: (typeof seen)[number] }>(
          { query: `subscription { runEvents(runId: "${runId}") { type nodeId reason } }` },
          {
            next: ({ data }) => {
              seen.push(data!.runEvents);
              if (data!.runEvents.type === 'NODE_STARTED' && data!.runEvents.nodeId === 'long') startedLong();
            },
            error: reject,
            complete: resolve,
          },
        ),
      );
      await longStarted;
      await server.stop();
      await ended;
      expect(seen.at(-1)?.type).toBe('RUN_CANCELLED');
      expect(seen.find((e) => e.type === 'NODE_CANCELLED')).toMatchObject({ nodeId: 'long', reason: 'cancelled: server shutting down' });
      await client.dispose();

      // A new server over the same database reads the run as it was left.
      const next = await serverOn();
      try {
        const read = await post(next.url, key, 'query ($id: ID!) { run(id: $id) { status steps { nodeId status reason } } }', { id: runId });
        expect(read.data?.run.status).toBe('CANCELLED');
        expect(next.started.recoveredRuns).toBe(0);
      } finally {
        await next.server.stop();
      }
    } finally {
      await server.stop();
      await slowServer.close();
    }
  });

  it('on start, settles the runs a crashed process left RUNNING: FAILED, open steps CANCELLED, events appended', async () => {
    t = await startTestServer();
    const { adminKey, id: organizationId } = await t.createOrganization();
    const workflowId = await createWorkflow(t, adminKey, {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'a', type: 'delay', params: { ms: 1 } },
      ],
      edges: [{ source: 't', target: 'a' }],
    });
    // What a process that died mid-run leaves behind.
    const runId = 'run_left_by_a_crash';
    const at = new Date();
    await t.database.db.insert(runs).values({ id: runId, organizationId, workflowId, workflowVersion: 1, status: 'RUNNING', startedAt: at });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at, finishedAt: at },
      { runId, nodeId: 'a', nodeType: 'delay', status: 'RUNNING', attempt: 1, branch: 'main', startedAt: at },
    ]);
    await t.database.db.insert(branches).values({ runId, id: 'main', status: 'RUNNING', nodeIds: ['t', 'a'], startedAt: at });
    await t.database.db.insert(runEvents).values([
      { runId, seq: 1, type: 'RUN_STARTED', at, status: 'RUNNING' },
      { runId, seq: 2, type: 'NODE_STARTED', at, nodeId: 't', branch: 'main', status: 'RUNNING', attempt: 1 },
      { runId, seq: 3, type: 'NODE_SUCCEEDED', at, nodeId: 't', branch: 'main', status: 'SUCCEEDED', attempt: 1 },
      { runId, seq: 4, type: 'NODE_STARTED', at, nodeId: 'a', branch: 'main', status: 'RUNNING', attempt: 1 },
    ]);

    // A new process starts over the same database.
    const restarted = buildServer({ config: t.config, database: t.database });
    const started = await restarted.start(0, '127.0.0.1');
    try {
      expect(started.recoveredRuns).toBe(1);
      const run = await t.request(GetRun, { id: runId }, adminKey);
      expect(run.data?.run).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/interrupted/) });
      expect(run.data?.run?.steps.find((s) => s.nodeId === 'a')).toMatchObject({ status: 'CANCELLED', reason: expect.stringMatching(/interrupted/) });
      expect(run.data?.run?.branches).toEqual([expect.objectContaining({ id: 'main', status: 'CANCELLED' })]);
      const events = await watchRun(t, t.wsClient(adminKey), runId).done;
      expect(events.map((e) => `${e.seq}:${e.type}`)).toEqual([
        '1:RUN_STARTED',
        '2:NODE_STARTED',
        '3:NODE_SUCCEEDED',
        '4:NODE_STARTED',
        '5:NODE_CANCELLED',
        '6:BRANCH_FINISHED',
        '7:RUN_FAILED',
      ]);
      // Runs of the running server are not touched by that.
      const live = await startRun(t, adminKey, workflowId);
      expect((await watchRun(t, t.wsClient(adminKey), live).done).at(-1)?.type).toBe('RUN_SUCCEEDED');
    } finally {
      await restarted.stop();
    }
  });

  it('answers /health with the database state', async () => {
    const response = await fetch(`${t.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
    expect((await t.request(Organization, {}, null)).errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });
});

describe('main', () => {
  it('exits 1 naming the variable when the environment is bad', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'not-a-port', DATABASE_URL: '' },
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/PORT="not-a-port"/);
  });
});
