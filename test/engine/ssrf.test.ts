// The http node's private-network guard, as an attacker would probe it: IP literals in every notation,
// IPv6 forms carrying private IPv4, names resolving to private addresses, redirects to all of these,
// and DNS rebinding with a scripted resolver. The private target is a loopback server on the same port
// as a stand-in "public" host (127.0.0.2, counted public by this suite's node type only); it counts
// every connection and must see none. Controls show the same target is reached once allowed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../src/engine/errors.js';
import { createHttpNodeType, type LookupAll } from '../../src/engine/nodes/http.js';
import { isPrivateAddress } from '../../src/engine/nodes/private-address.js';
import { startSsrfServers, type SsrfServers } from '../helpers/ssrf-servers.js';
import { nodeContext } from '../helpers/node-context.js';

const PUBLIC = '127.0.0.2';

/** The test resolver: fixed answers per name, and `rebind.test` answering from a script. */
const names: Record<string, string[]> = {
  'public.test': [PUBLIC],
  'evil.test': ['127.0.0.1'],
  localhost: ['127.0.0.1', '::1'],
  'localhost.': ['127.0.0.1'],
  'loopback6.test': ['::1'],
  'mixed.test': [PUBLIC, '127.0.0.1'], // one public answer first, one private after it
  'mixed6.test': [PUBLIC, '::1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'mapped-hex.test': ['::ffff:7f00:1'],
  'siit.test': ['::ffff:0:7f00:1'],
  'nat64.test': ['64:ff9b::7f00:1'],
  'sixtofour.test': ['2002:7f00:1::1'],
  'metadata.test': ['169.254.169.254'],
  'cgnat.test': ['100.64.0.1'],
  'unspecified.test': ['0.0.0.0'],
  'zone.test': ['fe80::1%lo'],
  'garbled.test': ['0177.0.0.1'], // not an address net accepts: cannot be judged, so refused
  'rfc1918.test': ['192.168.1.10'],
  'empty.test': [],
};
let rebindScript: string[][] = [];
let lookups: string[] = [];
const resolve: LookupAll = async (hostname) => {
  lookups.push(hostname);
  if (hostname === 'hang.test') return new Promise(() => undefined); // a resolver that never answers
  const answers = hostname === 'rebind.test' ? (rebindScript.length > 1 ? rebindScript.shift()! : rebindScript[0]!) : names[hostname];
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address }));
};
const http = createHttpNodeType({ lookup: resolve, treatAsPublic: [PUBLIC] });


/** Runs the node; a request that slipped through to a black hole ends in a timeout, not a refusal. */
function call(params: Record<string, unknown>, allowPrivateNetwork = false) {
  return http.run(http.params.parse({ timeoutMs: 3000, ...params }), nodeContext(allowPrivateNetwork));
}

let servers: SsrfServers;
let P = 0;
beforeAll(async () => {
  servers = await startSsrfServers();
  P = servers.port;
});
afterAll(() => servers.close());
beforeEach(() => {
  servers.reset();
  lookups = [];
  rebindScript = [];
});

/** A payload: its URL on the target's port, the address the refusal must name, and whether the loopback target is reachable at it (then a control proves it). */
interface Payload {
  name: string;
  url: (port: number) => string;
  address: string;
  reachable?: boolean;
}
const at = (host: string, reachable = false, address = host.replace(/^\[|\]$/g, '')): Omit<Payload, 'name'> => ({
  url: (port) => `http://${host}:${port}/`,
  address,
  reachable,
});

