// What a client sends as JSON (run inputs, node params) and as cursors: JSON nested 64 levels is taken
// and 65 refused as a ValidationError naming where; a real NUL character is refused while the six
// characters `\u0000` written in an expression are not; a cursor the server did not write is a client
// error naming its argument. Nothing refused is stored, and nothing is logged.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CreateWorkflow, StartRun, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let workflowId: string;
const logged: unknown[][] = [];

beforeAll(async () => {
  t = await startTestServer({ rateLimitPerSecond: 0 });
  key = (await t.createOrganization()).adminKey;
  workflowId = await createWorkflow(t, key, { nodes: [{ id: 't', type: 'trigger' }], edges: [] });
  for (const level of ['error', 'warn'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args));
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  await t?.close();
});

async function rowCounts(): Promise<{ workflows: number; runs: number }> {
  const [row] = await t.database.rows<{ workflows: number; runs: number }>(
    sql`select (select count(*) from workflows)::int as workflows, (select count(*) from runs)::int as runs`,
  );
  return row!;
}

/** `levels` arrays inside each other around 1: [[…[1]…]]. */
function nestedArrays(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

/** `levels` objects inside each other: {a:{a:…{a:1}…}}. */
function nestedObjects(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const StartRunIssues = `
  mutation($workflowId: ID!, $input: JSON) {
    startRun(workflowId: $workflowId, input: $input) {
      __typename
      ... on Run { id input }
      ... on ValidationError { message issues { path nodeId message } }
    }
  }`;

describe('JSON nested 64 levels is taken, 65 refused', () => {
  it('takes a run input nested 64 levels and stores it as sent', async () => {
    const input = nestedObjects(64);
    const result = await t.request<{ startRun: { __typename: string; input?: unknown } }, object>(StartRunIssues, { workflowId, input }, key);
    expect(result.data?.startRun).toMatchObject({ __typename: 'Run', input });
  });

  it.each([
    ['arrays', nestedArrays(65), ['input', ...new Array<string>(64).fill('0')]],
    ['objects', nestedObjects(65), ['input', ...new Array<string>(64).fill('a')]],
  ])('refuses a run input of %s nested 65 levels as a ValidationError naming the path, storing nothing', async (_name, input, path) => {
    const before = await rowCounts();
    const result = await t.request<{ startRun: unknown }, object>(StartRunIssues, { workflowId, input }, key);
    expect(result.data?.startRun).toEqual({
      __typename: 'ValidationError',
      message: expect.stringMatching(/invalid input: 1 issue \(input\.\S+ is nested deeper than 64 levels\)/),
      issues: [{ path, nodeId: null, message: expect.stringMatching(/nested deeper than 64 levels/) }],
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses a run input nested 65 levels written inline in the document', async () => {
    const literal = `${'{ a: '.repeat(65)}1${' }'.repeat(65)}`;
    const result = await t.request<{ startRun: { __typename: string; issues?: { path: string[] }[] } }, object>(
      `mutation { startRun(workflowId: "${workflowId}", input: ${literal}) { __typename ... on ValidationError { issues { path } } } }`,
      {},
      key,
    );
    expect(result.data?.startRun).toEqual({ __typename: 'ValidationError', issues: [{ path: ['input', ...new Array<string>(64).fill('a')] }] });
  });

  const httpWith = (body: unknown) => ({
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'h', type: 'http', params: { url: 'http://127.0.0.1:9/', method: 'POST', body } },
    ],
    edges: [{ source: 't', target: 'h' }],
  });

  it('takes node params nested 64 levels (params itself the first) and refuses 65, naming the node, storing nothing', async () => {
    const ok = await t.request(CreateWorkflow, { input: { name: 'deep params', definition: httpWith(nestedObjects(63)) } }, key);
    expect(ok.data?.createWorkflow.__typename).toBe('Workflow');

    const before = await rowCounts();
    const refused = await t.request(CreateWorkflow, { input: { name: 'too deep', definition: httpWith(nestedObjects(64)) } }, key);
    expect(refused.data?.createWorkflow).toMatchObject({
      __typename: 'ValidationError',
      issues: [
        {
          path: ['nodes', '1', 'params', 'body', ...new Array<string>(63).fill('a')],
          nodeId: 'h',
          message: expect.stringMatching(/nested deeper than 64 levels/),
        },
      ],
    });
    expect(await rowCounts()).toEqual(before);
  });
});

describe('NUL', () => {
  const transform = (expression: string) => ({
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'x', type: 'transform', params: { expression } },
    ],
    edges: [{ source: 't', target: 'x' }],
  });

  it('takes the six characters \\u0000 written in an expression', async () => {
    const expression = '$contains($string($input), "\\u0000")';
    expect(expression).toHaveLength(36);
    const result = await t.request(CreateWorkflow, { input: { name: 'escaped nul', definition: transform(expression) } }, key);
    expect(result.data?.createWorkflow).toMatchObject({
      __typename: 'Workflow',
      definition: { nodes: [{ id: 't' }, { id: 'x', params: { expression } }] },
    });
  });

  it('refuses a real NUL character in an expression, naming the node and field, storing nothing', async () => {
    const before = await rowCounts();
    const result = await t.request(CreateWorkflow, { input: { name: 'real nul', definition: transform('"a\u0000b"') } }, key);
    expect(result.data?.createWorkflow).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['nodes', '1', 'params', 'expression'], nodeId: 'x', message: expect.stringMatching(/NUL character/) }],
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses a NUL in a key of a run input, naming it, and takes the escaped text', async () => {
    const before = await rowCounts();
    const refused = await t.request<{ startRun: unknown }, object>(StartRunIssues, { workflowId, input: { list: [{ 'k\u0000': 1 }] } }, key);
    expect(refused.data?.startRun).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'list', '0', 'k\u0000'] }] });
    expect(await rowCounts()).toEqual(before);
    const taken = await t.request<{ startRun: unknown }, object>(StartRunIssues, { workflowId, input: { text: '\\u0000' } }, key);
    expect(taken.data?.startRun).toMatchObject({ __typename: 'Run', input: { text: '\\u0000' } });
  });

  it('refuses a lone surrogate in a run input (jsonb cannot store it), naming where, storing nothing', async () => {
    // Found by the fuzz suite on PostgreSQL: a masked 500 before this check.
    const before = await rowCounts();
    const refused = await t.request<{ startRun: unknown }, object>(StartRunIssues, { workflowId, input: { text: '', k: '\ud800' } }, key);
    expect(refused.data?.startRun).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['input', 'k'], message: expect.stringMatching(/lone UTF-16 surrogate/) }],
    });
    expect(await rowCounts()).toEqual(before);
    const paired = await t.request<{ startRun: unknown }, object>(StartRunIssues, { workflowId, input: { text: '\ud83d\ude00' } }, key);
    expect(paired.data?.startRun).toMatchObject({ __typename: 'Run', input: { text: '😀' } });
  });

  it('fails the step, not the run\'s storage, when an expression returns a lone surrogate', async () => {
    const id = await createWorkflow(t, key, transform('{ "half": "\\ud800" }'));
    const run = await startRun(t, key, id);
    const events = await watchRun(t, t.wsClient(key), run).done;
    expect(events.at(-1)?.type).toBe('RUN_FAILED');
    const step = events.find((event) => event.nodeId === 'x' && event.type === 'NODE_FAILED');
    expect(step?.error).toBe('the output cannot be stored: output.half holds a lone UTF-16 surrogate (half of a character)');
  });
});

