// Limits per API key end to end (RATE_LIMIT_PER_SECOND, MAX_SUBSCRIPTIONS_PER_KEY, MAX_SOCKETS_PER_KEY)
// over HTTP, SSE and graphql-ws, failed authentication slowed per address, and on PostgreSQL one budget
// shared by two servers. The rate window is widened to 60 s so that counts never depend on timing.
import { sql } from 'drizzle-orm';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { openDb, type Database } from '../../src/db/client.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createWorkflow, startRun } from '../helpers/operations.js';
import { adminToken, startTestServer, type Feed, type TestServer } from '../helpers/server.js';
import { quietLogger } from '../helpers/quiet-logger.js';

const NodeTypes = 'query NodeTypes { nodeTypes { type } }';
const Workflows = 'query Workflows { workflows(first: 50) { edges { node { id name } } } }';
const CreateWorkflow = `mutation CreateWorkflow($name: String!) {
  createWorkflow(input: { name: $name, definition: { nodes: [{ id: "t", type: "trigger" }], edges: [] } }) { __typename }
}`;
const RunUpdates = 'subscription RunUpdates { runUpdates { id status } }';
const wide = { rateLimitWindowMs: 60_000 };

/** Raw HTTP: status, Retry-After, the error code and whether data came back. */
async function post(url: string, key: string | null, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
  const code = body.errors?.[0]?.extensions?.code;
  return {
    status: response.status,
    /** Answered without any error. */
    ok: response.status === 200 && code === undefined && body.data != null,
    retryAfter: response.headers.get('retry-after'),
    code,
    data: body.data ?? null,
  };
}

/** An SSE subscription: its status (the slot is held once the 200 headers arrive) and how to leave. */
async function sse(url: string, key: string, query = RunUpdates) {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
    signal: abort.signal,
  });
  const text = response.status === 200 ? '' : await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    text,
    close: () => {
      abort.abort();
      return response.body?.cancel().catch(() => {});
    },
  };
}

type Outcome =
  | { kind: 'result'; value: { data?: unknown; errors?: readonly { extensions?: Record<string, unknown> }[] } }
  | { kind: 'error'; errors: { message: string; extensions?: Record<string, unknown> }[] }
  | { kind: 'closed'; code: number; reason: string };

/** One operation over graphql-ws: its last result, or the `error` message, or the socket's close. */
function operate(client: Client, query: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let last: Outcome | undefined;
    client.subscribe(
      { query },
      {
        next: (value) => (last = { kind: 'result', value: value as Extract<Outcome, { kind: 'result' }>['value'] }),
        error: (error) => {
          if (Array.isArray(error)) resolve({ kind: 'error', errors: error });
          else {
            const { code, reason } = error as { code: number; reason: string };
            resolve({ kind: 'closed', code, reason });
          }
        },
        complete: () => resolve(last ?? { kind: 'result', value: {} }),
      },
    );
  });
}

/** The operation was answered with data and no error. */
const answered = (o: Outcome) => o.kind === 'result' && o.value.data != null && o.value.errors === undefined;

/**
 * Waits until every feed is live — each has an update of a run started for the purpose — so that a probe
 * for a free slot can no longer take one from a subscription still starting.
 */
async function live(t: TestServer, adminKey: string, feeds: Feed<unknown>[]): Promise<void> {
  const workflowId = await createWorkflow(t, adminKey, { nodes: [{ id: 't', type: 'trigger' }], edges: [] });
  // A subscription still on its way when a run ended saw none of its updates: start runs until each saw one.
  const seen = Promise.all(feeds.map((feed) => feed.until(() => true)));
  let allSeen = false;
  void seen.then(() => (allSeen = true));
  while (!allSeen) {
    await startRun(t, adminKey, workflowId);
    await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
}

/** Retries `attempt` until it returns true (a release happens after the client's message is handled). */
async function eventually(attempt: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await attempt()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

/** A graphql-ws client that connects at once and stays connected (the helper's clients are lazy). */
const sockets: Client[] = [];
function socketClient(t: TestServer, key: string): Client {
  const client = createClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  sockets.push(client);
  return client;
}
afterAll(() => Promise.all(sockets.map((client) => client.dispose())));

const closedCode = (client: Client) => new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));