const literals: Payload[] = [
  { name: 'IPv4 loopback', ...at('127.0.0.1', true) },
  { name: 'IPv4 decimal', ...at('2130706433', true, '127.0.0.1') },
  { name: 'IPv4 octal', ...at('0177.0.0.1', true, '127.0.0.1') },
  { name: 'IPv4 octal short', ...at('0177.1', true, '127.0.0.1') },
  { name: 'IPv4 hex short', ...at('0x7f.1', true, '127.0.0.1') },
  { name: 'IPv4 hex dotted', ...at('0x7f.0x0.0x0.0x1', true, '127.0.0.1') },
  { name: 'IPv4 hex whole', ...at('0x7f000001', true, '127.0.0.1') },
  { name: 'IPv4 octal whole', ...at('017700000001', true, '127.0.0.1') },
  { name: 'IPv4 short 127.1', ...at('127.1', true, '127.0.0.1') },
  { name: 'IPv4 short 127.0.1', ...at('127.0.1', true, '127.0.0.1') },
  { name: 'IPv4 zero-padded', ...at('127.000.000.001', true, '127.0.0.1') },
  { name: 'IPv4 mixed bases', ...at('0x7F.0.0.0x1', true, '127.0.0.1') },
  { name: 'IPv4 trailing dot', ...at('127.0.0.1.', true, '127.0.0.1') },
  { name: 'IPv4 percent-encoded', ...at('%31%32%37.0.0.1', true, '127.0.0.1') },
  { name: 'IPv4 percent-encoded dot', ...at('127.0.0.1%2e', true, '127.0.0.1') },
  { name: 'IPv4 full-width digits', ...at('１２７.０.０.１', true, '127.0.0.1') },
  { name: 'IPv4 backslash confusion', url: (port) => `http://127.0.0.1:${port}\\@public.test/`, address: '127.0.0.1', reachable: true },
  { name: 'IPv4 other loopback', ...at('127.255.255.254') },
  { name: 'unspecified 0.0.0.0', ...at('0.0.0.0', true) },
  { name: 'unspecified 0', ...at('0', true, '0.0.0.0') },
  { name: 'private 10/8', ...at('10.0.0.1') },
  { name: 'private 172.16/12', ...at('172.16.0.1') },
  { name: 'private 172.16/12 top', ...at('172.31.255.255') },
  { name: 'private 192.168/16', ...at('192.168.0.1') },
  { name: 'link-local metadata', ...at('169.254.169.254') },
  { name: 'link-local metadata hex', ...at('0xa9fea9fe', false, '169.254.169.254') },
  { name: 'link-local metadata decimal', ...at('2852039166', false, '169.254.169.254') },
  { name: 'CGNAT 100.64/10', ...at('100.64.0.1') },
  { name: 'CGNAT 100.64/10 top', ...at('100.127.255.255') },
  { name: 'IETF 192.0.0/24', ...at('192.0.0.1') },
  { name: 'documentation 192.0.2/24', ...at('192.0.2.1') },
  { name: 'documentation 198.51.100/24', ...at('198.51.100.1') },
  { name: 'documentation 203.0.113/24', ...at('203.0.113.1') },
  { name: 'benchmarking 198.18/15', ...at('198.19.255.1') },
  { name: 'multicast', ...at('224.0.0.1') },
  { name: 'reserved 240/4', ...at('240.0.0.1') },
  { name: 'broadcast', ...at('255.255.255.255') },
  { name: 'IPv6 loopback', ...at('[::1]', true) },
  { name: 'IPv6 loopback long', ...at('[0:0:0:0:0:0:0:1]', true, '::1') },
  { name: 'IPv6 unspecified', ...at('[::]', true) },
  { name: 'IPv4-mapped dotted', ...at('[::ffff:127.0.0.1]', true, '::ffff:7f00:1') },
  { name: 'IPv4-mapped hex', ...at('[::ffff:7f00:1]', true) },
  { name: 'IPv4-mapped long', ...at('[0:0:0:0:0:ffff:127.0.0.1]', true, '::ffff:7f00:1') },
  { name: 'IPv4-mapped metadata', ...at('[::ffff:a9fe:a9fe]') },
  { name: 'IPv4-mapped unspecified', ...at('[::ffff:0.0.0.0]', false, '::ffff:0:0') },
  { name: 'SIIT translated hex', ...at('[::ffff:0:7f00:1]') },
  { name: 'SIIT translated dotted', ...at('[::ffff:0:127.0.0.1]', false, '::ffff:0:7f00:1') },
  { name: 'SIIT translated private', ...at('[::ffff:0:a00:1]') },
  { name: 'IPv4-compatible', ...at('[::127.0.0.1]', false, '::7f00:1') },
  { name: 'NAT64 loopback', ...at('[64:ff9b::7f00:1]') },
  { name: 'NAT64 dotted', ...at('[64:ff9b::127.0.0.1]', false, '64:ff9b::7f00:1') },
  { name: 'NAT64 private', ...at('[64:ff9b::a00:1]') },
  { name: 'NAT64 metadata', ...at('[64:ff9b::a9fe:a9fe]') },
  { name: 'NAT64 local-use /48', ...at('[64:ff9b:1::7f00:1]') },
  { name: 'NAT64 local-use /48, RFC 6052 layout', ...at('[64:ff9b:1:7f00:0:100::]') },
  { name: '6to4 loopback', ...at('[2002:7f00:1::1]') },
  { name: '6to4 metadata', ...at('[2002:a9fe:a9fe::]') },
  { name: '6to4 private', ...at('[2002:c0a8:101::1]') },
  { name: 'Teredo to a loopback client', ...at('[2001:0:4136:e378:8000:63bf:80ff:fffe]', false, '2001:0:4136:e378:8000:63bf:80ff:fffe') },
  { name: 'Teredo with a public server', ...at('[2001:0:808:808::1]') },
  { name: 'IPv6 link-local', ...at('[fe80::1]') },
  { name: 'IPv6 unique-local', ...at('[fc00::1]') },
  { name: 'IPv6 unique-local metadata', ...at('[fd00:ec2::254]') },
  { name: 'IPv6 site-local', ...at('[fec0::1]') },
  { name: 'IPv6 multicast', ...at('[ff02::1]') },
  { name: 'IPv6 discard', ...at('[100::1]') },
  { name: 'IPv6 documentation 2001:db8', ...at('[2001:db8::1]') },
  { name: 'IPv6 documentation 3fff::/20', ...at('[3fff::1]') },
  { name: 'IPv6 benchmarking', ...at('[2001:2::1]') },
  { name: 'IPv6 SRv6', ...at('[5f00::1]') },
];

