// Every mutation of the schema × every kind of caller (ADMIN, EDITOR, VIEWER, no key, a bad key, the
// admin token): the allowed ones succeed, a role too weak gets FORBIDDEN, no or a bad key
// UNAUTHENTICATED, and a refused mutation leaves the database exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { adminToken, startTestServer, type TestServer } from '../helpers/server.js';
import { storedState } from '../helpers/stored-state.js';

type Caller = 'ADMIN' | 'EDITOR' | 'VIEWER' | 'no key' | 'bad key' | 'admin token';
const callers: Caller[] = ['ADMIN', 'EDITOR', 'VIEWER', 'no key', 'bad key', 'admin token'];

interface Entry {
  /** Who may call it: the admin token, or a key of at least this role. */
  allowed: 'admin token' | 'ADMIN' | 'EDITOR';
  /** The mutation, selecting __typename of its result. */
  document: string;
  /** Fresh variables for one call (a run to cancel, a key to revoke, …). */
  variables(): Promise<Record<string, unknown>>;
  /** The result's __typename on success. */
  success: string;
  /** Waits until what a successful call started has settled, so that later snapshots hold still. */
  settle?(variables: Record<string, unknown>, result: { id?: string }): Promise<void>;
}

let t: TestServer;
let admin: string;
const keys = {} as Record<Caller, string | null>;
let counter = 0;
let delayWorkflow: string;
let heldWorkflow: string;
let failingWorkflow: string;
const heldRuns: string[] = [];

const definition = {
  nodes: [
    { id: 't', type: 'trigger' },
    { id: 'd', type: 'delay', params: { ms: 1 } },
  ],
  edges: [{ source: 't', target: 'd' }],
};

const mutation = (field: string, args: string, params: string) =>
  `mutation (${params}) { ${field}(${args}) { __typename ... on Error { message } } }`;

async function request(document: string, variables: Record<string, unknown>, key: string | null) {
  return t.request<Record<string, { __typename: string; id?: string; message?: string } | null>, Record<string, unknown>>(
    document,
    variables,
    key,
  );
}

/** Resolves once the run has a final status. */
async function finished(runId: string): Promise<void> {
  await expect
    .poll(
      async () => (await request('query ($id: ID!) { run(id: $id) { status } }', { id: runId }, admin)).data?.run,
      { timeout: 20_000, interval: 50 },
    )
    .toMatchObject({ status: expect.stringMatching(/^(SUCCEEDED|FAILED|CANCELLED)$/) });
}

/** A run that stays RUNNING until afterAll: its node's request is held at the loopback server. */
async function runningRun(): Promise<string> {
  const runId = await startRun(t, admin, heldWorkflow);
  heldRuns.push(runId);
  await t.slow.waitForRequest((r) => r.tag === `${runId}.held`);
  // Stored as running (the event is published after its commit): nothing more happens until released.
  await watchRun(t, t.wsClient(admin), runId).until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'held');
  return runId;
}

async function failedRun(): Promise<string> {
  const runId = await startRun(t, admin, failingWorkflow);
  const events = await watchRun(t, t.wsClient(admin), runId).done;
  expect(events.at(-1)?.type).toBe('RUN_FAILED');
  return runId;
}