describe('RATE_LIMIT_PER_SECOND', () => {
  let t: TestServer;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer({ rateLimitPerSecond: 5 }, wide);
    admin = (await t.createOrganization()).adminKey; // two requests of the admin token: not limited
  });
  afterAll(() => t?.close());

  it('of 20 HTTP requests sent at once, exactly 5 pass; the rest get 429 RATE_LIMITED with Retry-After', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    const results = await Promise.all(Array.from({ length: 20 }, () => post(t.url, key, NodeTypes)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(15);
    for (const r of refused) {
      expect(r.code).toBe('RATE_LIMITED');
      expect(r.data).toBeNull();
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(60);
    }
  });

  it('budgets are per key: another key of the same organization has its own, and a refused mutation writes nothing', async () => {
    const spent = await t.createKey(admin, 'EDITOR');
    const fresh = await t.createKey(admin, 'EDITOR');
    for (let i = 0; i < 5; i++) expect((await post(t.url, spent, NodeTypes)).ok).toBe(true);
    const refused = await post(t.url, spent, CreateWorkflow, { name: 'refused' });
    expect([refused.status, refused.code]).toEqual([429, 'RATE_LIMITED']);
    const listed = await Promise.all(Array.from({ length: 5 }, () => post(t.url, fresh, Workflows)));
    expect(listed.map((r) => r.ok)).toEqual([true, true, true, true, true]);
    const names = (listed[0]!.data as { workflows: { edges: { node: { name: string } }[] } }).workflows.edges.map((e) => e.node.name);
    expect(names).not.toContain('refused');
    expect((await post(t.url, fresh, NodeTypes)).status).toBe(429);
  });

  it('graphql-ws: past the budget an operation gets an `error` message RATE_LIMITED and the socket stays open', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    const client = socketClient(t, key);
    let closed = false;
    client.on('closed', () => (closed = true));
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => operate(client, NodeTypes)));
    expect(outcomes.filter(answered)).toHaveLength(5);
    const refused = outcomes.filter((o) => o.kind === 'error');
    expect(refused).toHaveLength(3);
    for (const o of refused) expect(o.kind === 'error' && o.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    // The same socket still answers (with the same refusal: the window is 60 s).
    const again = await operate(client, NodeTypes);
    expect(again.kind === 'error' && again.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(closed).toBe(false);
    // HTTP and graphql-ws draw on one budget.
    expect((await post(t.url, key, NodeTypes)).status).toBe(429);
  });

  it('an SSE subscription counts and is refused with 429 RATE_LIMITED past the budget', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    for (let i = 0; i < 4; i++) expect((await post(t.url, key, NodeTypes)).ok).toBe(true);
    const fifth = await sse(t.url, key);
    expect(fifth.status).toBe(200);
    const sixth = await sse(t.url, key);
    await fifth.close();
    expect(sixth.status).toBe(429);
    expect(Number(sixth.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(sixth.text).toContain('RATE_LIMITED');
  });

  it('the budget comes back when its window ends', async () => {
    const short = await startTestServer({ rateLimitPerSecond: 2 }, { rateLimitWindowMs: 200 });
    try {
      const key = (await short.createOrganization()).adminKey;
      let refused: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 50 && !refused; i++) {
        const result = await post(short.url, key, NodeTypes);
        if (result.status === 429) refused = result;
      }
      expect(refused?.retryAfter).toBe('1');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await post(short.url, key, NodeTypes)).ok).toBe(true);
    } finally {
      await short.close();
    }
  });
});

