// Each built-in node type's handler, called directly with a hand-made context; http against a real
// loopback server (the private-network guard and redirect rules have their own suite: ssrf.test.ts). No sleeps: deferreds and the manual clock decide when things happen.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NodeExecutionError, NonRetriableError } from '../../src/engine/errors.js';
import { evaluate } from '../../src/engine/expressions.js';
import { builtinNodeTypes, createNodeRegistry } from '../../src/engine/nodes/index.js';
import type { NodeContext, NodeType } from '../../src/engine/nodes/node-type.js';
import { isPrivateAddress } from '../../src/engine/nodes/private-address.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { createManualClock } from '../helpers/manual-clock.js';

function context(overrides: Partial<NodeContext> = {}): NodeContext {
  const input = overrides.input ?? { status: 200, kind: 'b', count: 2 };
  const runInput = overrides.runInput ?? { hello: 'world' };
  const clock = overrides.clock ?? createManualClock();
  const signal = overrides.signal ?? new AbortController().signal;
  return {
    runId: 'run-1',
    nodeId: 'node',
    attempt: 1,
    input,
    runInput,
    signal,
    clock,
    log: () => undefined,
    evaluate: (source) => evaluate(source, { input, nodes: {}, run: { id: 'run-1', input: runInput } }),
    allowPrivateNetwork: true,
    idempotencyKey: 'run-1:node:0',
    wait: (ms) => clock.sleep(ms, signal),
    redact: (text) => text,
    ...overrides,
  };
}

/** Runs a built-in type with raw params (parsed by its schema, as the engine would). */
function run(type: string, params: unknown, ctx = context()) {
  const nodeType = builtinNodeTypes.get(type)!;
  return nodeType.run(nodeType.params.parse(params), ctx);
}

describe('trigger, merge, transform, fail', () => {
  it("trigger outputs the run's input", async () => {
    expect(await run('trigger', {})).toEqual({ output: { hello: 'world' } });
  });

  it('merge passes its inputs through, with mode ANY by default', async () => {
    expect(builtinNodeTypes.get('merge')!.params.parse({})).toEqual({ mode: 'ANY' });
    const input = { a: 1, b: 2 };
    expect(await run('merge', { mode: 'ALL' }, context({ input }))).toEqual({ output: input });
  });

  it("transform outputs the expression's value, null when it matches nothing", async () => {
    expect(await run('transform', { expression: '{ "double": count * 2 }' })).toEqual({ output: { double: 4 } });
    expect(await run('transform', { expression: '$input.missing' })).toEqual({ output: null });
  });

  it('fail throws a NonRetriableError with its message', async () => {
    await expect(run('fail', { message: 'stop here' })).rejects.toThrow(new NonRetriableError('stop here'));
    await expect(run('fail', {})).rejects.toThrow(NonRetriableError);
    await expect(run('fail', {})).rejects.toThrow('failed');
  });
});

describe('condition and switch', () => {
  it('condition chooses true or false with JSONata truthiness and passes its input on', async () => {
    const ctx = context();
    expect(await run('condition', { expression: 'status = 200' }, ctx)).toEqual({ output: ctx.input, handle: 'true' });
    expect((await run('condition', { expression: 'status = 404' })).handle).toBe('false');
    expect((await run('condition', { expression: '[]' })).handle).toBe('false');
    expect((await run('condition', { expression: '[0, ""]' })).handle).toBe('false');
    expect((await run('condition', { expression: '[0, 1]' })).handle).toBe('true');
    expect((await run('condition', { expression: '{}' })).handle).toBe('false');
    expect((await run('condition', { expression: '$input.missing' })).handle).toBe('false');
    expect((await run('condition', { expression: '"no"' })).handle).toBe('true');
  });

  it('switch chooses the matching case, comparing numbers as text, else default', async () => {
    const ctx = context();
    expect(await run('switch', { expression: 'kind', cases: ['a', 'b'] }, ctx)).toEqual({ output: ctx.input, handle: 'b' });
    expect((await run('switch', { expression: 'count', cases: ['1', '2'] })).handle).toBe('2');
    expect((await run('switch', { expression: 'kind', cases: ['x'] })).handle).toBe('default');
    expect((await run('switch', { expression: 'missing', cases: ['undefined'] })).handle).toBe('default');
  });

  it('switch handles are its cases plus default; cases must be unique and not "default"', () => {
    const switchType = builtinNodeTypes.get('switch')!;
    expect(switchType.handles!({ expression: 'x', cases: ['a', 'b'] })).toEqual(['a', 'b', 'default']);
    expect(switchType.params.safeParse({ expression: 'x', cases: ['a', 'a'] }).success).toBe(false);
    expect(switchType.params.safeParse({ expression: 'x', cases: ['default'] }).success).toBe(false);
    expect(switchType.params.safeParse({ expression: 'x', cases: [] }).success).toBe(false);
  });
});

