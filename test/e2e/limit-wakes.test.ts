// A changed limit applies at once, not on the next sweep or cache refresh: raising a workflow's
// settings.maxConcurrentRuns (updateWorkflow) or an organization's maxConcurrentRuns starts the runs it
// held back, and a changed maxRunningNodes governs the next node start — in the process that made the
// change and, on PostgreSQL, in every other process sharing the database (NOTIFY braid_limits). The
// servers sweep for runs and re-read maxRunningNodes only every 10 minutes, far beyond the test's
// patience, so only the wake or the invalidation can explain a start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { openDb, type Database } from '../../src/db/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { channels } from '../../src/runs/event-feed.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startGateTarget, type GateTarget } from '../helpers/gate-target.js';
import { postGraphql } from '../helpers/graphql-post.js';

const adminToken = 'limit-wakes-admin-token-0123456789';
/** The claim's sweep and the maxRunningNodes cache's age: never within a test. */
const never = 600_000;
/** How long a test waits for what a wake should do at once. */
const patience = 5000;

interface Started {
  server: BraidServer;
  url: string;
  gql(key: string, query: string, variables?: Record<string, unknown>): Promise<Record<string, any>>;
}

async function startServer(database: Database, overrides: Partial<Config> = {}): Promise<Started> {
  const config: Config = {
    ...loadConfig({ ADMIN_TOKEN: adminToken, HTTP_ALLOW_PRIVATE: 'true', PORT: '0' }),
    shedEventLoopDelayMs: 0,
    shedHeapFraction: 0,
    ...overrides,
  };
  const server = buildServer({ config, database, logger: createLogger({ level: 'silent' }), claimPollMs: never, nodeLimitTtlMs: never });
  const started = await server.start(0, '127.0.0.1');
  const url = `http://127.0.0.1:${started.port}/graphql`;
  return {
    server,
    url,
    async gql(key, query, variables = {}) {
      const result = await postGraphql(url, key, query, variables);
      if (!result.data || result.errors) throw new Error(`${query}: ${JSON.stringify(result)}`);
      return result.data;
    },
  };
}

/** The operations of one organization, sent to any of the servers. */
function organization(gate: GateTarget, key: string, id: string) {
  const gated = (group: string, fanOut = 1, settings: Record<string, unknown> = {}) => ({
    nodes: [
      { id: 'start', type: 'trigger' },
      ...Array.from({ length: fanOut }, (_, i) => ({
        id: `n${i}`,
        type: 'http',
        params: { url: `${gate.url}/?group=${group}&tag={{ $run.input.tag }}.n${i}` },
        timeoutMs: 60_000,
      })),
    ],
    edges: Array.from({ length: fanOut }, (_, i) => ({ source: 'start', target: `n${i}` })),
    settings,
  });
  return {
    id,
    key,
    gated,
    async createWorkflow(on: Started, definition: unknown): Promise<string> {
      const data = await on.gql(key, 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { __typename ... on Workflow { id } } }', {
        input: { name: `wf-${Math.random().toString(36).slice(2)}`, definition },
      });
      return data.createWorkflow.id as string;
    },
    async updateWorkflow(on: Started, workflowId: string, definition: unknown): Promise<void> {
      const data = await on.gql(key, 'mutation ($id: ID!, $input: UpdateWorkflowInput!) { updateWorkflow(id: $id, input: $input) { __typename } }', {
        id: workflowId,
        input: { definition },
      });
      expect(data.updateWorkflow.__typename).toBe('Workflow');
    },
    async setLimits(on: Started, input: Record<string, number | null>): Promise<void> {
      const data = await on.gql(key, 'mutation ($input: OrganizationLimitsInput!) { updateOrganizationLimits(input: $input) { __typename } }', { input });
      expect(data.updateOrganizationLimits.__typename).toBe('Organization');
    },
    async start(on: Started, workflowId: string, tag: string): Promise<string> {
      const data = await on.gql(key, 'mutation ($w: ID!, $input: JSON) { startRun(workflowId: $w, input: $input) { __typename ... on Run { id } } }', {
        w: workflowId,
        input: { tag },
      });
      return data.startRun.id as string;
    },
    async run(on: Started, runId: string): Promise<{ status: string; waitingFor: string | null; steps: { nodeId: string; status: string; reason: string | null }[] }> {
      const data = await on.gql(key, 'query ($id: ID!) { run(id: $id) { status waitingFor steps { nodeId status reason } } }', { id: runId });
      return data.run;
    },
  };
}

type Organization = ReturnType<typeof organization>;

async function createOrganization(on: Started, gate: GateTarget): Promise<Organization> {
  const data = await on.gql(adminToken, 'mutation ($name: String!) { createOrganization(name: $name) { ... on CreateOrganizationPayload { organization { id } apiKey } } }', {
    name: `org-${Math.random().toString(36).slice(2)}`,
  });
  return organization(gate, data.createOrganization.apiKey as string, data.createOrganization.organization.id as string);
}