const resolved: Payload[] = [
  { name: 'name → 127.0.0.1', ...at('evil.test', true, '127.0.0.1') },
  { name: 'localhost', ...at('localhost', true, '127.0.0.1') },
  { name: 'LOCALHOST. (case, trailing dot)', ...at('LOCALHOST.', true, '127.0.0.1') },
  { name: 'name → ::1', ...at('loopback6.test', true, '::1') },
  { name: 'name → public, then private in one answer', ...at('mixed.test', false, '127.0.0.1') },
  { name: 'name → public, then ::1 in one answer', ...at('mixed6.test', false, '::1') },
  { name: 'name → IPv4-mapped dotted', ...at('mapped.test', true, '::ffff:127.0.0.1') },
  { name: 'name → IPv4-mapped hex', ...at('mapped-hex.test', true, '::ffff:7f00:1') },
  { name: 'name → SIIT translated', ...at('siit.test', false, '::ffff:0:7f00:1') },
  { name: 'name → NAT64', ...at('nat64.test', false, '64:ff9b::7f00:1') },
  { name: 'name → 6to4', ...at('sixtofour.test', false, '2002:7f00:1::1') },
  { name: 'name → metadata', ...at('metadata.test', false, '169.254.169.254') },
  { name: 'name → CGNAT', ...at('cgnat.test', false, '100.64.0.1') },
  { name: 'name → 0.0.0.0', ...at('unspecified.test', true, '0.0.0.0') },
  { name: 'name → link-local with a zone id', ...at('zone.test', false, 'fe80::1%lo') },
  { name: 'name → an answer that is no address', ...at('garbled.test', false, '0177.0.0.1') },
  { name: 'name → 192.168/16', ...at('rfc1918.test', false, '192.168.1.10') },
];