describe('delay', () => {
  it('waits its ms on the clock, then passes its input on', async () => {
    const clock = createManualClock();
    const ctx = context({ clock });
    let settled = false;
    const done = run('delay', { ms: 1000 }, ctx).then((result) => ((settled = true), result));
    expect(clock.pending()).toBe(1);
    await clock.advance(999);
    await new Promise(setImmediate);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await done).toEqual({ output: ctx.input });
    expect(clock.pending()).toBe(0);
  });

  it('stops waiting when the signal aborts', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const done = run('delay', { ms: 60_000 }, context({ clock, signal: controller.signal }));
    controller.abort(new Error('cancelled'));
    await expect(done).rejects.toThrow('cancelled');
    expect(clock.pending()).toBe(0);
  });

  it('accepts 0 to 24 h only', () => {
    const delay = builtinNodeTypes.get('delay')!;
    expect(delay.params.safeParse({ ms: 86_400_000 }).success).toBe(true);
    expect(delay.params.safeParse({ ms: 86_400_001 }).success).toBe(false);
    expect(delay.params.safeParse({ ms: 1.5 }).success).toBe(false);
  });
});

describe('registry and catalog', () => {
  it('has every built-in type with a description and a JSON-Schema-representable params schema', () => {
    expect([...builtinNodeTypes.keys()]).toEqual(['trigger', 'http', 'condition', 'switch', 'merge', 'delay', 'transform', 'fail']);
    for (const nodeType of builtinNodeTypes.values()) {
      expect(nodeType.description).toMatch(/\w/);
      expect(() => z.toJSONSchema(nodeType.params, { io: 'input' })).not.toThrow();
    }
  });

  it('adds extra types, lets them replace a built-in, and refuses two extras of one name', () => {
    const stub: NodeType = { type: 'http', description: 'stub', params: z.object({}), run: async () => ({ output: 1 }) };
    expect(createNodeRegistry([stub]).get('http')).toBe(stub);
    expect(createNodeRegistry().get('http')).toBe(builtinNodeTypes.get('http'));
    expect(() => createNodeRegistry([stub, stub])).toThrow('node type "http" is registered twice');
  });
});

