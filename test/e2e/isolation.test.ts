// Two organizations on one server: every list shows only the caller's rows, and every id of the other
// organization behaves exactly like an id that does not exist (and changes nothing). The fields that
// take an id, and the lists, are read from the schema: a new one without a probe here fails the test.
import { getNamedType, isListType, isNonNullType, isObjectType, type GraphQLOutputType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { storedState } from '../helpers/stored-state.js';

let t: TestServer;
/** Organization A: its keys, workflows, runs (finished, failed, and one held RUNNING) and a key id. */
const a = {
  admin: '',
  viewerKeyId: '',
  workflow: '',
  failingWorkflow: '',
  heldWorkflow: '',
  succeeded: '',
  failed: '',
  running: '',
  idempotencyKey: 'same-key',
  runs: [] as string[],
};
/** Organization B, the one asking. */
const b = { admin: '', workflow: '', run: '', keyIds: [] as string[], runs: [] as string[] };
const missing = { run: 'run_doesnotexist00000000', workflow: 'wf_doesnotexist000000000', key: 'key_doesnotexist00000000' };

const delay = {
  nodes: [
    { id: 't', type: 'trigger' },
    { id: 'd', type: 'delay', params: { ms: 1 } },
  ],
  edges: [{ source: 't', target: 'd' }],
};

type Data = Record<string, unknown>;
async function ask(document: string, variables: Record<string, unknown>, key: string) {
  return t.request<Data, Record<string, unknown>>(document, variables, key);
}

/** Every run B starts, for the lists to show. */
async function startRunOfB(idempotencyKey?: string): Promise<string> {
  const run = await startRun(t, b.admin, b.workflow, idempotencyKey === undefined ? {} : { idempotencyKey });
  b.runs.push(run);
  await watchRun(t, t.wsClient(b.admin), run).done;
  return run;
}

/** Runs `subscribe` and resolves once the server holds `count` more runUpdates subscriptions. */
async function subscribed<T>(count: number, subscribe: () => T): Promise<T> {
  const before = t.server.services.pubsub.runs.subscriberCount();
  const feeds = subscribe();
  await expect.poll(() => t.server.services.pubsub.runs.subscriberCount(), { timeout: 10_000 }).toBe(before + count);
  return feeds;
}

beforeAll(async () => {
  t = await startTestServer();
  a.admin = (await t.createOrganization()).adminKey;
  b.admin = (await t.createOrganization()).adminKey;
  const viewer = await ask(
    'mutation { createApiKey(name: "a viewer", role: VIEWER) { __typename ... on CreateApiKeyPayload { key { id } } } }',
    {},
    a.admin,
  );
  a.viewerKeyId = (viewer.data?.createApiKey as { key: { id: string } }).key.id;

  a.workflow = await createWorkflow(t, a.admin, delay, 'a delay');
  a.failingWorkflow = await createWorkflow(
    t,
    a.admin,
    {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'broken', type: 'http', params: { url: `${t.slow.url}/status?code=500&tag=a-broken` } },
      ],
      edges: [{ source: 't', target: 'broken' }],
    },
    'a failing',
  );
  a.heldWorkflow = await createWorkflow(
    t,
    a.admin,
    {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'held', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.held` } },
      ],
      edges: [{ source: 't', target: 'held' }],
    },
    'a held',
  );
  const client = t.wsClient(a.admin);
  a.succeeded = await startRun(t, a.admin, a.workflow, { idempotencyKey: a.idempotencyKey });
  a.failed = await startRun(t, a.admin, a.failingWorkflow);
  expect((await watchRun(t, client, a.succeeded).done).at(-1)?.type).toBe('RUN_SUCCEEDED');
  expect((await watchRun(t, client, a.failed).done).at(-1)?.type).toBe('RUN_FAILED');
  a.running = await startRun(t, a.admin, a.heldWorkflow);
  await watchRun(t, client, a.running).until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'held');
  a.runs.push(a.succeeded, a.failed, a.running);

  b.workflow = await createWorkflow(t, b.admin, delay, 'b delay');
  b.run = await startRunOfB();
  const read = await ask('query ($id: ID!) { run(id: $id) { status } }', { id: b.run }, b.admin);
  expect(read.data?.run).toEqual({ status: 'SUCCEEDED' });
  const keys = await ask('{ apiKeys { id } }', {}, b.admin);
  b.keyIds = (keys.data?.apiKeys as { id: string }[]).map((k) => k.id);
});

afterAll(async () => {
  t?.slow.release(`${a.running}.held`);
  await t?.close();
});

const ids = (connection: unknown) => (connection as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id).sort();

/** The answer to `document` with `id`, the id itself written as <id>: two answers compare equal when alike. */
async function answer(document: string, variables: (id: string) => Record<string, unknown>, id: string, key = b.admin) {
  const result = await ask(document, variables(id), key);
  return JSON.parse(JSON.stringify({ data: result.data ?? null, errors: result.errors ?? [] }).replaceAll(id, '<id>')) as unknown;
}

/** Asks as B with A's id and with a missing id: the answers are the same, and neither wrote anything. */
async function likeMissing(document: string, variables: (id: string) => Record<string, unknown>, ofA: string, missingId: string) {
  const before = await storedState(t.database);
  const withA = await answer(document, variables, ofA);
  const withMissing = await answer(document, variables, missingId);
  expect(await storedState(t.database)).toEqual(before);
  expect(withA).toEqual(withMissing);
  return withA as { data: Data | null; errors: { extensions?: { code?: string } }[] };
}

/** A probe per argument of type ID anywhere in the schema, "Type.field(arg)". */
const idProbes: Record<string, () => Promise<void>> = {
  'Query.run(id)': async () => {
    const result = await likeMissing('query ($id: ID!) { run(id: $id) { id status } }', (id) => ({ id }), a.succeeded, missing.run);
    expect(result).toEqual({ data: { run: null }, errors: [] });
  },
  'Query.workflow(id)': async () => {
    const result = await likeMissing(
      'query ($id: ID!) { workflow(id: $id) { id name runs(first: 10) { edges { node { id } } } } }',
      (id) => ({ id }),
      a.workflow,
      missing.workflow,
    );
    expect(result).toEqual({ data: { workflow: null }, errors: [] });
  },
  'Query.runs(workflowId)': async () => {
    const result = await likeMissing(
      'query ($id: ID) { runs(workflowId: $id, first: 100) { edges { node { id } } } }',
      (id) => ({ id }),
      a.workflow,
      missing.workflow,
    );
    expect(result.data?.runs).toEqual({ edges: [] });
  },
  'Subscription.runEvents(runId)': async () => {
    const events = async (runId: string) => {
      const feed = t.subscribe(t.wsClient(b.admin), 'subscription ($runId: ID!) { runEvents(runId: $runId) { seq type } }', { runId });
      const error = await feed.done.then(
        (items) => ({ items }),
        (e: unknown) => ({ error: JSON.parse(JSON.stringify(e).replaceAll(runId, '<id>')) as unknown }),
      );
      return error;
    };
    const withA = await events(a.succeeded);
    expect(withA).toEqual(await events(missing.run));
    expect(withA).toMatchObject({ error: [{ extensions: { code: 'NOT_FOUND' } }] });
  },
  'Subscription.runUpdates(workflowId)': async () => {
    // B asks for the updates of A's workflow, and of a missing one: neither is refused, neither tells anything.
    const document = 'subscription ($id: ID) { runUpdates(workflowId: $id) { id } }';
    type Update = { runUpdates: { id: string; status: string } };
    const [ofA, ofMissing, own] = await subscribed(3, () => [
      t.subscribe<Update, { id: string }>(t.wsClient(b.admin), document, { id: a.workflow }),
      t.subscribe<Update, { id: string }>(t.wsClient(b.admin), document, { id: missing.workflow }),
      t.subscribe<Update, Record<string, never>>(t.wsClient(b.admin), 'subscription { runUpdates { id status } }'),
    ] as const);
    const run = await startRun(t, a.admin, a.workflow);
    a.runs.push(run);
    await watchRun(t, t.wsClient(a.admin), run).done;
    // B's own run, as the last thing these feeds could be told of.
    const sentinel = await startRunOfB();
    await own.until((u) => u.runUpdates.id === sentinel && u.runUpdates.status === 'SUCCEEDED');
    expect(ofA.items).toEqual([]);
    expect(ofMissing.items).toEqual([]);
    expect(own.items.map((u) => u.runUpdates.id)).not.toContain(run);
    for (const feed of [ofA, ofMissing, own]) feed.dispose();
  },
  'Mutation.cancelRun(id)': async () => {
    const result = await likeMissing(
      'mutation ($id: ID!) { cancelRun(id: $id) { __typename ... on Run { id status } ... on Error { message } } }',
      (id) => ({ id }),
      a.running,
      missing.run,
    );
    expect(result.data?.cancelRun).toMatchObject({ __typename: 'NotFoundError' });
  },
  'Mutation.retryRun(id)': async () => {
    const result = await likeMissing(
      'mutation ($id: ID!) { retryRun(id: $id) { __typename ... on Run { id status } ... on Error { message } } }',
      (id) => ({ id }),
      a.failed,
      missing.run,
    );
    expect(result.data?.retryRun).toMatchObject({ __typename: 'NotFoundError' });
  },
  'Mutation.updateWorkflow(id)': async () => {
    const result = await likeMissing(
      'mutation ($id: ID!, $input: UpdateWorkflowInput!) { updateWorkflow(id: $id, input: $input) { __typename ... on Workflow { id name } ... on Error { message } } }',
      (id) => ({ id, input: { name: 'taken over', definition: delay } }),
      a.workflow,
      missing.workflow,
    );
    expect(result.data?.updateWorkflow).toMatchObject({ __typename: 'NotFoundError' });
  },
  'Mutation.startRun(workflowId)': async () => {
    const result = await likeMissing(
      'mutation ($id: ID!) { startRun(workflowId: $id) { __typename ... on Run { id status } ... on Error { message } } }',
      (id) => ({ id }),
      a.workflow,
      missing.workflow,
    );
    expect(result.data?.startRun).toMatchObject({ __typename: 'NotFoundError' });
  },
  'Mutation.revokeApiKey(id)': async () => {
    const result = await likeMissing(
      'mutation ($id: ID!) { revokeApiKey(id: $id) { __typename ... on Error { message } } }',
      (id) => ({ id }),
      a.viewerKeyId,
      missing.key,
    );
    expect(result.data?.revokeApiKey).toMatchObject({ __typename: 'NotFoundError' });
  },
};

/** A probe per root field that lists the organization's data. */
const listProbes: Record<string, () => Promise<void>> = {
  runs: async () => {
    for (const page of ['first: 100', 'last: 100']) {
      const result = await ask(`{ runs(${page}) { edges { node { id } } } }`, {}, b.admin);
      expect(ids(result.data?.runs), page).toEqual([...b.runs].sort());
    }
    // A's held run is the only RUNNING one, A's failed run the only FAILED one.
    for (const status of ['RUNNING', 'FAILED']) {
      const result = await ask(`{ runs(first: 100, status: ${status}) { edges { node { id } } } }`, {}, b.admin);
      expect(ids(result.data?.runs), status).toEqual([]);
    }
    // And A sees its own: the filter is by organization, not a list that is empty for everyone.
    const own = await ask('{ runs(first: 100) { edges { node { id } } } }', {}, a.admin);
    expect(ids(own.data?.runs)).toEqual([...a.runs].sort());
  },
  workflows: async () => {
    for (const page of ['first: 10', 'last: 10']) {
      const result = await ask(`{ workflows(${page}) { edges { node { id runs(first: 10) { edges { node { id } } } } } } }`, {}, b.admin);
      expect(result.errors).toBeUndefined();
      expect(ids(result.data?.workflows), page).toEqual([b.workflow]);
      const [workflow] = (result.data?.workflows as { edges: { node: { runs: unknown } }[] }).edges;
      expect(ids(workflow!.node.runs)).toEqual([...b.runs].sort());
    }
    const own = await ask('{ workflows(first: 100) { edges { node { id } } } }', {}, a.admin);
    expect(ids(own.data?.workflows)).toEqual([a.workflow, a.failingWorkflow, a.heldWorkflow].sort());
  },
  apiKeys: async () => {
    const result = await ask('{ apiKeys { id } }', {}, b.admin);
    const listed = (result.data?.apiKeys as { id: string }[]).map((k) => k.id);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed).not.toContain(a.viewerKeyId);
    expect(listed.sort()).toEqual([...b.keyIds].sort());
    const own = await ask('{ apiKeys { id } }', {}, a.admin);
    expect((own.data?.apiKeys as { id: string }[]).map((k) => k.id)).toContain(a.viewerKeyId);
  },
  secrets: async () => {
    const create = 'mutation ($name: String!) { createSecret(name: $name, value: "v") { __typename } }';
    expect((await ask(create, { name: 'OF_A' }, a.admin)).data?.createSecret).toEqual({ __typename: 'Secret' });
    expect((await ask(create, { name: 'OF_B' }, b.admin)).data?.createSecret).toEqual({ __typename: 'Secret' });
    const names = async (key: string) => ((await ask('{ secrets { name } }', {}, key)).data?.secrets as { name: string }[]).map((s) => s.name);
    expect(await names(b.admin)).toEqual(['OF_B']);
    expect(await names(a.admin)).toEqual(['OF_A']);
  },
  // The catalog of node types holds no organization's data: the same for everyone.
  nodeTypes: async () => {
    const [mine, theirs] = await Promise.all([ask('{ nodeTypes { type } }', {}, b.admin), ask('{ nodeTypes { type } }', {}, a.admin)]);
    expect((mine.data?.nodeTypes as unknown[]).length).toBeGreaterThan(3);
    expect(mine.data).toEqual(theirs.data);
  },
  // The caller's own organization.
  organization: async () => {
    const [mine, theirs] = await Promise.all([ask('{ organization { id } }', {}, b.admin), ask('{ organization { id } }', {}, a.admin)]);
    expect((mine.data?.organization as { id: string }).id).not.toBe((theirs.data?.organization as { id: string }).id);
  },
};

function isList(type: GraphQLOutputType): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  return isListType(inner) || getNamedType(inner).name.endsWith('Connection');
}

describe('isolation between organizations', () => {
  it('has a probe for every argument of type ID and every root query that lists', () => {
    const idArguments: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args) if (getNamedType(arg.type).name === 'ID') idArguments.push(`${type.name}.${field.name}(${arg.name})`);
      }
    }
    expect(idArguments.length).toBeGreaterThan(5);
    expect(Object.keys(idProbes).sort()).toEqual(idArguments.sort());
    const lists = Object.values(schema.getQueryType()!.getFields())
      .filter((field) => isList(field.type) || field.name === 'organization')
      .map((field) => field.name);
    expect(Object.keys(listProbes).sort()).toEqual(lists.sort());
  });

  describe('an id of the other organization is like one that does not exist', () => {
    it.each(Object.keys(idProbes))('%s', async (name) => {
      await idProbes[name]!();
    });
  });

  describe('a list shows only the caller’s organization', () => {
    it.each(Object.keys(listProbes))('%s', async (name) => {
      await listProbes[name]!();
    });
  });

  it('runUpdates: B hears nothing of A’s runs, A hears all of them', async () => {
    const query = 'subscription { runUpdates { id status } }';
    type Update = { runUpdates: { id: string; status: string } };
    const viewerKey = await t.createKey(b.admin, 'VIEWER');
    const [ofB, ofA, viewerOfB] = await subscribed(3, () => [
      t.subscribe<Update, Record<string, never>>(t.wsClient(b.admin), query),
      t.subscribe<Update, Record<string, never>>(t.wsClient(a.admin), query),
      t.subscribe<Update, Record<string, never>>(t.wsClient(viewerKey), query),
    ] as const);

    const runOfA = await startRun(t, a.admin, a.workflow);
    a.runs.push(runOfA);
    await ofA.until((u) => u.runUpdates.id === runOfA && u.runUpdates.status === 'SUCCEEDED');
    const runOfB = await startRunOfB();
    await ofB.until((u) => u.runUpdates.id === runOfB && u.runUpdates.status === 'SUCCEEDED');
    await viewerOfB.until((u) => u.runUpdates.id === runOfB && u.runUpdates.status === 'SUCCEEDED');

    expect(ofA.items.map((u) => u.runUpdates.id)).not.toContain(runOfB);
    expect(new Set(ofB.items.map((u) => u.runUpdates.id))).toEqual(new Set([runOfB]));
    expect(new Set(viewerOfB.items.map((u) => u.runUpdates.id))).toEqual(new Set([runOfB]));
    for (const feed of [ofA, ofB, viewerOfB]) feed.dispose();
  });

  it('an idempotency key is the organization’s own: B using A’s starts B’s run', async () => {
    const run = await startRunOfB(a.idempotencyKey);
    expect(run).not.toBe(a.succeeded);
    const read = await ask('query ($id: ID!) { run(id: $id) { id workflow { id } } }', { id: run }, b.admin);
    expect(read.data?.run).toEqual({ id: run, workflow: { id: b.workflow } });
  });
});
