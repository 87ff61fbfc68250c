// GraphQL document limits, alike over HTTP POST and GET, SSE and graphql-ws: each limit at its value and
// one past it, refused with QUERY_TOO_COMPLEX (HTTP 400, an `error` message over graphql-ws on a socket
// that stays open); documents and variables deep enough to overflow a recursive parser or walk answered
// as client errors, with nothing logged.
import { sql } from 'drizzle-orm';
import { Lexer, Source, TokenKind } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawJson, send, type Answer, type Target, type Transport } from '../helpers/transports.js';

const open = { rateLimitPerSecond: 0, maxSubscriptionsPerKey: 0, maxSocketsPerKey: 0 };

let t: TestServer;
let target: Target;
let closes = 0;

beforeAll(async () => {
  t = await startTestServer(open);
  const key = (await t.createOrganization()).adminKey;
  const ws = t.wsClient(key);
  // The lazy client closes its socket itself (1000) once idle; anything else came from the server.
  ws.on('closed', (event) => void ((event as { code?: number }).code !== 1000 && closes++));
  target = { url: t.url, key, ws };
});

afterAll(async () => {
  await t?.close();
});

function tokens(document: string): number {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

async function rowCounts(server: TestServer): Promise<{ workflows: number; runs: number }> {
  const [row] = await server.database.rows<{ workflows: number; runs: number }>(
    sql`select (select count(*) from workflows)::int as workflows, (select count(*) from runs)::int as runs`,
  );
  return row!;
}

/** A validateWorkflow document whose one node has `params` written inline. */
const withParams = (params: string) =>
  `{ validateWorkflow(definition: { nodes: [{ id: "t", type: "trigger", params: ${params} }], edges: [] }) { valid } }`;

/** The validateWorkflow document padded with zeros to exactly `count` tokens. */
function documentOfTokens(count: number): string {
  const base = tokens(withParams('[]'));
  return withParams(`[${' 0'.repeat(count - base)}]`);
}

const nested = (levels: number) => withParams(`${'['.repeat(levels)}${']'.repeat(levels)}`);

const depth12 =
  '{ workflows { edges { node { runs { edges { node { workflow { runs { edges { node { workflow { id } } } } } } } } } } } }';
const depth13 =
  '{ run(id: "r") { workflow { runs { edges { node { workflow { runs { edges { node { workflow { runs { edges { cursor } } } } } } } } } } } } }';
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: nodeTypes { type }`).join(' ')} }`;
const directives = (n: number) => `{ nodeTypes { ${'type @include(if: true) '.repeat(n)} } }`;
const costly = (first: number) =>
  `{ workflows(first: ${first}) { edges { node { runs(first: ${first}) { edges { node { id status } } } } } } }`;

/** A document at a limit and one past it, per limit; `get: false` when the document is too long for a URL. */
const limits: { limit: string; ok: string; past: string; get?: boolean }[] = [
  { limit: 'depth', ok: depth12, past: depth13 },
  { limit: 'aliases', ok: aliases(30), past: aliases(31) },
  { limit: 'directives', ok: directives(50), past: directives(51) },
  { limit: 'tokens', ok: documentOfTokens(10_000), past: documentOfTokens(10_001), get: false },
  // 5 brackets around the params: `{`, `(`, `{`, `[`, `{`.
  { limit: 'nesting', ok: nested(195), past: nested(196) },
  { limit: 'cost', ok: costly(2), past: costly(100) },
];

function expectRefused(answer: Answer, transport: Transport, limit: string): void {
  expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit });
  expect(answer.data ?? null).toBeNull();
  if (transport === 'ws') expect(answer.errorMessage).toBe(true);
  else expect(answer.status).toBe(400);
}

function expectNotRefusedBy(answer: Answer, limit: string): void {
  expect(answer.raw).toBeUndefined();
  expect(answer.status ?? 200).toBeLessThan(500);
  for (const error of answer.errors ?? []) expect(error.extensions?.limit).toBeUndefined();
  expect(answer.data, `${limit}: ${JSON.stringify(answer.errors)}`).toBeTruthy();
}

