// Secrets in use, through the API: an http node sends the real value (header, query, path, body) to a
// loopback API that echoes all of it back, also base64- and URL-encoded, and from then on nothing the
// run stores, sends or logs holds the value — not its steps, events, output, error or input, not any
// table (pg_dump on PostgreSQL, every table on PGlite), not a log line. A missing name fails the step
// naming it, and another organization's names do not resolve.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { createWorkflow, runToEnd, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { storedText } from '../helpers/stored-state.js';

/** A request as the echo API received it. */
interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * Answers every request with what it received; `/deny` answers 401 with the headers as text, `/fail/…`
 * 503, and `/leak` answers the secret's value unasked (as a "who am I" endpoint may). It is the
 * server's OTLP receiver too: `/v1/traces` bodies are kept in `traces`.
 */
async function startEchoServer(): Promise<{ url: string; received: Received[]; traces: string[]; server: Server }> {
  const received: Received[] = [];
  const traces: string[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const url = new URL(request.url ?? '/', 'http://echo');
    if (url.pathname === '/v1/traces') {
      traces.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    received.push({ path: url.pathname + url.search, headers: request.headers, body });
    const authorization = request.headers.authorization ?? '';
    if (url.pathname === '/leak') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: secretValue }));
      return;
    }
    if (url.pathname.startsWith('/fail/')) {
      response.writeHead(503).end();
      return;
    }
    if (url.pathname === '/deny') {
      response.writeHead(401, { 'content-type': 'text/plain' }).end(`refused: ${JSON.stringify(request.headers)}`);
      return;
    }
    const echo = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body: body ? JSON.parse(body) : null,
      forms: {
        authorizationBase64: Buffer.from(authorization).toString('base64'),
        basic: `Basic ${Buffer.from(`user:${authorization.replace('Bearer ', '')}`).toString('base64')}`,
        rawQuery: url.search,
      },
    };
    response.writeHead(200, { 'content-type': 'application/json', 'x-echo-authorization': authorization }).end(JSON.stringify(echo));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, traces, server };
}

const secretValue = `tok_${randomBytes(12).toString('hex')}+/ =&?`;
/** A second secret, safe in a url path, where a failure's message names it. */
const pathValue = `path_${randomBytes(12).toString('hex')}`;
/** Every form of the value that must appear nowhere. */
const forms = [
  secretValue,
  encodeURIComponent(secretValue),
  encodeURIComponent(secretValue).replace(/%20/g, '+'),
  Buffer.from(secretValue).toString('base64'),
  Buffer.from(secretValue).toString('base64url'),
  JSON.stringify(secretValue).slice(1, -1),
];

const createSecret = `mutation ($name: String!, $value: String!) { createSecret(name: $name, value: $value) { __typename } }`;
const runDetails = `query ($id: ID!) { run(id: $id) { status error input output secretsUsed steps { nodeId status error input output } } }`;

let t: TestServer;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let client: Client;
let editor: string;
let other: string;
const logged: string[] = [];

function expectNoValue(text: string, where: string): void {
  for (const form of forms) expect(text.includes(form), `${where} holds ${JSON.stringify(form)}`).toBe(false);
}

async function details(runId: string, key = editor) {
  const result = await t.request<{ run: Record<string, unknown> & { secretsUsed: string[]; steps: Record<string, unknown>[] } }, { id: string }>(
    runDetails,
    { id: runId },
    key,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.run;
}

const http = (id: string, params: Record<string, unknown>) => ({ id, type: 'http', params });

interface ExportedSpan {
  name: string;
  attributes: { key: string; value: { stringValue?: string } }[];
  status?: { message?: string };
}

/** The spans named `name` of run `runId` the server exported so far (OTLP/JSON). */
function attemptSpans(runId: string, name: string): ExportedSpan[] {
  return echo.traces
    .flatMap((body) => (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[] }).resourceSpans)
    .flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans))
    .filter((span) => span.name === name && span.attributes.some((each) => each.key === 'braid.run.id' && each.value.stringValue === runId));
}

