// Bad input end to end: every kind of bad definition gets a ValidationError naming its node or edge,
// and nothing is stored; malformed, oversized, too deep or too costly requests get clear errors.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import type { WorkflowDefinitionInput } from '../gql/graphql.js';
import { CreateWorkflow, StartRun, createWorkflow } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  key = (await t.createOrganization()).adminKey;
});

afterAll(async () => {
  await t?.close();
});

const ValidateWorkflow = graphql(`
  query ValidateWorkflow($definition: WorkflowDefinitionInput!) {
    validateWorkflow(definition: $definition) { valid issues { path nodeId message } }
  }
`);

const UpdateWorkflow = graphql(`
  mutation UpdateWorkflow($id: ID!, $input: UpdateWorkflowInput!) {
    updateWorkflow(id: $id, input: $input) {
      __typename
      ... on Workflow { id version definition }
      ... on ValidationError { message issues { path nodeId message } }
      ... on Error { message }
    }
  }
`);

const NodeTypes = graphql(`
  query NodeTypes {
    nodeTypes { type description paramsSchema handles dynamicHandles }
  }
`);

async function storedRows(): Promise<{ workflows: number; versions: number; runs: number }> {
  const [row] = await t.database.rows<{ workflows: number; versions: number; runs: number }>(sql`
    select (select count(*) from workflows)::int as workflows,
           (select count(*) from workflow_versions)::int as versions,
           (select count(*) from runs)::int as runs`);
  return row!;
}

const trigger = { id: 't', type: 'trigger' };
const delay = (id: string) => ({ id, type: 'delay', params: { ms: 1 } });
const condition = { id: 'c', type: 'condition', params: { expression: '$input.ok' } };

const badDefinitions: [string, WorkflowDefinitionInput, { nodeId: string | null; path: string[]; message: RegExp }][] = [
  ['duplicate node ids', { nodes: [trigger, { ...delay('t') }], edges: [] }, { nodeId: 't', path: ['nodes', '1', 'id'], message: /duplicate/ }],
  [
    'an unknown node type',
    { nodes: [trigger, { id: 'x', type: 'teleport' }], edges: [{ source: 't', target: 'x' }] },
    { nodeId: 'x', path: ['nodes', '1', 'type'], message: /unknown type "teleport"/ },
  ],
  [
    'params that do not fit the type',
    { nodes: [trigger, { id: 'h', type: 'http', params: { method: 'GET' } }], edges: [{ source: 't', target: 'h' }] },
    { nodeId: 'h', path: ['nodes', '1', 'params', 'url'], message: /url/ },
  ],
  [
    'an edge to a missing node',
    { nodes: [trigger], edges: [{ source: 't', target: 'ghost' }] },
    { nodeId: 't', path: ['edges', '0', 'target'], message: /"ghost" does not exist/ },
  ],
  [
    'an edge out of a condition without a handle',
    { nodes: [trigger, condition, delay('d')], edges: [{ source: 't', target: 'c' }, { source: 'c', target: 'd' }] },
    { nodeId: 'c', path: ['edges', '1', 'sourceHandle'], message: /must name a sourceHandle/ },
  ],
  [
    'an edge naming a handle the condition does not have',
    {
      nodes: [trigger, condition, delay('d')],
      edges: [{ source: 't', target: 'c' }, { source: 'c', target: 'd', sourceHandle: 'maybe' }],
    },
    { nodeId: 'c', path: ['edges', '1', 'sourceHandle'], message: /"maybe" is not a handle/ },
  ],
  [
    'a handle on an edge of a node without handles',
    { nodes: [trigger, delay('d')], edges: [{ source: 't', target: 'd', sourceHandle: 'true' }] },
    { nodeId: 't', path: ['edges', '0', 'sourceHandle'], message: /no handles/ },
  ],
  [
    'a cycle',
    {
      nodes: [trigger, delay('a'), delay('b')],
      edges: [{ source: 't', target: 'a' }, { source: 'a', target: 'b' }, { source: 'b', target: 'a' }],
    },
    { nodeId: 'a', path: ['edges', '2'], message: /cycle/ },
  ],
  ['no trigger', { nodes: [delay('a')], edges: [] }, { nodeId: null, path: ['nodes'], message: /no trigger/ }],
  [
    'an edge into a trigger',
    { nodes: [trigger, delay('a')], edges: [{ source: 't', target: 'a' }, { source: 'a', target: 't' }] },
    { nodeId: 't', path: ['edges', '1', 'target'], message: /into trigger/ },
  ],
  [
    'an unreachable node',
    { nodes: [trigger, delay('a')], edges: [] },
    { nodeId: 'a', path: ['nodes', '1'], message: /not reachable/ },
  ],
  [
    'an expression that does not parse',
    { nodes: [trigger, { id: 'x', type: 'transform', params: { expression: '$input.(' } }], edges: [{ source: 't', target: 'x' }] },
    { nodeId: 'x', path: ['nodes', '1', 'params', 'expression'], message: /does not parse/ },
  ],
  [
    'a template that does not parse',
    {
      nodes: [trigger, { id: 'h', type: 'http', params: { url: 'http://127.0.0.1/{{ $input.( }}' } }],
      edges: [{ source: 't', target: 'h' }],
    },
    { nodeId: 'h', path: ['nodes', '1', 'params', 'url'], message: /does not parse/ },
  ],
];

