// The server's life: shutdown drains (nothing cancelled, the next server finishes the run); runs a
// crashed process left behind are taken over on start; dev mode; health; a bad environment stops main.
import { execFile } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import { branches, runEvents, runs, steps } from '../../src/db/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { graphql } from '../gql/index.js';
import { GetRun, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { adminToken, startTestServer, type TestServer } from '../helpers/server.js';
import { postGraphql as post } from '../helpers/graphql-post.js';
import { quietLogger } from '../helpers/quiet-logger.js';

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
    logger: quietLogger(),
  });
  const started = await server.start(0, '127.0.0.1');
  return { server, started, url: `http://127.0.0.1:${started.port}/graphql` };
}

/** Every event of a run after `afterSeq`, read through a subscription on the server at `port` until it completes. */
async function collectEvents(port: number, key: string, runId: string, afterSeq: number) {
  const client = createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  try {
    const events: { seq: number; type: string }[] = [];
    await new Promise<void>((resolve, reject) =>
      client.subscribe<{ runEvents: { seq: number; type: string } }>(
        { query: `subscription { runEvents(runId: "${runId}", afterSeq: ${afterSeq}) { seq type } }` },
        { next: ({ data }) => events.push(data!.runEvents), error: reject, complete: resolve },
      ),
    );
    return events;
  } finally {
    await client.dispose();
  }
}

