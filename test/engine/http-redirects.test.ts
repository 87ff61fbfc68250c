// What the http node sends after a redirect, as the receiving server sees it: credentials (and the
// user's own headers) and bodies do not follow to another origin; same-origin hops keep them; 303, and
// 301/302 after a POST, become a GET without body. Two loopback origins, A and B (different ports).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Headers } from 'undici';
import { createHttpNodeType, type LookupAll } from '../../src/engine/nodes/http.js';
import { redirectRequest } from '../../src/engine/nodes/http-redirects.js';
import { startRecordingServer, startSsrfServers, type Received } from '../helpers/ssrf-servers.js';
import { nodeContext } from '../helpers/node-context.js';

type Recorder = Awaited<ReturnType<typeof startRecordingServer>>;

const names: Record<string, string> = { 'a.test': '127.0.0.1', 'other-name.test': '127.0.0.1' };
const lookup: LookupAll = async (hostname) => {
  const address = names[hostname];
  if (!address) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  return [{ address }];
};
const http = createHttpNodeType({ lookup });


const credentials = {
  Authorization: 'Bearer secret-token',
  Cookie: 'session=abc',
  'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==',
  'X-Api-Key': 'key-123',
  'X-Tenant': 'acme',
};
const credentialNames = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key', 'x-tenant'];

let a: Recorder;
let b: Recorder;
beforeAll(async () => {
  [a, b] = await Promise.all([startRecordingServer(), startRecordingServer()]);
});
afterAll(() => Promise.all([a.close(), b.close()]));
beforeEach(() => {
  a.received.length = 0;
  b.received.length = 0;
});

const redirectVia = (server: { origin: string }, to: string, code: number) =>
  `${server.origin}/redirect?code=${code}&to=${encodeURIComponent(to)}`;

/** Runs the node and returns what the final server received (the last request of `at`). */
async function follow(params: Record<string, unknown>, at: Recorder): Promise<Received> {
  const result = await http.run(http.params.parse(params), nodeContext());
  expect(result).toMatchObject({ output: { status: 200 } });
  expect(at.received.length).toBeGreaterThan(0);
  return at.received.at(-1)!;
}

const present = (received: Received) => credentialNames.filter((name) => received.headers[name] !== undefined);

describe('a redirect to another origin', () => {
  it.each([301, 302, 303, 307, 308])('%i: no Authorization, Cookie, Proxy-Authorization or header of the node’s own reaches it', async (code) => {
    const landed = await follow({ url: redirectVia(a, `${b.origin}/landed`, code), headers: credentials }, b);
    expect(landed.path).toBe('/landed');
    expect(present(landed)).toEqual([]);
    expect(landed.headers['idempotency-key']).toBe('run-1:node:0'); // not a credential: every request carries one
    // The first hop did carry them (so the test would see them if they followed).
    expect(present(a.received[0]!)).toEqual(credentialNames);
  });

  it.each([307, 308])('%i keeps the method but sends no body and no content headers', async (code) => {
    const json = await follow({ method: 'POST', url: redirectVia(a, `${b.origin}/landed`, code), headers: credentials, body: { secret: 1 } }, b);
    expect(json).toMatchObject({ method: 'POST', body: '' });
    expect(json.headers['content-type']).toBeUndefined();
    expect(Number(json.headers['content-length'] ?? 0)).toBe(0);
    expect(a.received[0]).toMatchObject({ method: 'POST', body: '{"secret":1}' });

    const text = await follow(
      { method: 'PUT', url: redirectVia(a, `${b.origin}/landed`, code), headers: { 'Content-Type': 'text/plain' }, body: 'raw secret' },
      b,
    );
    expect(text).toMatchObject({ method: 'PUT', body: '' });
    expect(text.headers['content-type']).toBeUndefined();
  });

  it('another host name on the same port is another origin', async () => {
    const url = `http://a.test:${a.port}/redirect?code=307&to=${encodeURIComponent(`http://other-name.test:${a.port}/landed`)}`;
    const landed = await follow({ method: 'POST', url, headers: credentials, body: 'payload' }, a);
    expect(landed).toMatchObject({ host: `other-name.test:${a.port}`, method: 'POST', body: '' });
    expect(present(landed)).toEqual([]);
  });

  it('credentials once dropped do not come back when a later hop returns to the first origin', async () => {
    const back = redirectVia(b, `${a.origin}/landed`, 307);
    const landed = await follow({ method: 'POST', url: redirectVia(a, back, 307), headers: credentials, body: 'payload' }, a);
    expect(a.received.map((r) => r.path)).toEqual(['/redirect', '/landed']);
    expect(landed).toMatchObject({ method: 'POST', body: '' });
    expect(present(landed)).toEqual([]);
  });

  it('a user-set Idempotency-Key is the user’s header: it stays behind and the node’s own key goes on', async () => {
    const landed = await follow({ url: redirectVia(a, `${b.origin}/landed`, 302), headers: { 'Idempotency-Key': 'user-key' } }, b);
    expect(a.received[0]!.headers['idempotency-key']).toBe('user-key');
    expect(landed.headers['idempotency-key']).toBe('run-1:node:0');
  });

  it('the same rules hold on the guarded path (private networks not allowed)', async () => {
    const servers = await startSsrfServers();
    try {
      const guarded = createHttpNodeType({
        lookup: async (hostname) => [{ address: { 'one.test': '127.0.0.2', 'two.test': '127.0.0.2' }[hostname] ?? '127.0.0.1' }],
        treatAsPublic: ['127.0.0.2'],
      });
      const to = encodeURIComponent(`http://two.test:${servers.port}/landed`);
      const params = guarded.params.parse({
        method: 'POST',
        url: `http://one.test:${servers.port}/redirect?code=308&to=${to}`,
        headers: credentials,
        body: { secret: 1 },
      });
      expect(await guarded.run(params, nodeContext(false))).toMatchObject({ output: { status: 200 } });
      const [first, landed] = servers.publicReceived;
      expect(present(first!)).toEqual(credentialNames);
      expect(landed).toMatchObject({ host: `two.test:${servers.port}`, method: 'POST', body: '' });
      expect(present(landed!)).toEqual([]);
    } finally {
      await servers.close();
    }
  });
});