beforeAll(async () => {
  // Everything the server logs, at its most verbose, and anything written to the console.
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg) ?? String(arg))).join(' ')));
  }
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  // Spans are exported too (to the echo API), every 50 ms.
  vi.stubEnv('OTEL_BSP_SCHEDULE_DELAY', '50');
  echo = await startEchoServer();
  t = await startTestServer({ otlpTracesEndpoint: `${echo.url}/v1/traces` }, { logger: createLogger({ level: 'trace', destination: sink }) });
  const a = await t.createOrganization();
  editor = await t.createKey(a.adminKey, 'EDITOR');
  other = (await t.createOrganization()).adminKey;
  client = t.wsClient(editor);
  for (const [name, value] of [['API_TOKEN', secretValue], ['PATH_TOKEN', pathValue]]) {
    expect((await t.request(createSecret, { name, value }, editor)).data).toEqual({ createSecret: { __typename: 'Secret' } });
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  // The server first: stopping sends its last spans to the echo API.
  await t?.close();
  echo?.server.close();
});

describe('a run using a secret', () => {
  it('sends the real value and stores, answers and logs only [secret:API_TOKEN]', async () => {
    const definition = {
      nodes: [
        { id: 'start', type: 'trigger' },
        http('call', {
          method: 'POST',
          url: `${echo.url}/items/{{ $secrets.API_TOKEN }}?n={{ $input.n }}`,
          headers: { authorization: 'Bearer {{ $secrets.API_TOKEN }}' },
          query: { key: '{{ $secrets.API_TOKEN }}' },
          body: { token: '{{ $secrets.API_TOKEN }}', n: '{{ $input.n }}' },
        }),
        { id: 'shape', type: 'transform', params: { expression: '{ "seen": $input.body.body.token, "forms": $input.body.forms }' } },
        http('deny', { url: `${echo.url}/deny`, headers: { 'x-token': '{{ $secrets.API_TOKEN }}' } }),
      ],
      edges: [
        { source: 'start', target: 'call' },
        { source: 'call', target: 'shape' },
        { source: 'shape', target: 'deny' },
      ],
    };
    // The input holds the value too: it is stored redacted.
    const { runId, events } = await runToEnd(t, editor, client, definition, { n: 7, copy: secretValue });

    // The API got the real value everywhere it was put.
    const [call, deny] = echo.received;
    expect(call!.headers.authorization).toBe(`Bearer ${secretValue}`);
    // In the url it is put as it is (its `?` starts the query); `query` encodes it.
    expect(decodeURI(call!.path).startsWith(`/items/${secretValue.slice(0, secretValue.indexOf('?'))}?`)).toBe(true);
    expect(new URL(call!.path, echo.url).searchParams.get('key')).toBe(secretValue);
    expect(JSON.parse(call!.body)).toEqual({ token: secretValue, n: 7 });
    expect(deny!.headers['x-token']).toBe(secretValue);

    const run = await details(runId);
    expect(run.status).toBe('FAILED');
    expect(run.secretsUsed).toEqual(['API_TOKEN']);
    expect(run.input).toEqual({ n: 7, copy: '[secret:API_TOKEN]' });
    const shape = run.steps.find((step) => step.nodeId === 'shape')!;
    const shaped = shape.output as { seen: string; forms: Record<string, string> };
    expect(shaped.seen).toBe('[secret:API_TOKEN]');
    // Inside longer encoded text ("Bearer …" in base64, a Basic credential, a raw query) too.
    for (const form of Object.values(shaped.forms)) expect(form).toContain('[secret:API_TOKEN]');
    const denied = run.steps.find((step) => step.nodeId === 'deny')!;
    expect(denied.error).toMatch(/responded 401: refused: .*"x-token":"\[secret:API_TOKEN\]"/);
    expect(run.error).toContain('[secret:API_TOKEN]');

    expectNoValue(JSON.stringify(run), 'the run as the API answers it');
    expectNoValue(JSON.stringify(events), 'its events');
    expectNoValue(await storedText(t.database), 'the database');
    // The run's lines were logged (with its failure), none with the value.
    expect(logged.some((line) => line.includes(runId) && line.includes('[secret:API_TOKEN]'))).toBe(true);
    expectNoValue(logged.join('\n'), 'the logs');
  });

  it('redacts what a node reports itself (a retried failure naming the url) and what steps before the first use output', async () => {
    const definition = {
      nodes: [
        { id: 'start', type: 'trigger' },
        http('leak', { url: `${echo.url}/leak` }),
        {
          ...http('call', { url: `${echo.url}/fail/{{ $secrets.PATH_TOKEN }}`, headers: { authorization: 'Bearer {{ $secrets.API_TOKEN }}' } }),
          retry: { maxAttempts: 2, backoff: 'FIXED' as const, initialDelayMs: 10 },
        },
      ],
      edges: [
        { source: 'start', target: 'leak' },
        { source: 'leak', target: 'call' },
      ],
    };
    const { runId, events } = await runToEnd(t, editor, client, definition);
    expect(echo.received.filter((request) => request.path === `/fail/${pathValue}`)).toHaveLength(2);

    const run = await details(runId);
    expect(run.secretsUsed).toEqual(['API_TOKEN', 'PATH_TOKEN']);
    // The value came back before any node read it: the run knew it from its start.
    expect(run.steps.find((step) => step.nodeId === 'leak')!.output).toMatchObject({ body: { token: '[secret:API_TOKEN]' } });
    expect(run.steps.find((step) => step.nodeId === 'call')!.error).toContain('/fail/[secret:PATH_TOKEN] responded 503');
    const retrying = events.find((event) => event.type === 'NODE_RETRYING') as { error?: string } | undefined;
    expect(JSON.stringify(retrying)).toContain('[secret:PATH_TOKEN]');

    // Both attempts' spans are exported, their failure named redacted.
    await vi.waitFor(() => expect(attemptSpans(runId, 'node call')).toHaveLength(2), { timeout: 10_000 });
    expect(attemptSpans(runId, 'node call').map((span) => span.status?.message)).toEqual([expect.stringContaining('[secret:PATH_TOKEN]'), expect.stringContaining('[secret:PATH_TOKEN]')]);

    const everything = [JSON.stringify(run), JSON.stringify(events), await storedText(t.database), logged.join('\n'), echo.traces.join('\n')].join('\n');
    expectNoValue(everything, 'the run, its events, the database, the logs or the spans');
    expect(everything.includes(pathValue), 'something holds the path secret').toBe(false);
  });

  it('fails the step naming a missing secret, and sends nothing', async () => {
    const before = echo.received.length;
    const definition = {
      nodes: [{ id: 'start', type: 'trigger' }, http('call', { url: echo.url, headers: { authorization: 'Bearer {{ $secrets.NOT_THERE }}' } })],
      edges: [{ source: 'start', target: 'call' }],
    };
    const { run } = await runToEnd(t, editor, client, definition);
    expect(run.status).toBe('FAILED');
    expect(run.steps.find((step) => step.nodeId === 'call')!.error).toBe('template in params.headers.authorization: secret "NOT_THERE" does not exist');
    expect(echo.received.length).toBe(before);
  });

  it("does not resolve another organization's secret of the same name", async () => {
    const before = echo.received.length;
    const workflowId = await createWorkflow(t, other, {
      nodes: [{ id: 'start', type: 'trigger' }, http('call', { url: `${echo.url}/?key={{ $secrets.API_TOKEN }}` })],
      edges: [{ source: 'start', target: 'call' }],
    });
    const runId = await startRun(t, other, workflowId);
    const otherClient = t.wsClient(other);
    await watchRun(t, otherClient, runId).done;
    const run = await details(runId, other);
    expect(run.status).toBe('FAILED');
    expect(run.steps.find((step) => step.nodeId === 'call')!.error).toContain('secret "API_TOKEN" does not exist');
    expect(run.secretsUsed).toEqual(['API_TOKEN']);
    expect(echo.received.length).toBe(before);
  });
});