describe('dev mode', () => {
  let server: BraidServer;
  afterAll(() => server?.stop());

  // With memory:// no key file is kept (test/e2e/api-keys.test.ts reuses one on a data directory).
  it('makes an organization "default" with a new ADMIN key each start, pre-filled in GraphiQL', async () => {
    const first = await serverOn({ adminToken: undefined, dataDir: 'memory://' });
    server = first.server;
    const key = first.started.devApiKey!;
    expect(key).toMatch(/^brd_/);
    const org = await post(first.url, key, '{ organization { id name } }');
    expect(org.data?.organization.name).toBe('default');
    const page = await fetch(first.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain(`Bearer ${key}`);
    await first.server.stop();

    const second = await serverOn({ adminToken: undefined, dataDir: 'memory://' });
    server = second.server;
    expect(second.started.devApiKey).not.toBe(key);
    const again = await post(second.url, second.started.devApiKey!, '{ organization { id name } }');
    expect(again.data?.organization).toEqual(org.data?.organization);
  });
});

describe('shutdown and restart', () => {
  it('stopping drains: a running step is left RUNNING (never CANCELLED) and the next server finishes the run', async () => {
    const slow = (await import('../helpers/slow-server.js')).startSlowServer;
    const slowServer = await slow();
    const { server, url, started } = await serverOn({ shutdownGraceMs: 200 });
    try {
      const created = await post(url, adminToken, 'mutation { createOrganization(name: "shutdown") { ... on CreateOrganizationPayload { apiKey } } }');
      const key = created.data?.createOrganization.apiKey as string;
      const workflow = await post(url, key, 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { ... on Workflow { id } } }', {
        input: {
          name: 'long',
          definition: {
            nodes: [
              { id: 't', type: 'trigger' },
              { id: 'long', type: 'http', params: { url: `${slowServer.url}/slow?ms=1500&tag=long` } },
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
      const seen: { seq: number; type: string; nodeId: string | null }[] = [];
      let startedLong!: () => void;
      const longStarted = new Promise<void>((resolve) => (startedLong = resolve));
      const closed = new Promise<{ code: number; completed: boolean }>((resolve) => {
        let completed = false;
        client.on('closed', (event) => resolve({ code: (event as { code: number }).code, completed }));
        client.subscribe<{ runEvents: (typeof seen)[number] }>(
          { query: `subscription { runEvents(runId: "${runId}") { seq type nodeId } }` },
          {
            next: ({ data }) => {
              seen.push(data!.runEvents);
              if (data!.runEvents.type === 'NODE_STARTED' && data!.runEvents.nodeId === 'long') startedLong();
            },
            error: () => undefined,
            complete: () => (completed = true),
          },
        );
      });
      await longStarted;
      await server.stop();
      // The socket is closed as "going away", without completing: the client resubscribes elsewhere.
      expect(await closed).toEqual({ code: 1001, completed: false });
      expect(seen.map((e) => e.type)).not.toContain('NODE_CANCELLED');
      await client.dispose();
      const left = await database.db.select().from(runs).where(eq(runs.id, runId));
      expect(left[0]).toMatchObject({ status: 'RUNNING', owner: null });
      const leftSteps = await database.db.select().from(steps).where(eq(steps.runId, runId));
      expect(leftSteps.find((s) => s.nodeId === 'long')).toMatchObject({ status: 'RUNNING', attempt: 1 });

      // The next server takes the run over and finishes it, continuing the events after a RUN_RESUMED.
      const next = await serverOn();
      try {
        const events = await collectEvents(next.started.port, key, runId, seen.at(-1)!.seq);
        expect(events.map((e) => e.type)).toEqual(['RUN_RESUMED', 'NODE_SUCCEEDED', 'BRANCH_FINISHED', 'RUN_SUCCEEDED']);
        expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4].map((i) => seen.at(-1)!.seq + i));
        const read = await post(next.url, key, 'query ($id: ID!) { run(id: $id) { status steps { nodeId status attempt } } }', { id: runId });
        expect(read.data?.run.status).toBe('SUCCEEDED');
        expect(read.data?.run.steps).toContainEqual({ nodeId: 'long', status: 'SUCCEEDED', attempt: 1 });
        // Sent twice (at-least-once), with one Idempotency-Key.
        expect(slowServer.requests.filter((r) => r.tag === 'long').map((r) => r.idempotencyKey)).toEqual([`${runId}:long:0`, `${runId}:long:0`]);
      } finally {
        await next.server.stop();
      }
    } finally {
      await server.stop();
      await slowServer.close();
    }
  });

  it('on start, takes over the runs a crashed process left RUNNING: the running node runs again, events go on gapless', async () => {
    t = await startTestServer();
    // Two servers on one PGlite happen only in tests: let the first take what it found before the crash's rows exist.
    await t.server.tookOver;
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
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at, finishedAt: at, output: { n: 1 } },
      { runId, nodeId: 'a', nodeType: 'delay', status: 'RUNNING', attempt: 1, branch: 'main', startedAt: at, input: { n: 1 } },
    ]);
    await t.database.db.insert(branches).values({ runId, id: 'main', status: 'RUNNING', nodeIds: ['t', 'a'], startedAt: at });
    await t.database.db.insert(runEvents).values([
      { runId, seq: 1, type: 'RUN_STARTED', at, status: 'RUNNING' },
      { runId, seq: 2, type: 'NODE_STARTED', at, nodeId: 't', branch: 'main', status: 'RUNNING', attempt: 1 },
      { runId, seq: 3, type: 'NODE_SUCCEEDED', at, nodeId: 't', branch: 'main', status: 'SUCCEEDED', attempt: 1 },
      { runId, seq: 4, type: 'NODE_STARTED', at, nodeId: 'a', branch: 'main', status: 'RUNNING', attempt: 1 },
    ]);

    // A new process starts over the same database; its log lines are read.
    const lines: { msg: string; runId?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line));
        done();
      },
    });
    const restarted = buildServer({ config: t.config, database: t.database, logger: createLogger({ level: 'info', destination: sink }) });
    const { port } = await restarted.start(0, '127.0.0.1');
    try {
      // Watched on the server that drives it: two servers on one PGlite do not share live events.
      const events = await collectEvents(port, adminKey, runId, 0);
      expect(events.map((e) => `${e.seq}:${e.type}`)).toEqual([
        '1:RUN_STARTED',
        '2:NODE_STARTED',
        '3:NODE_SUCCEEDED',
        '4:NODE_STARTED',
        '5:RUN_RESUMED',
        '6:NODE_SUCCEEDED',
        '7:BRANCH_FINISHED',
        '8:RUN_SUCCEEDED',
      ]);
      const run = await t.request(GetRun, { id: runId }, adminKey);
      expect(run.data?.run).toMatchObject({ status: 'SUCCEEDED', output: { a: { n: 1 } } });
      expect(run.data?.run?.steps.find((s) => s.nodeId === 'a')).toMatchObject({ status: 'SUCCEEDED', attempt: 1 });
      expect(run.data?.run?.branches).toEqual([expect.objectContaining({ status: 'SUCCEEDED', nodeIds: ['t', 'a'] })]);
      // The operator sees where the run went on, as for a fresh start, then its end.
      expect(lines.filter((line) => line.runId === runId).map((line) => line.msg)).toEqual(['run taken over', 'run finished']);
      expect(lines.find((line) => line.msg === 'run taken over')).toMatchObject({ runId, workflowId, status: 'RUNNING' });
    } finally {
      await restarted.stop();
    }
  });

  it('answers /health with the database state', async () => {
    // A server of its own: this test must not depend on the one the test before started.
    const own = await startTestServer();
    try {
      const response = await fetch(`${own.baseUrl}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'ok' });
      const ready = await fetch(`${own.baseUrl}/ready`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
      expect((await own.request(Organization, {}, null)).errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    } finally {
      await own.close();
    }
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