describe('bad definitions', () => {
  it.each(badDefinitions)('refuses %s with a ValidationError naming it, storing nothing', async (_name, definition, expected) => {
    const before = await storedRows();
    const result = await t.request(CreateWorkflow, { input: { name: 'bad', definition } }, key);
    const payload = result.data?.createWorkflow;
    expect(payload?.__typename).toBe('ValidationError');
    if (payload?.__typename !== 'ValidationError') throw new Error(`expected a ValidationError, got ${JSON.stringify(result)}`);
    expect(payload.issues).toContainEqual({ nodeId: expected.nodeId, path: expected.path, message: expect.stringMatching(expected.message) });
    expect(payload.message).toMatch(/invalid workflow definition/);
    expect(await storedRows()).toEqual(before);

    const checked = await t.request(ValidateWorkflow, { definition }, key);
    expect(checked.data?.validateWorkflow.valid).toBe(false);
    expect(checked.data?.validateWorkflow.issues).toEqual(payload.issues);
  });

  it('lists every issue at once', async () => {
    const result = await t.request(
      CreateWorkflow,
      {
        input: {
          name: 'many',
          definition: { nodes: [delay('a'), delay('a'), { id: 'x', type: 'nope' }], edges: [{ source: 'a', target: 'ghost' }] },
        },
      },
      key,
    );
    const payload = result.data?.createWorkflow;
    expect(payload).toMatchObject({ __typename: 'ValidationError', issues: expect.any(Array) });
    expect((payload as { issues: unknown[] }).issues.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a definition past the node limit (under the body limit) without storing it', async () => {
    const before = await storedRows();
    const count = t.config.maxDefinitionNodes + 1;
    const nodes = [trigger, ...Array.from({ length: count - 1 }, (_, i) => ({ id: `n${i}`, type: 'trigger' }))];
    const result = await t.request(CreateWorkflow, { input: { name: 'huge', definition: { nodes, edges: [] } } }, key);
    const payload = result.data?.createWorkflow;
    expect(payload).toEqual({
      __typename: 'ValidationError',
      message: expect.stringMatching(/invalid workflow definition/),
      issues: [{ path: ['nodes'], nodeId: null, message: expect.stringMatching(/too many nodes/) }],
    });
    expect(await storedRows()).toEqual(before);
  });

  it('refuses a blank name', async () => {
    const result = await t.request(CreateWorkflow, { input: { name: '  ', definition: { nodes: [trigger], edges: [] } } }, key);
    expect(result.data?.createWorkflow).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input.name'] }] });
  });

  it('an update with a bad definition keeps the current version', async () => {
    const id = await createWorkflow(t, key, { nodes: [trigger], edges: [] });
    const bad = await t.request(UpdateWorkflow, { id, input: { definition: { nodes: [delay('a')], edges: [] } } }, key);
    expect(bad.data?.updateWorkflow.__typename).toBe('ValidationError');
    const good = await t.request(UpdateWorkflow, { id, input: { definition: { nodes: [trigger, delay('a')], edges: [{ source: 't', target: 'a' }] } } }, key);
    expect(good.data?.updateWorkflow).toMatchObject({ __typename: 'Workflow', version: 2 });
  });
});

describe('malformed requests', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body,
    });

  it('answers malformed JSON with a GraphQL error', async () => {
    const response = await post('{"query": "{ nodeTypes { type } }"');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toMatch(/JSON/i);
  });

  it('refuses unknown input fields and wrong enum values before running', async () => {
    const before = await storedRows();
    const unknownField = await t.request(
      CreateWorkflow,
      { input: { name: 'x', definition: { nodes: [{ ...trigger, colour: 'red' } as typeof trigger], edges: [] } } },
      key,
    );
    expect(unknownField.errors?.[0]?.message).toMatch(/"colour" is not defined by type "WorkflowNodeInput"/);
    const wrongEnum = await t.request(
      CreateWorkflow,
      {
        input: {
          name: 'x',
          definition: { nodes: [trigger], edges: [], settings: { errorStrategy: 'SOMETIMES' as 'CONTINUE' } },
        },
      },
      key,
    );
    expect(wrongEnum.errors?.[0]?.message).toMatch(/"SOMETIMES"/);
    expect(await storedRows()).toEqual(before);
  });

  it('answers a 10 MB body with 413 and lives on', async () => {
    const response = await post(JSON.stringify({ query: '{ nodeTypes { type } }', padding: 'x'.repeat(10 * 1024 * 1024) }));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  });

  it('answers a 100,000-node definition with 413 (over the body limit) and stores nothing', async () => {
    const before = await storedRows();
    const nodes = Array.from({ length: 100_000 }, (_, i) => ({ id: `n${i}`, type: 'trigger' }));
    const result = await t.request(CreateWorkflow, { input: { name: 'huge', definition: { nodes, edges: [] } } }, key);
    expect(result.status).toBe(413);
    expect(result.errors?.[0]?.message).toMatch(/too large/);
    expect(await storedRows()).toEqual(before);
  });

  it('refuses a chunked body past the limit while reading it', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(256 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  // Depth counts the fields from the root to the leaf.
  const depth12 =
    '{ workflows { edges { node { runs { edges { node { workflow { runs { edges { node { workflow { id } } } } } } } } } } } }';
  const depth13 =
    '{ run(id: "r") { workflow { runs { edges { node { workflow { runs { edges { node { workflow { runs { edges { cursor } } } } } } } } } } } } }';

  it('refuses queries deeper than 12 levels before running them', async () => {
    const ok = await t.request(depth12, {}, key);
    expect(ok.errors).toBeUndefined();
    const tooDeep = await t.request(depth13, {}, key);
    expect(tooDeep.data ?? null).toBeNull();
    expect(tooDeep.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('refuses queries past the cost limit before running them', async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: nodeTypes { type description paramsSchema handles }`);
    const result = await t.request(`{ ${aliases.join(' ')} }`, {}, key);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.message).toMatch(/cost/i);
  });
});

describe('values PostgreSQL cannot store', () => {
  const GetWorkflow = graphql(`
    query WorkflowById($id: ID!) {
      workflow(id: $id) { id }
    }
  `);

  it('refuses a NUL character in a run input or a definition with a ValidationError, storing nothing', async () => {
    const workflowId = await createWorkflow(t, key, { nodes: [trigger], edges: [] });
    const before = await storedRows();
    const run = await t.request(StartRun, { workflowId, input: { text: 'a\u0000b' } }, key);
    expect(run.data?.startRun).toMatchObject({ __typename: 'ValidationError', message: expect.stringMatching(/invalid input.*NUL/) });
    const definition = { nodes: [{ ...trigger, name: 'x\u0000' }], edges: [] };
    const created = await t.request(CreateWorkflow, { input: { name: 'nul', definition } }, key);
    expect(created.data?.createWorkflow).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['nodes', '0', 'name'], nodeId: 't', message: expect.stringMatching(/NUL character/) }],
    });
    expect(await storedRows()).toEqual(before);
  });

  it('treats an id with a NUL character as an id that does not exist', async () => {
    const result = await t.request(GetWorkflow, { id: 'wf_\u0000' }, key);
    expect(result).toMatchObject({ data: { workflow: null } });
    expect(result.errors).toBeUndefined();
  });
});

describe('catalog', () => {
  it('lists the node types with their params as JSON Schema and their handles', async () => {
    const result = await t.request(NodeTypes, {}, key);
    const types = Object.fromEntries((result.data?.nodeTypes ?? []).map((n) => [n.type, n]));
    expect(Object.keys(types)).toEqual(
      expect.arrayContaining(['trigger', 'http', 'condition', 'switch', 'merge', 'delay', 'transform', 'fail']),
    );
    expect(types.condition).toMatchObject({ handles: ['true', 'false'], dynamicHandles: false });
    expect(types.switch).toMatchObject({ handles: ['default'], dynamicHandles: true });
    expect(types.http?.handles).toBeNull();
    expect(types.http?.paramsSchema).toMatchObject({ type: 'object', properties: { url: expect.anything() } });
    expect((types.http?.paramsSchema as { required?: string[] }).required).toContain('url');
  });

  it('takes JSON written inline in a query, as in the README tour', async () => {
    const workflowId = await createWorkflow(t, key, { nodes: [trigger, { id: 'x', type: 'transform', params: { expression: '$input.n * 2' } }], edges: [{ source: 't', target: 'x' }] });
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: `mutation { startRun(workflowId: "${workflowId}", input: { n: 21, tags: ["a"] }) { ... on Run { id input } } }` }),
    });
    const body = (await response.json()) as { data?: { startRun: { id: string; input: unknown } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.startRun.input).toEqual({ n: 21, tags: ['a'] });
  });

  it('validates a good definition', async () => {
    const result = await t.request(ValidateWorkflow, { definition: { nodes: [trigger, delay('a')], edges: [{ source: 't', target: 'a' }] } }, key);
    expect(result.data?.validateWorkflow).toEqual({ valid: true, issues: [] });
  });
});