/** Redirects from the public stand-in to a private target (`to` is absolute, or relative to the public URL). */
const redirect = (name: string, to: (port: number) => string, address: string, code = 302, reachable = true): Payload => ({
  name: `redirect ${code} → ${name}`,
  url: (port) => `http://public.test:${port}/redirect?code=${code}&to=${encodeURIComponent(to(port))}`,
  address,
  reachable,
});
const redirects: Payload[] = [
  redirect('127.0.0.1', (p) => `http://127.0.0.1:${p}/`, '127.0.0.1'),
  redirect('decimal', (p) => `http://2130706433:${p}/`, '127.0.0.1', 301),
  redirect('hex short', (p) => `http://0x7f.1:${p}/`, '127.0.0.1', 307),
  redirect('[::1]', (p) => `http://[::1]:${p}/`, '::1', 308),
  redirect('IPv4-mapped', (p) => `http://[::ffff:127.0.0.1]:${p}/`, '::ffff:7f00:1', 303),
  redirect('SIIT translated', (p) => `http://[::ffff:0:7f00:1]:${p}/`, '::ffff:0:7f00:1', 302, false),
  redirect('NAT64', (p) => `http://[64:ff9b::7f00:1]:${p}/`, '64:ff9b::7f00:1', 302, false),
  redirect('a name resolving to 127.0.0.1', (p) => `http://evil.test:${p}/`, '127.0.0.1'),
  redirect('a name resolving to IPv4-mapped', (p) => `http://mapped.test:${p}/`, '::ffff:127.0.0.1', 307),
  redirect('localhost', (p) => `http://localhost:${p}/`, '127.0.0.1'),
  redirect('protocol-relative', (p) => `//evil.test:${p}/`, '127.0.0.1'),
  redirect('backslashes', (p) => `\\\\127.0.0.1:${p}\\`, '127.0.0.1'),
  redirect('0.0.0.0', (p) => `http://0.0.0.0:${p}/`, '0.0.0.0'),
  redirect('https on loopback', (p) => `https://127.0.0.1:${p}/`, '127.0.0.1'),
  redirect(
    'public again, then 127.0.0.1',
    (p) => `http://public.test:${p}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${p}/`)}`,
    '127.0.0.1',
  ),
];

const payloads = [...literals, ...resolved, ...redirects];

describe('the http node refuses private addresses, sending nothing', () => {
  it('has at least 60 payloads, every one naming an address the classifier refuses', () => {
    expect(payloads.length).toBeGreaterThanOrEqual(60);
    expect(payloads.filter((p) => p.reachable).length).toBeGreaterThanOrEqual(30);
    for (const payload of payloads) expect([payload.name, isPrivateAddress(payload.address)]).toEqual([payload.name, true]);
  });

  it.each(payloads)('$name', async (payload) => {
    const url = payload.url(P);
    const error = await call({ url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetriableError);
    const message = (error as Error).message;
    expect(message).toMatch(/^refused https?:\/\/\S+: .*private address.*HTTP_ALLOW_PRIVATE/);
    expect(message).toContain(payload.address);
    expect(servers.targetConnections).toBe(0);
    expect(servers.targetRequests).toEqual([]);
    // A redirect payload's first hop did go out, to the public side, and only that.
    const isRedirect = url.startsWith('http://public.test');
    expect(servers.publicReceived.map((r) => r.path)).toEqual(isRedirect ? (url.includes('%2Fredirect') ? ['/redirect', '/redirect'] : ['/redirect']) : []);
  });

  // Controls: with HTTP_ALLOW_PRIVATE the same requests reach the target, so the 0 above means something.
  // (Connections are pooled per origin, so the requests are counted here, not the connections.)
  it.each(payloads.filter((p) => p.reachable && !p.name.includes('https')))('control, allowed: $name reaches the target', async (payload) => {
    const result = await call({ url: payload.url(P) }, true);
    expect(result).toMatchObject({ output: { status: 200, body: 'private' } });
    expect(servers.targetRequests).toHaveLength(1);
  });

  it('control, allowed: an https redirect to loopback connects to the target', async () => {
    const to = encodeURIComponent(`https://127.0.0.1:${P}/`);
    await expect(call({ url: `http://public.test:${P}/redirect?to=${to}` }, true)).rejects.toThrow();
    expect(servers.targetConnections).toBe(1); // a TLS handshake to a plain-HTTP server: connected, no request
  });

  it('refuses zone ids, credentials and other schemes in the URL before anything is sent', async () => {
    await expect(call({ url: `http://[fe80::1%25lo]:${P}/` })).rejects.toThrow(/^invalid URL/);
    await expect(call({ url: `http://public.test@127.0.0.1:${P}/` })).rejects.toThrow('credentials in the URL are not supported');
    await expect(call({ url: `http://public.test:${P}/redirect?to=${encodeURIComponent('file:///etc/passwd')}` })).rejects.toThrow(
      'only http: and https: URLs are allowed, not file:',
    );
    expect(servers.targetConnections).toBe(0);
  });
});