describe('MAX_SUBSCRIPTIONS_PER_KEY', () => {
  let t: TestServer;
  let admin: string;
  const open: { close: () => unknown }[] = [];

  beforeAll(async () => {
    t = await startTestServer({ rateLimitPerSecond: 0, maxSubscriptionsPerKey: 3 });
    admin = (await t.createOrganization()).adminKey;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((stream) => stream.close()));
  });
  afterAll(() => t?.close());

  it('counts SSE and graphql-ws together; the 4th is refused, and closing one frees its slot', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    for (let i = 0; i < 3; i++) {
      const stream = await sse(t.url, key);
      open.push(stream);
      expect(stream.status).toBe(200);
    }
    const client = t.wsClient(key);
    const overWs = await operate(client, RunUpdates);
    expect(overWs.kind === 'error' && overWs.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    const overSse = await sse(t.url, key);
    expect([overSse.status, overSse.text.includes('RATE_LIMITED')]).toEqual([429, true]);
    // Another key is not affected.
    const other = await sse(t.url, await t.createKey(admin, 'VIEWER'));
    open.push(other);
    expect(other.status).toBe(200);

    // An SSE client leaves: its slot is free again.
    await open.shift()!.close();
    let reopened: Awaited<ReturnType<typeof sse>> | undefined;
    await eventually(async () => {
      const attempt = await sse(t.url, key);
      if (attempt.status === 200) reopened = attempt;
      return attempt.status === 200;
    }, 'an SSE subscription after one was closed');
    open.push(reopened!);
  });

  it('a graphql-ws subscription holds a slot until the client completes it', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    for (let i = 0; i < 2; i++) open.push(await sse(t.url, key));
    const client = t.wsClient(key);
    const feed = t.subscribe(client, RunUpdates);
    await live(t, admin, [feed]);
    expect((await sse(t.url, key)).status).toBe(429);
    feed.dispose();
    await eventually(async () => {
      const attempt = await sse(t.url, key);
      if (attempt.status === 200) open.push(attempt);
      return attempt.status === 200;
    }, 'a slot after the graphql-ws subscription completed');
  });

  it('a subscription that fails to start (an unknown run) holds no slot, over SSE or graphql-ws', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    const unknownRun = 'subscription { runEvents(runId: "run_unknown") { seq } }';
    for (let i = 0; i < 4; i++) {
      const failed = await sse(t.url, key, unknownRun);
      expect(failed.status).toBe(200);
      await failed.close();
      const overWs = await operate(t.wsClient(key), unknownRun);
      expect(overWs.kind === 'result' && overWs.value.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    for (let i = 0; i < 3; i++) {
      const stream = await sse(t.url, key);
      open.push(stream);
      expect(stream.status).toBe(200);
    }
    expect((await sse(t.url, key)).status).toBe(429);
  });

  it('a socket that closes frees the slots of its subscriptions', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    const client = t.wsClient(key);
    const feeds = [0, 1, 2].map(() => t.subscribe(client, RunUpdates));
    await live(t, admin, feeds);
    expect((await sse(t.url, key)).status).toBe(429);
    client.terminate();
    await eventually(async () => {
      const attempt = await sse(t.url, key);
      if (attempt.status === 200) open.push(attempt);
      return attempt.status === 200;
    }, 'a slot after the socket closed');
  });
});

describe('MAX_SOCKETS_PER_KEY', () => {
  let t: TestServer;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer({ rateLimitPerSecond: 0, maxSocketsPerKey: 2 });
    admin = (await t.createOrganization()).adminKey;
  });
  afterAll(() => t?.close());

  it('the 3rd socket of a key is closed with 4429; another key is not affected; closing one frees a slot', async () => {
    const key = await t.createKey(admin, 'VIEWER');
    const first = socketClient(t, key);
    const second = socketClient(t, key);
    for (const client of [first, second]) expect(answered(await operate(client, NodeTypes))).toBe(true);
    const third = socketClient(t, key);
    const refused = await operate(third, NodeTypes);
    expect(refused).toMatchObject({ kind: 'closed', code: 4429 });
    expect(answered(await operate(t.wsClient(await t.createKey(admin, 'VIEWER')), NodeTypes))).toBe(true);
    // The first two are still open and answering.
    for (const client of [first, second]) expect(answered(await operate(client, NodeTypes))).toBe(true);

    const gone = closedCode(first);
    await first.dispose();
    await gone;
    await eventually(async () => answered(await operate(socketClient(t, key), NodeTypes)), 'a socket after one closed');
  });
});

describe('0 means no limit', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ rateLimitPerSecond: 0, maxSubscriptionsPerKey: 0, maxSocketsPerKey: 0 }, wide);
  });
  afterAll(() => t?.close());

  it('1,001 requests (more than the default 1,000 in one window), 4 sockets and 4 subscriptions of one key all pass', async () => {
    const key = (await t.createOrganization()).adminKey;
    let passed = 0;
    for (let batch = 0; batch < 11; batch++) {
      const size = batch < 10 ? 100 : 1;
      const results = await Promise.all(Array.from({ length: size }, () => post(t.url, key, NodeTypes)));
      passed += results.filter((r) => r.ok).length;
    }
    expect(passed).toBe(1001);
    const clients = Array.from({ length: 4 }, () => socketClient(t, key));
    for (const client of clients) expect(answered(await operate(client, NodeTypes))).toBe(true);
    const streams = await Promise.all(Array.from({ length: 4 }, () => sse(t.url, key)));
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    await Promise.all(streams.map((s) => s.close()));
  });
});