const matrix: Record<string, Entry> = {
  createOrganization: {
    allowed: 'admin token',
    document: mutation('createOrganization', 'name: $name', '$name: String!'),
    variables: async () => ({ name: `roles-org-${++counter}-${process.pid}` }),
    success: 'CreateOrganizationPayload',
  },
  updateOrganizationLimits: {
    allowed: 'ADMIN',
    document: mutation('updateOrganizationLimits', 'input: $input', '$input: OrganizationLimitsInput!'),
    // A new value each time, so that a success changes what is stored; high enough to hold no run back.
    variables: async () => ({ input: { maxConcurrentRuns: 100_000 + ++counter } }),
    success: 'Organization',
  },
  createApiKey: {
    allowed: 'ADMIN',
    document: mutation('createApiKey', 'name: $name, role: $role', '$name: String!, $role: Role!'),
    variables: async () => ({ name: `key ${++counter}`, role: 'VIEWER' }),
    success: 'CreateApiKeyPayload',
  },
  revokeApiKey: {
    allowed: 'ADMIN',
    document: mutation('revokeApiKey', 'id: $id', '$id: ID!'),
    variables: async () => {
      const created = await request(
        'mutation { createApiKey(name: "to revoke", role: VIEWER) { __typename ... on CreateApiKeyPayload { key { id } } } }',
        {},
        admin,
      );
      const payload = created.data?.createApiKey as unknown as { key: { id: string } } | undefined;
      if (!payload?.key) throw new Error(`createApiKey failed: ${JSON.stringify(created)}`);
      return { id: payload.key.id };
    },
    success: 'ApiKey',
  },
  createWorkflow: {
    allowed: 'EDITOR',
    document: mutation('createWorkflow', 'input: $input', '$input: CreateWorkflowInput!'),
    variables: async () => ({ input: { name: `workflow ${++counter}`, definition } }),
    success: 'Workflow',
  },
  updateWorkflow: {
    allowed: 'EDITOR',
    document: mutation('updateWorkflow', 'id: $id, input: $input', '$id: ID!, $input: UpdateWorkflowInput!'),
    variables: async () => ({ id: delayWorkflow, input: { name: `renamed ${++counter}`, definition } }),
    success: 'Workflow',
  },
  startRun: {
    allowed: 'EDITOR',
    variables: async () => ({ workflowId: delayWorkflow }),
    document: 'mutation ($workflowId: ID!) { startRun(workflowId: $workflowId) { __typename ... on Run { id } ... on Error { message } } }',
    success: 'Run',
    settle: (_variables, run) => finished(run.id!),
  },
  cancelRun: {
    allowed: 'EDITOR',
    document: mutation('cancelRun', 'id: $id', '$id: ID!'),
    variables: async () => ({ id: await runningRun() }),
    success: 'Run',
  },
  createSecret: {
    allowed: 'EDITOR',
    document: mutation('createSecret', 'name: $name, value: $value', '$name: String!, $value: String!'),
    variables: async () => ({ name: `ROLES_${++counter}`, value: `value ${counter}` }),
    success: 'Secret',
  },
  updateSecret: {
    allowed: 'EDITOR',
    document: mutation('updateSecret', 'name: $name, value: $value', '$name: String!, $value: String!'),
    variables: async () => ({ name: 'ROLES_KEPT', value: `value ${++counter}` }),
    success: 'Secret',
  },
  deleteSecret: {
    allowed: 'EDITOR',
    document: mutation('deleteSecret', 'name: $name', '$name: String!'),
    variables: async () => {
      const name = `ROLES_GONE_${++counter}`;
      const created = await request(mutation('createSecret', 'name: $name, value: "v"', '$name: String!'), { name }, admin);
      if (created.data?.createSecret?.__typename !== 'Secret') throw new Error(`createSecret failed: ${JSON.stringify(created)}`);
      return { name };
    },
    success: 'Secret',
  },
  retryRun: {
    allowed: 'EDITOR',
    document: mutation('retryRun', 'id: $id', '$id: ID!'),
    variables: async () => ({ id: await failedRun() }),
    success: 'Run',
    settle: (variables) => finished(String(variables.id)),
  },
};

function expected(entry: Entry, caller: Caller): 'success' | 'FORBIDDEN' | 'UNAUTHENTICATED' {
  if (caller === 'no key' || caller === 'bad key') return 'UNAUTHENTICATED';
  if (entry.allowed === 'admin token') return caller === 'admin token' ? 'success' : 'FORBIDDEN';
  if (caller === 'admin token' || caller === 'VIEWER') return 'FORBIDDEN';
  return entry.allowed === 'EDITOR' || caller === 'ADMIN' ? 'success' : 'FORBIDDEN';
}

beforeAll(async () => {
  t = await startTestServer();
  admin = (await t.createOrganization()).adminKey;
  keys.ADMIN = admin;
  keys.EDITOR = await t.createKey(admin, 'EDITOR');
  keys.VIEWER = await t.createKey(admin, 'VIEWER');
  keys['no key'] = null;
  keys['bad key'] = 'braid_0000000000000000000000000000000000000000000';
  keys['admin token'] = adminToken;
  delayWorkflow = await createWorkflow(t, admin, definition, 'delay');
  const kept = await request(mutation('createSecret', 'name: $name, value: "v"', '$name: String!'), { name: 'ROLES_KEPT' }, admin);
  expect(kept.data?.createSecret?.__typename).toBe('Secret');
  heldWorkflow = await createWorkflow(
    t,
    admin,
    {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'held', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.held` } },
      ],
      edges: [{ source: 't', target: 'held' }],
    },
    'held',
  );
  failingWorkflow = await createWorkflow(
    t,
    admin,
    {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'broken', type: 'http', params: { url: `${t.slow.url}/status?code=500&tag=broken` } },
      ],
      edges: [{ source: 't', target: 'broken' }],
    },
    'failing',
  );
});

afterAll(async () => {
  for (const runId of heldRuns) t?.slow.release(`${runId}.held`);
  await t?.close();
});

describe('role × mutation matrix', () => {
  it('has an entry for every mutation of the schema', () => {
    const mutations = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();
    expect(mutations.length).toBeGreaterThan(5);
    expect(Object.keys(matrix).sort()).toEqual(mutations);
  });

  describe.each(Object.keys(matrix))('%s', (name) => {
    const entry = matrix[name]!;
    it.each(callers)('as %s', async (caller) => {
      const variables = await entry.variables();
      const outcome = expected(entry, caller);
      const before = await storedState(t.database);
      const result = await request(entry.document, variables, keys[caller]);
      if (outcome === 'success') {
        expect(result.errors).toBeUndefined();
        expect(result.data?.[name]?.__typename).toBe(entry.success);
        // Something was written: a success that changes nothing would not prove the refusals right.
        expect(await storedState(t.database)).not.toEqual(before);
        await entry.settle?.(variables, result.data![name] as { id?: string });
      } else {
        expect(result.data ?? null).toBeNull();
        expect(result.errors?.map((e) => e.extensions?.code)).toEqual([outcome]);
        expect(await storedState(t.database)).toEqual(before);
      }
    });
  });
});