describe('cursors', () => {
  const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
  const Workflows = 'query($after: String, $before: String, $first: Int, $last: Int) { workflows(after: $after, before: $before, first: $first, last: $last) { edges { cursor node { id } } pageInfo { endCursor } } }';
  type Page = { workflows: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { endCursor: string | null } } };

  it.each([
    ['a date PostgreSQL cannot hold', cursorOf('-200000-01-01T00:00:00.000Z|wf_x')],
    ['year zero', cursorOf('0000-01-01T00:00:00.000Z|wf_x')],
    ['a day that does not exist', cursorOf('2024-02-31T00:00:00.000Z|wf_x')],
    ['no separator', cursorOf('2024-01-01T00:00:00.000Z')],
    ['no id', cursorOf('2024-01-01T00:00:00.000Z|')],
    ['a NUL in the id', cursorOf('2024-01-01T00:00:00.000Z|wf\u0000')],
    ['garbage', 'not a cursor at all!'],
    ['a very long cursor', 'A'.repeat(100_000)],
  ])('answers a cursor with %s as a client error naming "after"', async (_name, after) => {
    const result = await t.request<Page, object>(Workflows, { after }, key);
    expect(result.status).toBe(200);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^"after" is not a cursor/), extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
  });

  it('names "before" for a bad cursor there, and refuses a negative first as the client\'s input', async () => {
    const before = await t.request<Page, object>(Workflows, { before: cursorOf('-1-01-01|x'), last: 1 }, key);
    expect(before.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^"before"/), extensions: { code: 'BAD_USER_INPUT' } });
    const negative = await t.request<Page, object>(Workflows, { first: -1 }, key);
    expect(negative.errors?.[0]).toMatchObject({ message: expect.stringMatching(/first/), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('pages with the cursors it wrote, and with cursors at the ends of the range it takes', async () => {
    await createWorkflow(t, key, { nodes: [{ id: 't', type: 'trigger' }], edges: [] }, 'second');
    const first = await t.request<Page, object>(Workflows, { first: 1 }, key);
    const next = await t.request<Page, object>(Workflows, { first: 1, after: first.data!.workflows.pageInfo.endCursor }, key);
    expect(next.errors).toBeUndefined();
    expect(next.data!.workflows.edges).toHaveLength(1);
    expect(next.data!.workflows.edges[0]!.node.id).not.toBe(first.data!.workflows.edges[0]!.node.id);

    const oldest = await t.request<Page, object>(Workflows, { after: cursorOf('0001-01-01T00:00:00.000Z|a') }, key);
    expect(oldest).toMatchObject({ status: 200, data: { workflows: { edges: [] } } });
    expect(oldest.errors).toBeUndefined();
    const newest = await t.request<Page, object>(Workflows, { after: cursorOf('9999-12-31T23:59:59.999Z|z') }, key);
    expect(newest.errors).toBeUndefined();
    expect(newest.data!.workflows.edges.length).toBeGreaterThanOrEqual(2);
  });
});

it('logged nothing', () => {
  expect(logged).toEqual([]);
});