describe('DNS rebinding', () => {
  it('connects to the address it checked: one lookup per connection, its answer is where the request goes', async () => {
    // Public first, private for every later lookup: a check that resolved apart from the connection
    // would have passed the first answer and connected to the second.
    rebindScript = [[PUBLIC], ['127.0.0.1']];
    const first = await call({ url: `http://rebind.test:${P}/close` });
    expect(first).toMatchObject({ output: { status: 200, body: { server: 'public', path: '/close' } } });
    expect(lookups).toEqual(['rebind.test']);
    expect(servers.targetConnections).toBe(0);

    // The server closed that connection: the next request resolves again, gets 127.0.0.1, and is refused.
    const second = await call({ url: `http://rebind.test:${P}/close` }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(NonRetriableError);
    expect((second as Error).message).toMatch(/^refused http:\/\/rebind\.test:\d+: rebind\.test resolves to the private address 127\.0\.0\.1/);
    expect(lookups).toEqual(['rebind.test', 'rebind.test']);
    expect(servers.targetConnections).toBe(0);
    expect(servers.publicReceived.map((r) => r.path)).toEqual(['/close']);
  });

  it('rebinding to IPv6 loopback and IPv4-mapped forms is refused alike', async () => {
    for (const [address, label] of [['::1', '::1'], ['::ffff:127.0.0.1', '::ffff:127.0.0.1'], ['64:ff9b::7f00:1', '64:ff9b::7f00:1']]) {
      rebindScript = [[PUBLIC], [address!]];
      lookups = [];
      expect(await call({ url: `http://rebind.test:${P}/close` })).toMatchObject({ output: { body: { server: 'public' } } });
      await expect(call({ url: `http://rebind.test:${P}/close` })).rejects.toThrow(`resolves to the private address ${label}`);
      expect(lookups).toHaveLength(2);
    }
    expect(servers.targetConnections).toBe(0);
  });

  it('a redirect to a name that rebinds is judged by the answer it connects to', async () => {
    rebindScript = [['127.0.0.1'], [PUBLIC]]; // private first this time: the check must see the first answer
    const to = encodeURIComponent(`http://rebind.test:${P}/`);
    await expect(call({ url: `http://public.test:${P}/redirect?to=${to}` })).rejects.toThrow(/refused http:\/\/rebind\.test:\d+: .*127\.0\.0\.1/);
    expect(lookups.filter((name) => name === 'rebind.test')).toHaveLength(1);
    expect(servers.targetConnections).toBe(0);
  });
});

describe('HTTP_ALLOW_PRIVATE and public hosts', () => {
  it('allows private literals, names and redirects to them when private networks are allowed', async () => {
    expect(await call({ url: `http://127.0.0.1:${P}/` }, true)).toMatchObject({ output: { body: 'private' } });
    expect(await call({ url: `http://evil.test:${P}/` }, true)).toMatchObject({ output: { body: 'private' } });
    const to = encodeURIComponent(`http://[::1]:${P}/`);
    expect(await call({ url: `http://public.test:${P}/redirect?to=${to}` }, true)).toMatchObject({ output: { body: 'private' } });
    expect(servers.targetRequests).toHaveLength(3);
  });

  it('lets public addresses through, IPv4-mapped, NAT64 and 6to4 forms of public IPv4 included', async () => {
    expect(await call({ url: `http://public.test:${P}/ok` })).toMatchObject({ output: { status: 200, body: { server: 'public' } } });
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450::1']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
    for (const address of ['::ffff:8.8.8.8', '::ffff:0:808:808', '64:ff9b::808:808', '2002:808:808::1']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
    // A zone id scopes an address to a link: a public address has none, so one that carries it is refused.
    for (const address of ['2606:4700:4700::1111%eth0', 'fe80::1%1', '8.8.8.8%eth0']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
  });

  it('a cancel stops a request whose name is still being resolved', async () => {
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    const ctx = { ...nodeContext(false), signal: controller.signal };
    const pending = http.run(http.params.parse({ url: `http://hang.test:${P}/` }), ctx);
    await expect.poll(() => lookups).toEqual(['hang.test']);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('an unresolvable name fails retriably, naming the name', async () => {
    const error = await call({ url: `http://nowhere.test:${P}/` }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toMatch(/ENOTFOUND nowhere\.test/);
    const empty = await call({ url: `http://empty.test:${P}/` }).catch((e: unknown) => e);
    expect(empty).not.toBeInstanceOf(NonRetriableError);
    expect((empty as Error).message).toMatch(/empty\.test resolves to no address/);
  });
});
