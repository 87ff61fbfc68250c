// Authentication, roles and tenancy end to end: UNAUTHENTICATED and FORBIDDEN over HTTP and graphql-ws,
// and another organization's ids behaving exactly like ids that do not exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { CancelRun, GetRun, RunEvents, StartRun, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { adminToken, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let admin: string;
let editor: string;
let viewer: string;
let other: string;
let workflowId: string;
let runId: string;

const definition = {
  nodes: [
    { id: 't', type: 'trigger' },
    { id: 'd', type: 'delay', params: { ms: 1 } },
  ],
  edges: [{ source: 't', target: 'd' }],
};

beforeAll(async () => {
  t = await startTestServer();
  admin = (await t.createOrganization()).adminKey;
  editor = await t.createKey(admin, 'EDITOR');
  viewer = await t.createKey(admin, 'VIEWER');
  other = (await t.createOrganization()).adminKey;
  workflowId = await createWorkflow(t, admin, definition);
  runId = await startRun(t, admin, workflowId);
  await watchRun(t, t.wsClient(admin), runId).done;
});

afterAll(async () => {
  await t?.close();
});

const Workflows = graphql(`
  query Workflows {
    workflows(first: 50) { edges { node { id } } }
  }
`);

const GetWorkflow = graphql(`
  query GetWorkflow($id: ID!) {
    workflow(id: $id) { id name }
  }
`);

const CreateOrganizationByKey = graphql(`
  mutation CreateOrganizationByKey($name: String!) {
    createOrganization(name: $name) { __typename ... on Error { message } }
  }
`);

const CreateKey = graphql(`
  mutation CreateKey($role: Role!) {
    createApiKey(name: "k", role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { role } } }
  }
`);

const Rename = graphql(`
  mutation Rename($id: ID!) {
    updateWorkflow(id: $id, input: { name: "renamed" }) {
      __typename
      ... on Workflow { id name }
      ... on Error { message }
    }
  }
`);

const RunUpdatesAll = graphql(`
  subscription RunUpdatesAll {
    runUpdates { id status }
  }
`);

const code = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

/** The error a subscription ends with (graphql-ws gives the GraphQL errors array). */
async function subscriptionError(done: Promise<unknown>): Promise<{ message: string; extensions?: Record<string, unknown> }> {
  const error = await done.then(
    () => {
      throw new Error('subscription completed without an error');
    },
    (e: unknown) => e,
  );
  const first = Array.isArray(error) ? error[0] : error;
  return first as { message: string; extensions?: Record<string, unknown> };
}

describe('over HTTP', () => {
  it('no key and a bad key get UNAUTHENTICATED', async () => {
    expect(code(await t.request(Workflows, {}, null))).toBe('UNAUTHENTICATED');
    expect(code(await t.request(Workflows, {}, 'brd_not-a-key'))).toBe('UNAUTHENTICATED');
    expect(code(await t.request(Workflows, {}, 'garbage'))).toBe('UNAUTHENTICATED');
    const noData = await t.request(Workflows, {}, null);
    expect(noData.data ?? null).toBeNull();
  });

  it('a role too weak gets FORBIDDEN', async () => {
    expect(code(await t.request(StartRun, { workflowId }, viewer))).toBe('FORBIDDEN');
    expect(code(await t.request(CancelRun, { id: runId }, viewer))).toBe('FORBIDDEN');
    expect(code(await t.request(Rename, { id: workflowId }, viewer))).toBe('FORBIDDEN');
    expect(code(await t.request(CreateKey, { role: 'VIEWER' }, editor))).toBe('FORBIDDEN');
    expect(code(await t.request(CreateOrganizationByKey, { name: 'by-key' }, admin))).toBe('FORBIDDEN');
    expect(code(await t.request(CreateOrganizationByKey, { name: 'anonymous' }, null))).toBe('UNAUTHENTICATED');
  });

  it('each role can do what it is for', async () => {
    expect((await t.request(Workflows, {}, viewer)).data?.workflows.edges.length).toBeGreaterThan(0);
    expect((await t.request(GetRun, { id: runId }, viewer)).data?.run?.status).toBe('SUCCEEDED');
    expect((await t.request(Rename, { id: workflowId }, editor)).data?.updateWorkflow).toMatchObject({ name: 'renamed' });
    expect((await t.request(StartRun, { workflowId }, editor)).data?.startRun.__typename).toBe('Run');
    expect((await t.request(CreateKey, { role: 'EDITOR' }, admin)).data?.createApiKey).toMatchObject({
      __typename: 'CreateApiKeyPayload',
      apiKey: expect.stringMatching(/^brd_[A-Za-z0-9_-]{43}$/),
      key: { role: 'EDITOR' },
    });
    const created = await t.request(CreateOrganizationByKey, { name: `by-token-${Date.now()}` }, adminToken);
    expect(created.data?.createOrganization.__typename).toBe('CreateOrganizationPayload');
  });

  it('an organization name is unique', async () => {
    const name = `unique-${Date.now()}`;
    await t.request(CreateOrganizationByKey, { name }, adminToken);
    const again = await t.request(CreateOrganizationByKey, { name }, adminToken);
    expect(again.data?.createOrganization).toMatchObject({ __typename: 'ValidationError', message: expect.stringMatching(/already exists/) });
  });
});