async function untilSucceeded(org: Organization, on: Started, runIds: string[]): Promise<void> {
  await expect.poll(async () => Promise.all(runIds.map(async (id) => (await org.run(on, id)).status)), { timeout: 20_000, interval: 50 })
    .toEqual(runIds.map(() => 'SUCCEEDED'));
}

describe('a changed limit applies at once in the process that changed it', () => {
  let database: TestDatabase;
  let gate: GateTarget;
  let one: Started;

  beforeAll(async () => {
    [database, gate] = await Promise.all([createTestDatabase(), startGateTarget()]);
    one = await startServer(database);
  });

  afterAll(async () => {
    await gate?.close();
    await one?.server.stop();
    await database?.close();
  });

  it("updateWorkflow raising settings.maxConcurrentRuns starts the workflow's held runs", async () => {
    const org = await createOrganization(one, gate);
    const workflowId = await org.createWorkflow(one, org.gated('wf-raised', 1, { maxConcurrentRuns: 1 }));
    const runIds: string[] = [];
    for (const tag of ['w0', 'w1', 'w2']) runIds.push(await org.start(one, workflowId, tag));
    await gate.until(() => gate.inFlight('wf-raised') === 1, 'w0 in flight');
    await expect.poll(async () => (await org.run(one, runIds[2]!)).waitingFor, { timeout: patience, interval: 50 }).toBe('workflow limit of 1 running run');

    await org.updateWorkflow(one, workflowId, org.gated('wf-raised', 1, { maxConcurrentRuns: 3 }));
    await gate.until(() => gate.inFlight('wf-raised') === 3, 'w1 and w2 started by the update', patience);
    for (const tag of ['w0', 'w1', 'w2']) gate.release(`${tag}.n0`);
    await untilSucceeded(org, one, runIds);
  });

  it("updateOrganizationLimits raising maxConcurrentRuns starts the organization's held runs", async () => {
    const org = await createOrganization(one, gate);
    await org.setLimits(one, { maxConcurrentRuns: 1 });
    const workflowId = await org.createWorkflow(one, org.gated('org-raised'));
    const runIds: string[] = [];
    for (const tag of ['o0', 'o1', 'o2']) runIds.push(await org.start(one, workflowId, tag));
    await gate.until(() => gate.inFlight('org-raised') === 1, 'o0 in flight');
    await expect.poll(async () => (await org.run(one, runIds[2]!)).waitingFor, { timeout: patience, interval: 50 }).toBe('organization limit of 1 running run');

    await org.setLimits(one, { maxConcurrentRuns: null });
    await gate.until(() => gate.inFlight('org-raised') === 3, 'o1 and o2 started by the update', patience);
    for (const tag of ['o0', 'o1', 'o2']) gate.release(`${tag}.n0`);
    await untilSucceeded(org, one, runIds);
  });

  it('a raised maxRunningNodes starts the waiting nodes; a lowered one holds the next run', async () => {
    const org = await createOrganization(one, gate);
    await org.setLimits(one, { maxRunningNodes: 1 });
    const workflowId = await org.createWorkflow(one, org.gated('nodes', 3));
    const first = await org.start(one, workflowId, 'r1');
    await gate.until(() => gate.inFlight('nodes') === 1, 'one node of r1 in flight');
    await expect
      .poll(async () => (await org.run(one, first)).steps.filter((step) => step.status === 'PENDING').map((step) => step.reason), { timeout: patience, interval: 50 })
      .toEqual(['organization limit of 1 running node', 'organization limit of 1 running node']);

    await org.setLimits(one, { maxRunningNodes: 3 });
    await gate.until(() => gate.inFlight('nodes') === 3, 'the other two nodes of r1 started by the update', patience);
    for (let i = 0; i < 3; i++) gate.release(`r1.n${i}`);
    await untilSucceeded(org, one, [first]);

    // Lowered: the cached 3 (read moments ago) must not let the next run start all its nodes.
    await org.setLimits(one, { maxRunningNodes: 1 });
    const second = await org.start(one, workflowId, 'r2');
    await gate.until(() => gate.arrived('nodes').length === 4, 'one node of r2 in flight', patience);
    await expect
      .poll(async () => (await org.run(one, second)).steps.filter((step) => step.status === 'PENDING').map((step) => step.reason), { timeout: patience, interval: 50 })
      .toEqual(['organization limit of 1 running node', 'organization limit of 1 running node']);
    expect(gate.inFlight('nodes')).toBe(1);
    for (let i = 0; i < 3; i++) gate.release(`r2.n${i}`);
    await untilSucceeded(org, one, [second]);
    expect(gate.arrived('nodes')).toHaveLength(6);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('a changed limit applies at once in every process sharing the PostgreSQL', () => {
  let database: TestDatabase;
  let otherConnections: Database;
  let gate: GateTarget;
  /** Where limits are changed: room for one run only, taken by a run the test holds, so it claims nothing. */
  let changer: Started;
  /** Where the runs are driven. */
  let driver: Started;

  beforeAll(async () => {
    [database, gate] = await Promise.all([createTestDatabase(), startGateTarget()]);
    otherConnections = await openDb({ databaseUrl: database.url!, dataDir: 'memory://', maxConnections: 4 });
    changer = await startServer(database, { runCapacity: 1 });
    driver = await startServer(otherConnections);
    const busy = await createOrganization(changer, gate);
    const workflowId = await busy.createWorkflow(changer, busy.gated('busy'));
    await busy.start(changer, workflowId, 'busy');
    await gate.until(() => gate.inFlight('busy') === 1, 'the changing process full');
  });

  afterAll(async () => {
    await gate?.close();
    await changer?.server.stop();
    await driver?.server.stop();
    await otherConnections?.close();
    await database?.close();
  });

  it("a workflow's maxConcurrentRuns raised on one process starts the runs another holds back", async () => {
    const org = await createOrganization(changer, gate);
    const workflowId = await org.createWorkflow(changer, org.gated('peer-wf', 1, { maxConcurrentRuns: 1 }));
    const runIds: string[] = [];
    for (const tag of ['p0', 'p1', 'p2']) runIds.push(await org.start(driver, workflowId, tag));
    await gate.until(() => gate.inFlight('peer-wf') === 1, 'p0 in flight');
    await expect.poll(async () => (await org.run(driver, runIds[2]!)).waitingFor, { timeout: patience, interval: 50 }).toBe('workflow limit of 1 running run');

    await org.updateWorkflow(changer, workflowId, org.gated('peer-wf', 1, { maxConcurrentRuns: 2 }));
    await gate.until(() => gate.inFlight('peer-wf') === 2, 'p1 started on the other process', patience);
    expect(gate.arrived('peer-wf')).toEqual(['p0.n0', 'p1.n0']);
    for (const tag of ['p0', 'p1', 'p2']) gate.release(`${tag}.n0`);
    await untilSucceeded(org, driver, runIds);
  });

  it("an organization's maxConcurrentRuns raised on one process starts the runs another holds back", async () => {
    const org = await createOrganization(changer, gate);
    await org.setLimits(changer, { maxConcurrentRuns: 1 });
    const workflowId = await org.createWorkflow(changer, org.gated('peer-org'));
    const runIds: string[] = [];
    for (const tag of ['q0', 'q1']) runIds.push(await org.start(driver, workflowId, tag));
    await gate.until(() => gate.inFlight('peer-org') === 1, 'q0 in flight');
    await expect.poll(async () => (await org.run(driver, runIds[1]!)).waitingFor, { timeout: patience, interval: 50 }).toBe('organization limit of 1 running run');

    await org.setLimits(changer, { maxConcurrentRuns: 2 });
    await gate.until(() => gate.inFlight('peer-org') === 2, 'q1 started on the other process', patience);
    for (const tag of ['q0', 'q1']) gate.release(`${tag}.n0`);
    await untilSucceeded(org, driver, runIds);
  });

  it('maxRunningNodes changed on one process governs the node starts of another', async () => {
    const org = await createOrganization(changer, gate);
    await org.setLimits(changer, { maxRunningNodes: 1 });
    const workflowId = await org.createWorkflow(changer, org.gated('peer-nodes', 3));
    const first = await org.start(driver, workflowId, 's1');
    await gate.until(() => gate.inFlight('peer-nodes') === 1, 'one node of s1 in flight');
    await expect
      .poll(async () => (await org.run(driver, first)).steps.filter((step) => step.status === 'PENDING').map((step) => step.reason), { timeout: patience, interval: 50 })
      .toEqual(['organization limit of 1 running node', 'organization limit of 1 running node']);

    await org.setLimits(changer, { maxRunningNodes: 3 });
    await gate.until(() => gate.inFlight('peer-nodes') === 3, 'the other two nodes of s1 started on the other process', patience);
    for (let i = 0; i < 3; i++) gate.release(`s1.n${i}`);
    await untilSucceeded(org, driver, [first]);

    // The notification travels on its own: heard here on the driving process's own listening session,
    // after the process itself (its listener came first), which then re-reads the limit at once.
    let heard!: () => void;
    const lowered = new Promise<void>((resolve) => (heard = resolve));
    const listener = await (otherConnections as Database & { driver: 'postgres' }).client.listen(channels.limits, (payload) => {
      if ((JSON.parse(payload) as { o: string }).o === org.id) heard();
    });
    await org.setLimits(changer, { maxRunningNodes: 1 });
    await lowered;
    await listener.unlisten();
    const second = await org.start(driver, workflowId, 's2');
    await gate.until(() => gate.arrived('peer-nodes').length >= 4, 'a node of s2 in flight', patience);
    await expect
      .poll(async () => (await org.run(driver, second)).steps.filter((step) => step.status === 'PENDING').map((step) => step.reason), { timeout: patience, interval: 50 })
      .toEqual(['organization limit of 1 running node', 'organization limit of 1 running node']);
    expect(gate.inFlight('peer-nodes')).toBe(1);
    for (let i = 0; i < 3; i++) gate.release(`s2.n${i}`);
    await untilSucceeded(org, driver, [second]);
  });
});
