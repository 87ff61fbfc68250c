// maxRunningNodes across two servers sharing one PostgreSQL database: each server drives runs of the same
// organization, and the host their http nodes call never sees more requests at once than the
// organization's limit; the nodes past it wait PENDING with the reason, and every run finishes.
// Only with DATABASE_URL: PGlite has one process, where the per-process count is the whole count.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDb, type Database } from '../../src/db/client.js';
import { organizations } from '../../src/db/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { postGraphql } from '../helpers/graphql-post.js';

const adminToken = 'node-slots-admin-token-0123456789';

/** A loopback host that holds every request until the test answers it. */
async function startHost() {
  const held: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let arrivals = 0;
  const server = createServer((_req, res) => {
    arrivals++;
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    res.on('close', () => inFlight--);
    held.push(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    get maxInFlight() {
      return maxInFlight;
    },
    get arrivals() {
      return arrivals;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 20));

describe.skipIf(!process.env.DATABASE_URL)('maxRunningNodes across processes', () => {
  let database: TestDatabase;
  let second: Database;
  let servers: { server: BraidServer; url: string }[] = [];
  let host: Awaited<ReturnType<typeof startHost>>;

  beforeAll(async () => {
    [database, host] = await Promise.all([createTestDatabase(), startHost()]);
    second = await openDb({ databaseUrl: database.url!, dataDir: 'memory://', maxConnections: 4 });
    const config = {
      ...loadConfig({ ADMIN_TOKEN: adminToken, HTTP_ALLOW_PRIVATE: 'true', PORT: '0' }),
      shedEventLoopDelayMs: 0,
      shedHeapFraction: 0,
    };
    const logger = createLogger({ level: 'silent' });
    servers = await Promise.all(
      [database, second].map(async (each, i) => {
        const server = buildServer({ config, database: each, logger, processId: `proc_slots_${i}` });
        const started = await server.start(0, '127.0.0.1');
        return { server, url: `http://127.0.0.1:${started.port}/graphql` };
      }),
    );
  });

  afterAll(async () => {
    await host?.close(); // requests still held (a failed test) are cut off, not waited for by the drain
    for (const { server } of servers) await server.stop();
    await second?.close();
    await database?.close();
  });

  it('holds the limit across both servers; the rest wait PENDING with the reason; every run finishes', async () => {
    const created = await postGraphql(servers[0]!.url, adminToken, `mutation { createOrganization(name: "slots") { ... on CreateOrganizationPayload { organization { id } apiKey } } }`);
    const { organization, apiKey } = created.data!.createOrganization as { organization: { id: string }; apiKey: string };
    await database.db.update(organizations).set({ maxRunningNodes: 2 }).where(eq(organizations.id, organization.id));
    const definition = {
      nodes: [{ id: 't', type: 'trigger' }, ...[0, 1, 2].map((i) => ({ id: `n${i}`, type: 'http', params: { url: `${host.url}/n${i}` } }))],
      edges: [0, 1, 2].map((i) => ({ source: 't', target: `n${i}` })),
    };
    const workflow = await postGraphql(servers[0]!.url, apiKey, `mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { ... on Workflow { id } } }`, {
      input: { name: 'fan', definition },
    });
    const workflowId = (workflow.data!.createWorkflow as { id: string }).id;
    // Two runs driven by each server.
    const runIds: string[] = [];
    for (const { url } of [...servers, ...servers]) {
      const started = await postGraphql(url, apiKey, `mutation ($id: ID!) { startRun(workflowId: $id) { ... on Run { id } } }`, { id: workflowId });
      runIds.push((started.data!.startRun as { id: string }).id);
    }
    const steps = async () => {
      const all: { nodeId: string; status: string; reason: string | null }[] = [];
      for (const id of runIds) {
        const read = await postGraphql(servers[0]!.url, apiKey, `query ($id: ID!) { run(id: $id) { status steps { nodeId status reason } } }`, { id });
        all.push(...(read.data!.run as { steps: typeof all }).steps);
      }
      return all;
    };
    // Both servers have nodes ready; two requests reach the host and the others wait.
    let seenPending = false;
    for (let answered = 0; answered < 12; ) {
      await turn();
      expect(host.held.length).toBeLessThanOrEqual(2);
      const now = await steps();
      const pending = now.filter((s) => s.nodeId !== 't' && s.status === 'PENDING' && s.reason !== null);
      for (const step of pending) expect(step.reason).toBe('organization limit of 2 running nodes');
      seenPending ||= pending.length > 0;
      if (host.held.length > 0 && (host.held.length === 2 || 12 - answered < 2 || pending.length === 0)) {
        host.held.shift()!();
        answered++;
      }
    }
    expect(seenPending).toBe(true);
    for (const id of runIds) {
      for (let i = 0; ; i++) {
        const read = await postGraphql(servers[0]!.url, apiKey, `query ($id: ID!) { run(id: $id) { status } }`, { id });
        if ((read.data!.run as { status: string }).status === 'SUCCEEDED') break;
        if (i > 500) throw new Error(`run ${id} did not finish`);
        await turn();
      }
    }
    expect(host.arrivals).toBe(12);
    expect(host.maxInFlight).toBe(2);
  });
});