describe('over graphql-ws', () => {
  it('no key and a bad key get UNAUTHENTICATED', async () => {
    for (const key of [null, 'brd_not-a-key']) {
      const feed = t.subscribe(t.wsClient(key), RunEvents, { runId });
      expect(await subscriptionError(feed.done)).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('applies the same limits as HTTP (yoga plugins run over graphql-ws too)', async () => {
    const tooDeep =
      'subscription ($runId: ID!) { runEvents(runId: $runId) { run { workflow { runs { edges { node { workflow { ' +
      'runs { edges { node { workflow { runs { edges { cursor } } } } } } } } } } } } } }';
    const error = await subscriptionError(t.subscribe(t.wsClient(viewer), tooDeep, { runId }).done);
    expect(error.message).toMatch(/depth limit of 12/);
  });

  it('a viewer may subscribe but not mutate', async () => {
    const client = t.wsClient(viewer);
    const events = await watchRun(t, client, runId).done;
    expect(events.at(-1)?.type).toBe('RUN_SUCCEEDED');
    const mutation = t.subscribe(client, StartRun, { workflowId });
    expect(await subscriptionError(mutation.done)).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });
});

describe('between organizations', () => {
  it('queries see nothing of another organization', async () => {
    expect((await t.request(GetWorkflow, { id: workflowId }, other)).data?.workflow).toBeNull();
    expect((await t.request(GetRun, { id: runId }, other)).data?.run).toBeNull();
    expect((await t.request(Workflows, {}, other)).data?.workflows.edges).toEqual([]);
  });

  it('mutations answer as for ids that do not exist', async () => {
    const start = await t.request(StartRun, { workflowId }, other);
    const startMissing = await t.request(StartRun, { workflowId: 'wf_missing' }, other);
    expect(start.data?.startRun.__typename).toBe('NotFoundError');
    expect(start.data?.startRun).toEqual({
      ...startMissing.data?.startRun,
      message: (startMissing.data?.startRun as { message: string }).message.replace('wf_missing', workflowId),
    });
    expect((await t.request(CancelRun, { id: runId }, other)).data?.cancelRun.__typename).toBe('NotFoundError');
    expect((await t.request(Rename, { id: workflowId }, other)).data?.updateWorkflow.__typename).toBe('NotFoundError');
    expect((await t.request(GetWorkflow, { id: workflowId }, admin)).data?.workflow?.name).toBe('renamed');
  });

  it('subscriptions answer as for ids that do not exist, and updates stay in their organization', async () => {
    const client = t.wsClient(other);
    const foreign = await subscriptionError(t.subscribe(client, RunEvents, { runId }).done);
    const missing = await subscriptionError(t.subscribe(client, RunEvents, { runId: 'run_missing' }).done);
    expect(foreign).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(foreign.message).toBe(missing.message.replace('run_missing', runId));

    const updates = t.subscribe(client, RunUpdatesAll, {});
    const ownWorkflow = await createWorkflow(t, other, definition);
    // Until the subscription is seen live, keep running own probes (graphql-ws has no subscribe ack).
    const own: string[] = [];
    while (!updates.items.some((u) => own.includes(u.runUpdates.id))) {
      own.push(await startRun(t, other, ownWorkflow));
      await watchRun(t, client, own.at(-1)!).done;
    }
    const foreignRun = await startRun(t, admin, workflowId);
    await watchRun(t, t.wsClient(admin), foreignRun).done;
    const last = await startRun(t, other, ownWorkflow);
    await updates.until((u) => u.runUpdates.id === last && u.runUpdates.status === 'SUCCEEDED');
    updates.dispose();
    expect(updates.items.map((u) => u.runUpdates.id).every((id) => [...own, last].includes(id))).toBe(true);
  });
});