describe.each(['post', 'post-json', 'get', 'sse', 'ws'] as const)('limits over %s', (transport) => {
  it.each(limits)('takes a document at the $limit limit and refuses one past it', async ({ limit, ok, past, get }) => {
    if (transport === 'get' && get === false) return;
    expectNotRefusedBy(await send(target, transport, ok), limit);
    expectRefused(await send(target, transport, past), transport, limit);
  });

  it('charges the size of a definition variable for each alias that takes it: 6 of 5,000 nodes pass, 7 are refused', async () => {
    if (transport === 'get') return; // a 5,000-node definition does not fit in a URL
    // Per use: 15,003 values + 88,900 characters / 100 = 15,892 → 10 + ⌈15,892 / 20⌉ = 805; 6 × 805 ≤ 5,000 < 7 × 805.
    const definition = { nodes: Array.from({ length: 5000 }, (_, i) => ({ id: `n${i}`, type: 'trigger' })), edges: [] };
    const query = (n: number) =>
      `query($d: WorkflowDefinitionInput!) { ${Array.from({ length: n }, (_, i) => `v${i}: validateWorkflow(definition: $d) { valid }`).join(' ')} }`;
    expectNotRefusedBy(await send(target, transport, query(6), { d: definition }), 'inputCost');
    expectRefused(await send(target, transport, query(7), { d: definition }), transport, 'inputCost');
  });

  it('refuses fields that would take too long to compare (350 copies of one field with a selection)', async () => {
    const copies = (n: number) => `{ ${'workflows { edges { cursor } } '.repeat(n)}}`;
    expectNotRefusedBy(await send(target, transport, copies(20)), 'comparisons');
    const started = performance.now();
    expectRefused(await send(target, transport, copies(350)), transport, 'comparisons');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('answers a fragment cycle as a validation error', async () => {
    const answer = await send(target, transport, '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }');
    expect(answer.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.errors?.[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
  });
});

describe.each(['post', 'sse', 'ws'] as const)('a subscription left without a field by @skip or @include (%s)', (transport) => {
  it.each([
    ['a literal', 'subscription { runUpdates @include(if: false) { id } }', undefined],
    ['a variable', 'subscription($no: Boolean!) { runUpdates @skip(if: $no) { id } }', { no: true }],
    ['a fragment', 'subscription { ...F } fragment F on Subscription { runUpdates @skip(if: true) { id } }', undefined],
  ])('is refused as the client\'s input (%s), not as an internal error', async (_name, query, variables) => {
    const answer = await send(target, transport, query, variables);
    // graphql-js's own rule throws on a variable there: a validation failure, with its code all the same.
    const code = variables ? 'GRAPHQL_VALIDATION_FAILED' : 'BAD_USER_INPUT';
    expect(answer.errors).toEqual([expect.objectContaining({ extensions: { code } })]);
    expect(answer.status ?? 200).toBeLessThan(500);
  });
});

describe('the input cost', () => {
  // validateWorkflow(definition: $d) with $d's one node holding `zeros` zeros in params: values zeros + 7,
  // 30 characters of keys and strings (under 100: no extra value), so its cost is 10 + ⌈(zeros + 7) / 20⌉.
  const query = 'query($d: WorkflowDefinitionInput!) { validateWorkflow(definition: $d) { valid } }';
  const definition = (zeros: number) => ({ nodes: [{ id: 't', type: 'trigger', params: new Array(zeros).fill(0) }], edges: [] });

  it.each(['post', 'ws'] as const)('takes an input that costs exactly the limit and refuses one more point (%s)', async (transport) => {
    expect(t.config.maxQueryCost).toBe(5000);
    expectNotRefusedBy(await send(target, transport, query, { d: definition(99_800 - 7) }), 'inputCost');
    expectRefused(await send(target, transport, query, { d: definition(99_801 - 7) }), transport, 'inputCost');
  });
});

describe('documents and variables that would overflow the stack', () => {
  let big: TestServer;
  let bigTarget: Target;
  let bigCloses = 0;
  const logged: unknown[][] = [];

  beforeAll(async () => {
    // The token limit would refuse most of these first: raised, the walks behind it must hold on their own.
    big = await startTestServer({ ...open, maxQueryTokens: 1_000_000, maxQueryAliases: 100_000, maxBodyBytes: 32 * 1024 * 1024 });
    const key = (await big.createOrganization()).adminKey;
    const ws: Client = big.wsClient(key);
    ws.on('closed', (event) => void ((event as { code?: number }).code !== 1000 && bigCloses++));
    bigTarget = { url: big.url, key, ws, wsUrl: big.wsUrl };
    for (const level of ['error', 'warn', 'log', 'info'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args));
    }
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await big?.close();
  });

  const chain = (n: number) =>
    `{ ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ${i === n - 1 ? '__typename' : `...F${i + 1}`} }`).join(' ')}`;
  const selections = (n: number) => `{ ${'workflows { edges { node { '.repeat(Math.ceil(n / 3))}id${' } } }'.repeat(Math.ceil(n / 3))} }`;
  const cases: [string, string, string][] = [
    ['a 5,000-fragment chain', chain(5000), 'depth'],
    ['5,000 nested selections', selections(5000), 'nesting'],
    ['a list literal nested 5,000 levels', nested(5000), 'nesting'],
    ['an object literal nested 5,000 levels', withParams(`${'{ a: '.repeat(5000)}1${' }'.repeat(5000)}`), 'nesting'],
    ['a list type nested 5,000 levels', `query($v: ${'['.repeat(5000)}Int${']'.repeat(5000)}) { __typename }`, 'nesting'],
  ];

  describe.each(['post', 'get', 'sse', 'ws'] as const)('over %s', (transport) => {
    it.each(cases)('refuses %s with a client error', async (_name, document, limit) => {
      if (transport === 'get' && encodeURIComponent(document).length > 12_000) return;
      const answer = await send(bigTarget, transport, document);
      expectRefused(answer, transport, limit);
      const stock = await send(target, transport, document);
      expect(stock.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    });
  });

  it.each(['post', 'ws'] as const)('refuses a run input nested 50,000 levels as a ValidationError naming where (%s)', async (transport) => {
    const before = await rowCounts(big);
    const answer = await send(
      bigTarget,
      transport,
      'mutation($input: JSON) { startRun(workflowId: "wf_none", input: $input) { __typename ... on ValidationError { issues { path message } } } }',
      new RawJson(`{"input":${'['.repeat(50_000)}1${']'.repeat(50_000)}}`),
    );
    expect(answer.data).toEqual({
      startRun: {
        __typename: 'ValidationError',
        issues: [{ path: ['input', ...new Array<string>(64).fill('0')], message: expect.stringMatching(/nested deeper than 64 levels/) }],
      },
    });
    expect(await rowCounts(big)).toEqual(before);
  });

  it('charges inline literals like variables: an input costing exactly the limit passes, one more point is refused', async () => {
    // 10 + ⌈(zeros + 7) / 20⌉ = 5,000 with 99,793 zeros (written inline: 99,793 tokens, hence this server).
    const inline = (zeros: number) => withParams(`[${'0,'.repeat(zeros)}]`);
    expectNotRefusedBy(await send(bigTarget, 'post', inline(99_793)), 'inputCost');
    expectRefused(await send(bigTarget, 'post', inline(99_794)), 'post', 'inputCost');
  });

  it('refuses the amplifications of the issue by their cost alone (the alias limit raised), storing nothing', async () => {
    const before = await rowCounts(big);
    const definition = { nodes: Array.from({ length: 5000 }, (_, i) => ({ id: `n${i}`, type: 'trigger' })), edges: [] };
    const validations = `query($d: WorkflowDefinitionInput!) { ${Array.from({ length: 300 }, (_, i) => `v${i}: validateWorkflow(definition: $d) { valid }`).join(' ')} }`;
    const started = performance.now();
    expectRefused(await send(bigTarget, 'post', validations, { d: definition }), 'post', 'inputCost');
    expect(performance.now() - started).toBeLessThan(1000);
    const create = '{ name: "w", definition: { nodes: [{ id: "t", type: "trigger" }], edges: [] } }';
    const creations = `mutation { ${Array.from({ length: 1400 }, (_, i) => `c${i}: createWorkflow(input: ${create}) { __typename }`).join(' ')} }`;
    expectRefused(await send(bigTarget, 'post', creations), 'post', 'inputCost');
    expectRefused(await send(bigTarget, 'ws', creations), 'ws', 'inputCost');
    expect(await rowCounts(big)).toEqual(before);
  });

  it('logs nothing and keeps every socket open', async () => {
    expect(logged).toEqual([]);
    expect(bigCloses).toBe(0);
    expect((await fetch(`${big.baseUrl}/health`)).status).toBe(200);
  });
});

it('never closed the graphql-ws socket of these tests', async () => {
  const answer = await send(target, 'ws', '{ nodeTypes { type } }');
  expect(answer.data).toBeTruthy();
  expect(closes).toBe(0);
});