describe('isPrivateAddress', () => {
  it('refuses loopback, private, link-local, unique-local and unspecified addresses, IPv4-mapped ones too', () => {
    for (const address of ['127.0.0.1', '10.0.0.8', '172.16.5.4', '192.168.1.1', '169.254.169.254', '0.0.0.0', '::', '::1', 'fd12::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:a00:1', '64:ff9b::7f00:1']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
  });
});

describe('http', () => {
  let base = '';
  let hits: string[] = [];
  let arrived: Deferred<void>;
  let closed: Deferred<void>;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://localhost');
    hits.push(url.pathname);
    const params = url.searchParams;
    if (url.pathname === '/hang') {
      res.on('close', () => closed.resolve());
      arrived.resolve();
      return;
    }
    if (url.pathname === '/loop') {
      res.writeHead(307, { location: '/loop' }).end();
      return;
    }
    if (url.pathname === '/redirect') {
      res.writeHead(Number(params.get('code') ?? 302), { location: params.get('to')! }).end();
      return;
    }
    if (url.pathname === '/status') {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (params.has('retryAfter')) headers['retry-after'] = params.get('retryAfter')!;
      res.writeHead(Number(params.get('code')), headers).end(`status ${params.get('code')}`);
      return;
    }
    if (url.pathname === '/text') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words');
      return;
    }
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const echo = { method: req.method, query: Object.fromEntries(params), headers: req.headers, body };
      res.writeHead(200, { 'content-type': url.pathname === '/problem' ? 'application/problem+json' : 'application/json' });
      res.end(JSON.stringify(echo));
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    hits = [];
    arrived = deferred();
    closed = deferred();
  });

  const call = (params: Record<string, unknown>, ctx = context()) => run('http', params, ctx);

  it('outputs status, headers and the body parsed as JSON when the content type is JSON', async () => {
    const { output } = await call({ url: `${base}/echo` });
    expect(output).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' }, body: { method: 'GET' } });
    expect((await call({ url: `${base}/problem` })).output).toMatchObject({ body: { method: 'GET' } });
    expect((await call({ url: `${base}/text` })).output).toMatchObject({ body: 'plain words' });
  });

  it('sends object bodies as JSON, string bodies as they are, and appends the query', async () => {
    const { output } = await call({ method: 'POST', url: `${base}/echo?a=1`, query: { b: 2 }, headers: { 'x-key': 'k' }, body: { id: 7 } });
    expect((output as { body: unknown }).body).toMatchObject({
      method: 'POST',
      query: { a: '1', b: '2' },
      headers: { 'content-type': 'application/json', 'x-key': 'k' },
      body: '{"id":7}',
    });
    const text = await call({ method: 'PUT', url: `${base}/echo`, body: 'raw' });
    expect((text.output as { body: { body: string } }).body.body).toBe('raw');
    await expect(call({ url: `${base}/echo`, body: { id: 7 } })).rejects.toThrow('a GET request cannot have a body');
  });

  it('fails on HTTP errors: 4xx for good, 408/429/5xx retriable, Retry-After in seconds or as a date', async () => {
    const notFound = call({ url: `${base}/status?code=404` });
    await expect(notFound).rejects.toThrow(NonRetriableError);
    await expect(notFound).rejects.toThrow(/^GET http:\/\/127\.0\.0\.1:\d+\/status responded 404: status 404$/);

    const busy = await call({ url: `${base}/status?code=429&retryAfter=7` }).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(NodeExecutionError);
    expect(busy).toMatchObject({ retriable: true, retryAfterMs: 7000 });

    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const at = new Date(now + 30_000).toUTCString();
    const ctx = context({ clock: createManualClock(now) });
    const down = await call({ url: `${base}/status?code=503&retryAfter=${encodeURIComponent(at)}` }, ctx).catch((e: unknown) => e);
    expect(down).toMatchObject({ retriable: true, retryAfterMs: 30_000 });

    const broken = await call({ url: `${base}/status?code=500&retryAfter=9` }).catch((error: unknown) => error);
    expect(broken).toMatchObject({ retriable: true, retryAfterMs: undefined });
    expect(await call({ url: `${base}/status?code=500`, failOnHttpError: false })).toMatchObject({ output: { status: 500 } });
  });

  it('closes the request when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    const pending = call({ url: `${base}/hang` }, context({ signal: controller.signal }));
    await arrived.promise;
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await closed.promise;
  });

  it('times a request out on the clock and closes it', async () => {
    const clock = createManualClock();
    const outcome = call({ url: `${base}/hang`, timeoutMs: 1000 }, context({ clock })).catch((e: unknown) => e);
    await arrived.promise;
    await clock.advance(1000);
    const error = await outcome;
    expect(error).toBeInstanceOf(NodeExecutionError);
    expect(error).toMatchObject({ retriable: true, message: expect.stringMatching(/request timed out after 1000 ms$/) });
    await closed.promise;
  });

  it('refuses private addresses when they are not allowed, sending nothing', async () => {
    for (const url of [`${base}/echo`, base.replace('127.0.0.1', 'localhost') + '/echo', base.replace('127.0.0.1', '[::ffff:127.0.0.1]')]) {
      const error = await call({ url }, context({ allowPrivateNetwork: false })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NonRetriableError);
      expect((error as Error).message).toMatch(/^refused http:\/\/(127\.0\.0\.1|localhost|\[::ffff:7f00:1\]):\d+: .*private address/);
    }
    expect(hits).toEqual([]);
  });

  it('follows at most 5 redirects, and turns a POST into a GET on 303', async () => {
    const loop = `${base}/redirect?to=${encodeURIComponent('/redirect?to=/echo')}`;
    expect((await call({ url: loop })).output).toMatchObject({ body: { method: 'GET' } });
    hits = [];
    await expect(call({ url: `${base}/loop` })).rejects.toThrow('more than 5 redirects (last to /loop)');
    expect(hits).toHaveLength(6);
    const seeOther = await call({ method: 'POST', url: `${base}/redirect?code=303&to=/echo`, body: { a: 1 } });
    expect(seeOther.output).toMatchObject({ body: { method: 'GET', body: '' } });
  });

  it('only speaks http and https', async () => {
    await expect(call({ url: 'file:///etc/passwd' })).rejects.toThrow('only http: and https: URLs are allowed, not file:');
    await expect(call({ url: 'not a url' })).rejects.toThrow('invalid URL "not a url"');
    await expect(call({ url: `http://user:secret@127.0.0.1:1/` })).rejects.toThrow('credentials in the URL are not supported');
  });
});
