// Where requests may come from (CONTRACT §6): dev mode listens on 127.0.0.1 and answers only requests
// addressed to a loopback name (HTTP and WebSocket upgrades), so a rebound DNS name gets neither GraphiQL
// nor its pre-filled key; browsers are let through CORS and onto sockets only from the server's own
// origin and CORS_ORIGINS.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { isLoopbackHost } from '../../src/origin-policy.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { quietLogger } from '../helpers/quiet-logger.js';

const appOrigin = 'https://app.example';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/graphql', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const graphqlPost = (headers: Record<string, string>, key?: string) => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...headers,
  },
  body: JSON.stringify({ query: '{ organization { name } }' }),
});

/** Opens a WebSocket with these headers: 'open', or the HTTP status it was refused with. */
function upgrade(port: number, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['localhost:4000', true],
    ['LOCALHOST:4000', true],
    ['localhost.:4000', true],
    ['app.localhost:4000', true],
    ['127.0.0.1', true],
    ['127.0.0.1:4000', true],
    ['127.255.3.9:1', true],
    ['[::1]:4000', true],
    ['[::1]', true],
    ['evil.example', false],
    ['evil.example:4000', false],
    ['localhost.evil.example', false],
    ['evillocalhost', false],
    ['127.0.0.1.evil.example', false],
    ['10.0.0.1:4000', false],
    ['0.0.0.0:4000', false],
    ['[::2]:4000', false],
    ['evil@localhost', false],
    ['localhost/x', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('dev mode (no ADMIN_TOKEN)', () => {
  let database: TestDatabase;
  let server: BraidServer;
  let port: number;
  let devKey: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = { ...loadConfig({ PORT: '0', DATA_DIR: 'memory://' }), corsOrigins: [appOrigin] };
    expect(config.host).toBe('127.0.0.1');
    server = buildServer({ config, database, logger: quietLogger() });
    const started = await server.start(0);
    expect(started.url).toBe(`http://127.0.0.1:${started.port}/graphql`);
    port = started.port;
    devKey = started.devApiKey!;
    expect(devKey).toMatch(/^brd_/);
  });

  afterAll(async () => {
    await server?.stop();
    await database?.close();
  });

  it('answers requests addressed to a loopback name', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `braid.localhost:${port}`]) {
      const answer = await send(port, graphqlPost({ host }, devKey));
      expect(answer.status, host).toBe(200);
      expect(JSON.parse(answer.body).data.organization.name).toBe('default');
    }
  });

  it('refuses any other Host (a rebound DNS name), GraphiQL and its key included', async () => {
    const api = await send(port, graphqlPost({ host: 'evil.example' }, devKey));
    expect(api.status).toBe(403);
    expect(JSON.parse(api.body).errors[0].message).toMatch(/dev mode answers only .*loopback.*Host: evil\.example/);
    const page = await send(port, { headers: { host: `evil.example:${port}`, accept: 'text/html' } });
    expect(page.status).toBe(403);
    expect(page.body).not.toContain(devKey);
    expect((await send(port, { path: '/health', headers: { host: '10.0.0.5' } })).status).toBe(403);
    const loopbackPage = await send(port, { headers: { host: `localhost:${port}`, accept: 'text/html' } });
    expect(loopbackPage.status).toBe(200);
    expect(loopbackPage.body).toContain(`Bearer ${devKey}`);
  });

  it('refuses WebSocket upgrades addressed to any other Host', async () => {
    expect(await upgrade(port, { host: 'evil.example' })).toBe(403);
    expect(await upgrade(port, { host: `localhost:${port}` })).toBe('open');
  });

  it('shows GraphiQL (with the key) to no page of another origin', async () => {
    const page = await send(port, { headers: { host: `localhost:${port}`, accept: 'text/html', origin: 'https://evil.example' } });
    expect(page.status).toBe(403);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    expect(page.body).not.toContain(devKey);
  });
});

describe('CORS and socket origins', () => {
  let t: TestServer;
  let port: number;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer({ corsOrigins: [appOrigin] });
    port = Number(new URL(t.url).port);
    key = (await t.createOrganization()).adminKey;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers any Host when ADMIN_TOKEN is set', async () => {
    const answer = await send(port, graphqlPost({ host: 'evil.example' }, key));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data.organization.name).toBeTruthy();
    expect(await upgrade(port, { host: 'braid.example' })).toBe('open');
  });

  it('lets no other origin read an answer', async () => {
    const answer = await send(port, graphqlPost({ origin: 'https://evil.example' }, key));
    expect(answer.status).toBe(403);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    expect(answer.body).toMatch(/origin https:\/\/evil\.example is not allowed/);
    const preflight = await send(port, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    // Its own origin under another name is another origin.
    const lookalike = await send(port, graphqlPost({ origin: `http://127.0.0.1:${port + 1}` }, key));
    expect(lookalike.headers['access-control-allow-origin']).toBeUndefined();
    expect((await send(port, graphqlPost({ origin: 'null' }, key))).headers['access-control-allow-origin']).toBeUndefined();
  });

  it("lets the server's own origin and CORS_ORIGINS in", async () => {
    for (const origin of [`http://127.0.0.1:${port}`, appOrigin]) {
      const answer = await send(port, graphqlPost({ origin }, key));
      expect(answer.status, origin).toBe(200);
      expect(answer.headers['access-control-allow-origin'], origin).toBe(origin);
      expect(answer.headers.vary, origin).toMatch(/Origin/i);
      expect(JSON.parse(answer.body).data.organization.name).toBeTruthy();
      const preflight = await send(port, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(preflight.status, origin).toBe(204);
      expect(preflight.headers['access-control-allow-origin'], origin).toBe(origin);
      expect(preflight.headers['access-control-allow-headers'], origin).toMatch(/authorization/i);
    }
  });

  it('refuses WebSocket upgrades from another origin', async () => {
    expect(await upgrade(port, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(port, { origin: appOrigin })).toBe('open');
    expect(await upgrade(port, { origin: `http://127.0.0.1:${port}` })).toBe('open');
    expect(await upgrade(port, {})).toBe('open');
  });
});
