// Tracing end to end: a server with a traces endpoint exports, over OTLP/HTTP to a receiver in this
// test, a span per run and one per node attempt whose parent is the run's span; the http node's
// request carries the W3C traceparent of its attempt's span. Without an endpoint nothing is sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservedServer, type ObservedServer } from '../helpers/observed-server.js';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A loopback HTTP server recording what it is sent; answers 200 `{}`. */
async function listen(onRequest: (path: string, headers: Record<string, string | string[] | undefined>, body: string) => void) {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      onRequest(req.url ?? '/', req.headers, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** OTLP/JSON ids are hex; some encoders write base64: both come back as hex. */
const hex = (id: string | undefined) => (id === undefined || id === '' || /^[0-9a-f]+$/.test(id) ? id || undefined : Buffer.from(id, 'base64').toString('hex'));

const spans: ReceivedSpan[] = [];
const traceparents: (string | undefined)[] = [];
let receiver: Awaited<ReturnType<typeof listen>>;
let target: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  receiver = await listen((path, headers, body) => {
    expect(path).toBe('/v1/traces');
    expect(headers['content-type']).toMatch(/json/);
    const payload = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: ReceivedSpan[] }[] }[] };
    for (const resource of payload.resourceSpans) {
      for (const scope of resource.scopeSpans) {
        for (const span of scope.spans) spans.push({ ...span, traceId: hex(span.traceId)!, spanId: hex(span.spanId)!, parentSpanId: hex(span.parentSpanId) });
      }
    }
  });
  target = await listen((_path, headers) => traceparents.push(headers.traceparent as string | undefined));
});

afterAll(async () => {
  receiver?.server.close();
  target?.server.close();
});

const attribute = (span: ReceivedSpan, key: string) => {
  const value = span.attributes.find((each) => each.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};

const definition = () => ({
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'call', type: 'http', params: { url: `${target.url}/hello` } },
    { id: 'shape', type: 'transform', params: { expression: '$input.n' } },
  ],
  edges: [
    { source: 'start', target: 'call' },
    { source: 'start', target: 'shape' },
  ],
});

describe('tracing', () => {
  it('exports a span per run and per node attempt, children of the run, and sends traceparent', async () => {
    let t: ObservedServer | undefined = await startObservedServer({ otlpTracesEndpoint: `${receiver.url}/v1/traces` });
    let runId: string;
    try {
      const key = await t.createKey();
      runId = await t.startRun(key, await t.createWorkflow(key, definition()), { n: 1 });
      expect(await t.finished(runId)).toMatchObject({ status: 'SUCCEEDED' });
    } finally {
      // Stopping sends the spans still batched.
      await t.close();
      t = undefined;
    }
    const ofRun = spans.filter((span) => attribute(span, 'braid.run.id') === runId);
    const run = ofRun.find((span) => span.name === 'run');
    expect(run).toBeDefined();
    expect(run!.parentSpanId).toBeUndefined();
    expect(attribute(run!, 'braid.run.status')).toBe('SUCCEEDED');
    const nodes = ofRun.filter((span) => span.name.startsWith('node '));
    expect(nodes.map((span) => span.name).sort()).toEqual(['node call', 'node shape', 'node start']);
    for (const node of nodes) {
      expect(node.traceId).toBe(run!.traceId);
      expect(node.parentSpanId).toBe(run!.spanId);
      expect(attribute(node, 'braid.node.attempt')).toBe(1);
      expect(attribute(node, 'braid.node.status')).toBe('SUCCEEDED');
    }
    const call = nodes.find((span) => span.name === 'node call')!;
    expect(attribute(call, 'braid.node.type')).toBe('http');
    expect(traceparents).toEqual([`00-${call.traceId}-${call.spanId}-01`]);
  }, 120_000);

  it('sends no span and no traceparent without an endpoint', async () => {
    const before = spans.length;
    const t = await startObservedServer();
    try {
      const key = await t.createKey();
      const runId = await t.startRun(key, await t.createWorkflow(key, definition()), { n: 2 });
      expect(await t.finished(runId)).toMatchObject({ status: 'SUCCEEDED' });
    } finally {
      await t.close();
    }
    expect(traceparents).toHaveLength(2);
    expect(traceparents[1]).toBeUndefined();
    expect(spans.length).toBe(before);
  }, 120_000);
});