describe('redirectRequest', () => {
  it('drops Authorization, Cookie and Proxy-Authorization on a cross-origin hop even when the user did not name them', () => {
    const request = {
      url: new URL('http://a.test/x'),
      method: 'POST',
      headers: new Headers({ ...credentials, 'content-type': 'text/plain', accept: 'text/plain' }),
      body: 'secret',
    };
    const next = redirectRequest(request, 307, new URL('http://b.test/y'), []);
    expect([...next.headers.keys()].sort()).toEqual(['accept', 'x-api-key', 'x-tenant']);
    expect(next).toMatchObject({ method: 'POST', body: undefined });
    const same = redirectRequest(request, 307, new URL('http://a.test/y'), ['X-Api-Key']);
    expect([...same.headers.keys()].sort()).toEqual([...credentialNames, 'accept', 'content-type'].sort());
    expect(same.body).toBe('secret');
    expect([...request.headers.keys()]).toHaveLength(7); // the hop before is left as it was
  });
});

describe('a redirect within the origin', () => {
  it.each([301, 302, 307, 308])('%i keeps every header', async (code) => {
    const landed = await follow({ url: redirectVia(a, '/landed', code), headers: credentials }, a);
    expect(landed.path).toBe('/landed');
    expect(present(landed)).toEqual(credentialNames);
    for (const [name, value] of Object.entries(credentials)) expect(landed.headers[name.toLowerCase()]).toBe(value);
  });

  it.each([307, 308])('%i keeps method, body and content type', async (code) => {
    const landed = await follow({ method: 'POST', url: redirectVia(a, '/landed', code), headers: credentials, body: { id: 7 } }, a);
    expect(landed).toMatchObject({ method: 'POST', body: '{"id":7}' });
    expect(landed.headers['content-type']).toBe('application/json');
    expect(present(landed)).toEqual(credentialNames);
  });

  it('303 turns any method but HEAD into a GET without body', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const landed = await follow({ method, url: redirectVia(a, '/landed', 303), headers: credentials, body: { id: 7 } }, a);
      expect(landed).toMatchObject({ method: 'GET', body: '' });
      expect(landed.headers['content-type']).toBeUndefined();
      expect(present(landed)).toEqual(credentialNames);
    }
    const head = await follow({ method: 'HEAD', url: redirectVia(a, '/landed', 303) }, a);
    expect(head.method).toBe('HEAD');
  });

  it('301 and 302 turn a POST into a GET without body, and keep other methods and their bodies', async () => {
    for (const code of [301, 302]) {
      const post = await follow({ method: 'POST', url: redirectVia(a, '/landed', code), body: { id: 7 } }, a);
      expect(post).toMatchObject({ method: 'GET', body: '' });
      expect(post.headers['content-type']).toBeUndefined();
      const put = await follow({ method: 'PUT', url: redirectVia(a, '/landed', code), body: { id: 7 } }, a);
      expect(put).toMatchObject({ method: 'PUT', body: '{"id":7}' });
    }
  });
});
