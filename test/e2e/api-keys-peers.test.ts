// A key revoked on one server is refused by another sharing the PostgreSQL within 1 s (CONTRACT §6), its
// cached entry there forgotten and its sockets and SSE streams there ended. Only with DATABASE_URL.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDb, type Database } from '../../src/db/client.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { quietLogger } from '../helpers/quiet-logger.js';

const organizationQuery = '{ organization { id } }';

describe.skipIf(!process.env.DATABASE_URL)('revocation across servers on one PostgreSQL', () => {
  let a: TestServer;
  let bDatabase: Database;
  let b: BraidServer;
  let bUrl: string;

  beforeAll(async () => {
    a = await startTestServer();
    // Server B: its own connections (and its own LISTEN session) to the same database.
    bDatabase = await openDb({ databaseUrl: a.database.url!, dataDir: 'memory://', maxConnections: 4 });
    b = buildServer({ config: a.config, database: bDatabase, logger: quietLogger() });
    const started = await b.start(0, '127.0.0.1');
    bUrl = `http://127.0.0.1:${started.port}/graphql`;
  });

  afterAll(async () => {
    await b?.stop();
    await bDatabase?.close();
    await a?.close();
  });

  async function onB(key: string): Promise<{ data?: { organization: { id: string } } | null; errors?: { extensions?: { code?: string } }[] }> {
    const response = await fetch(bUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: organizationQuery }),
    });
    return (await response.json()) as never;
  }

  it('is refused by the other server within 1 s, which closes its sockets (4403) and SSE streams', async () => {
    const admin = await a.createOrganization();
    const created = await a.request(
      'mutation { createApiKey(name: "doomed", role: VIEWER) { ... on CreateApiKeyPayload { apiKey key { id } } } }',
      {},
      admin.adminKey,
    );
    const { apiKey: secret, key } = (created.data as { createApiKey: { apiKey: string; key: { id: string } } }).createApiKey;
    const bystander = await a.createKey(admin.adminKey, 'VIEWER');

    // B knows the key (cached) and holds a socket and an SSE stream opened with it.
    expect((await onB(secret)).data?.organization.id).toBe(admin.id);
    let closedWith!: (code: number) => void;
    const closed = new Promise<number>((resolve) => (closedWith = resolve));
    let connected!: () => void;
    const ready = new Promise<void>((resolve) => (connected = resolve));
    const client = createClient({
      url: bUrl.replace('http:', 'ws:'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${secret}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {}, // awaited through `closed`
      on: { connected: () => connected(), closed: (event) => closedWith((event as { code: number }).code) },
    });
    await ready;
    const stream = await fetch(bUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: 'subscription { runUpdates { id } }' }),
    });
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = stream.body!.getReader();
    const streamEnded = (async () => {
      for (;;) {
        const read = await reader.read().catch(() => ({ done: true }));
        if (read.done) return Date.now();
      }
    })();

    const revokedAt = Date.now();
    const revoked = await a.request(`mutation { revokeApiKey(id: "${key.id}") { __typename } }`, {}, admin.adminKey);
    expect(revoked.data).toEqual({ revokeApiKey: { __typename: 'ApiKey' } });

    // Polled with a deadline: B must refuse it within 1 s of the revocation.
    let refusedAt: number | undefined;
    while (refusedAt === undefined) {
      const answer = await onB(secret);
      if (answer.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') refusedAt = Date.now();
      else if (Date.now() - revokedAt > 1000) throw new Error(`B still accepts the revoked key after 1 s: ${JSON.stringify(answer)}`);
    }
    expect(refusedAt - revokedAt).toBeLessThanOrEqual(1000);
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 1000 - (Date.now() - revokedAt)).unref());
    expect(await Promise.race([closed, deadline])).toBe(4403);
    expect(await Promise.race([streamEnded, deadline])).not.toBe('late');

    // Other keys go on, on both.
    expect((await onB(bystander)).data?.organization.id).toBe(admin.id);
    await client.dispose();
  });
});