describe('failed authentication', () => {
  let t: TestServer;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer();
    admin = (await t.createOrganization()).adminKey;
  });
  afterAll(() => t?.close());

  it('is refused with 429 RATE_LIMITED from an address past 20 failures, while valid keys from it still work', async () => {
    const unused = await t.createKey(admin, 'VIEWER'); // never used yet: not in any cache
    const bad = await Promise.all(Array.from({ length: 20 }, (_, i) => post(t.url, `brd_wrong-${i}`, NodeTypes)));
    expect(bad.map((r) => r.code)).toEqual(Array(20).fill('UNAUTHENTICATED'));
    const slowed = await post(t.url, 'brd_wrong-again', NodeTypes);
    expect([slowed.status, slowed.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(slowed.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(slowed.retryAfter)).toBeLessThanOrEqual(60);
    expect((await post(t.url, 'not even bearer', NodeTypes)).status).toBe(429);

    // Valid keys: the one used before and one never used, over HTTP and graphql-ws.
    for (const key of [admin, unused]) {
      expect((await post(t.url, key, NodeTypes)).ok).toBe(true);
    }
    expect(answered(await operate(t.wsClient(unused), NodeTypes))).toBe(true);
    // A bad key over graphql-ws is refused at connection time; no key at all is not a failure.
    expect(await operate(t.wsClient('brd_wrong-ws'), NodeTypes)).toMatchObject({ kind: 'closed', code: 4429 });
    expect((await post(t.url, null, NodeTypes)).code).toBe('UNAUTHENTICATED');
    // The admin token is not checked from a throttled address (it may be short enough to guess).
    const createOrg = await post(t.url, adminToken, 'mutation { createOrganization(name: "x") { __typename } }');
    expect([createOrg.status, createOrg.code]).toEqual([429, 'RATE_LIMITED']);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('on PostgreSQL, two servers on one database', () => {
  let database: TestDatabase;
  let second: Database;
  let servers: { server: BraidServer; url: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    second = await openDb({ databaseUrl: database.url!, dataDir: 'memory://', maxConnections: 4 });
  });
  afterEach(async () => {
    await Promise.all(servers.map(({ server }) => server.stop()));
    servers = [];
  });
  afterAll(async () => {
    await second?.close();
    await database?.close();
  });

  let pairs = 0;
  async function startPair(limit: number) {
    const config = loadConfig({ ADMIN_TOKEN: adminToken, PORT: '0', RATE_LIMIT_PER_SECOND: String(limit) });
    for (const db of [database, second]) {
      const server = buildServer({ config, database: db, logger: quietLogger(), ...wide });
      const { url } = await server.start(0, '127.0.0.1');
      servers.push({ server, url });
    }
    const created = await fetch(servers[0]!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query: `mutation { createOrganization(name: "pair-${++pairs}") { ... on CreateOrganizationPayload { apiKey } } }` }),
    });
    const key = ((await created.json()) as { data?: { createOrganization?: { apiKey?: string } } }).data?.createOrganization?.apiKey;
    if (!key) throw new Error('createOrganization gave no key');
    return key;
  }

  it('share the per-second budget: of 20 requests spread over both, exactly 5 pass', async () => {
    const key = await startPair(5);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(servers[i % 2]!.url, key, NodeTypes)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429 && r.code === 'RATE_LIMITED')).toHaveLength(15);
    // Both servers refuse now.
    for (const { url } of servers) expect((await post(url, key, NodeTypes)).status).toBe(429);
  });

  it('with leases of several points (limit 100: 5 a lease), never more than the limit and at most 2 × 4 fewer', async () => {
    const key = await startPair(100);
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => post(servers[i % 2]!.url, key, NodeTypes)));
    const passed = results.filter((r) => r.ok).length;
    expect(passed).toBeLessThanOrEqual(100);
    expect(passed).toBeGreaterThanOrEqual(92);
    expect(results.filter((r) => r.status === 429)).toHaveLength(150 - passed);
  });

  it('with rate_limits out of reach, each server keeps the limit on its own', async () => {
    const key = await startPair(5);
    await database.rows(sql`alter table rate_limits rename to rate_limits_away`);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => post(servers[0]!.url, key, NodeTypes)));
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(results.filter((r) => r.status === 429 && r.code === 'RATE_LIMITED')).toHaveLength(15);
    } finally {
      await database.rows(sql`alter table rate_limits_away rename to rate_limits`);
    }
  });

  it('a lease one server drew but did not spend is lost to the other for the window (the stated tolerance)', async () => {
    const key = await startPair(100);
    // Server 0 draws a lease of 5 for one request and keeps the other 4; server 1 gets what is left.
    expect((await post(servers[0]!.url, key, NodeTypes)).ok).toBe(true);
    const results = await Promise.all(Array.from({ length: 150 }, () => post(servers[1]!.url, key, NodeTypes)));
    expect(results.filter((r) => r.ok)).toHaveLength(95);
    expect((await post(servers[0]!.url, key, NodeTypes)).ok).toBe(true); // one of its 4
  });
});
