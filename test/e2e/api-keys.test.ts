// API keys (CONTRACT §6): apiKeys and revokeApiKey for ADMIN only and per organization, lastUsedAt, and a
// revoked key refused at once, over HTTP and new sockets, with its open sockets (4403) and SSE streams ended.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from '../gql/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ApiKeys = graphql(`
  query ApiKeys {
    apiKeys { id name role createdAt lastUsedAt revokedAt }
  }
`);

const RevokeApiKey = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      __typename
      ... on ApiKey { id name role revokedAt }
      ... on NotFoundError { missingId: id }
      ... on Error { message }
    }
  }
`);

const NewKey = graphql(`
  mutation NewKey($name: String!, $role: Role!) {
    createApiKey(name: $name, role: $role) { __typename ... on CreateApiKeyPayload { apiKey key { id } } }
  }
`);

const Organization = graphql(`
  query KeyOrganization {
    organization { id }
  }
`);

let t: TestServer;
let admin: string;
let otherAdmin: string;

beforeAll(async () => {
  t = await startTestServer();
  admin = (await t.createOrganization()).adminKey;
  otherAdmin = (await t.createOrganization()).adminKey;
});

afterAll(async () => {
  await t?.close();
});

const code = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

let counter = 0;
/** A new key of `role` in the organization of `adminKey`: its id, secret and name. */
async function newKey(adminKey: string, role: 'ADMIN' | 'EDITOR' | 'VIEWER') {
  const name = `key-${++counter}`;
  const result = await t.request(NewKey, { name, role }, adminKey);
  const payload = result.data?.createApiKey;
  if (payload?.__typename !== 'CreateApiKeyPayload') throw new Error(`createApiKey failed: ${JSON.stringify(result)}`);
  return { id: payload.key.id, secret: payload.apiKey, name };
}

async function listed(adminKey: string) {
  const result = await t.request(ApiKeys, {}, adminKey);
  if (!result.data) throw new Error(`apiKeys failed: ${JSON.stringify(result)}`);
  return result.data.apiKeys;
}

/** A graphql-ws client whose socket is open and acknowledged, and the promise of its close code. */
async function openSocket(url: string, key: string): Promise<{ client: Client; closed: Promise<number> }> {
  let closedWith!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (closedWith = resolve));
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {}, // the close is awaited through `closed`
    on: { connected: () => connected(), closed: (event) => closedWith((event as { code: number }).code) },
  });
  await ready;
  return { client, closed };
}

/** Resolves with `value()` once it satisfies `done`, polling until `ms` have passed (then throws). */
async function within<T>(ms: number, value: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const current = await value();
    if (done(current)) return current;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('apiKeys', () => {
  it("lists the organization's keys, never their secrets", async () => {
    const editor = await newKey(admin, 'EDITOR');
    const keys = await listed(admin);
    expect(keys.map((key) => key.name)).toEqual(expect.arrayContaining(['admin', editor.name]));
    expect(keys.find((key) => key.id === editor.id)).toMatchObject({ role: 'EDITOR', revokedAt: null });
    expect(JSON.stringify(keys)).not.toContain(editor.secret);
    expect(JSON.stringify(keys)).not.toContain(editor.secret.slice(4, 20));
    const fields = await t.request('{ __type(name: "ApiKey") { fields { name } } }', {}, admin);
    expect((fields.data as { __type: { fields: { name: string }[] } }).__type.fields.map((f) => f.name).sort()).toEqual(
      ['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role'],
    );
  });

  it('is for ADMIN only', async () => {
    const editor = await newKey(admin, 'EDITOR');
    const viewer = await newKey(admin, 'VIEWER');
    expect(code(await t.request(ApiKeys, {}, editor.secret))).toBe('FORBIDDEN');
    expect(code(await t.request(ApiKeys, {}, viewer.secret))).toBe('FORBIDDEN');
    expect(code(await t.request(ApiKeys, {}, null))).toBe('UNAUTHENTICATED');
    expect((await t.request(ApiKeys, {}, null)).data ?? null).toBeNull();
  });

  it("sees nothing of another organization's keys", async () => {
    const ours = await newKey(admin, 'VIEWER');
    const theirs = await listed(otherAdmin);
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.map((key) => key.id)).not.toContain(ours.id);
    const mine = await listed(admin);
    expect(mine.map((key) => key.id)).toContain(ours.id);
    expect(mine.map((key) => key.id).filter((id) => theirs.some((key) => key.id === id))).toEqual([]);
  });

  it('shows when a key was last used', async () => {
    const viewer = await newKey(admin, 'VIEWER');
    expect((await listed(admin)).find((key) => key.id === viewer.id)?.lastUsedAt).toBeNull();
    const before = Date.now();
    expect((await t.request(Organization, {}, viewer.secret)).data?.organization.id).toBeTruthy();
    const used = await within(5000, () => listed(admin), (keys) => keys.find((key) => key.id === viewer.id)?.lastUsedAt != null);
    const at = Date.parse(used.find((key) => key.id === viewer.id)!.lastUsedAt as string);
    expect(at).toBeGreaterThanOrEqual(before - 5);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});

describe('revokeApiKey', () => {
  it('is for ADMIN only, and a refused attempt revokes nothing', async () => {
    const target = await newKey(admin, 'VIEWER');
    const editor = await newKey(admin, 'EDITOR');
    const viewer = await newKey(admin, 'VIEWER');
    expect(code(await t.request(RevokeApiKey, { id: target.id }, editor.secret))).toBe('FORBIDDEN');
    expect(code(await t.request(RevokeApiKey, { id: target.id }, viewer.secret))).toBe('FORBIDDEN');
    expect(code(await t.request(RevokeApiKey, { id: target.id }, null))).toBe('UNAUTHENTICATED');
    expect((await listed(admin)).find((key) => key.id === target.id)?.revokedAt).toBeNull();
    expect((await t.request(Organization, {}, target.secret)).data?.organization.id).toBeTruthy();
  });

  it("answers another organization's key as a missing one and leaves it working", async () => {
    const ours = await newKey(admin, 'VIEWER');
    const foreign = await t.request(RevokeApiKey, { id: ours.id }, otherAdmin);
    const missing = await t.request(RevokeApiKey, { id: 'key_missing' }, otherAdmin);
    expect(foreign.data?.revokeApiKey).toMatchObject({ __typename: 'NotFoundError', missingId: ours.id });
    expect(foreign.data?.revokeApiKey).toEqual({
      ...missing.data?.revokeApiKey,
      missingId: ours.id,
      message: (missing.data?.revokeApiKey as { message: string }).message.replace('key_missing', ours.id),
    });
    expect((await listed(admin)).find((key) => key.id === ours.id)?.revokedAt).toBeNull();
    expect((await t.request(Organization, {}, ours.secret)).data?.organization.id).toBeTruthy();
  });

  it('refuses the key at once over HTTP and new sockets, and closes its sockets and SSE streams', async () => {
    const key = await newKey(admin, 'VIEWER');
    const bystander = await newKey(admin, 'VIEWER');
    // Used first, so that the key is cached.
    expect((await t.request(Organization, {}, key.secret)).data?.organization.id).toBeTruthy();
    const socket = await openSocket(t.wsUrl, key.secret);
    const other = await openSocket(t.wsUrl, bystander.secret);
    const stream = await openStream(key.secret);
    expect(t.server.services.streams.open).toBeGreaterThan(0);

    const revoked = await t.request(RevokeApiKey, { id: key.id }, admin);
    expect(revoked.data?.revokeApiKey).toMatchObject({ __typename: 'ApiKey', id: key.id, revokedAt: expect.any(String) });

    expect(code(await t.request(Organization, {}, key.secret))).toBe('UNAUTHENTICATED');
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 1000).unref());
    expect(await Promise.race([socket.closed, late])).toBe(4403);
    expect(await stream.ended).toBe(true);
    // Its subscription ended on the server too (no stream left open behind the cut connection).
    await within(2000, async () => t.server.services.streams.open, (open) => open === 0);
    const fresh = t.subscribe(t.wsClient(key.secret), Organization, {});
    await expect(fresh.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);

    // The others go on.
    expect((await t.request(Organization, {}, bystander.secret)).data?.organization.id).toBeTruthy();
    const still = t.subscribe(other.client, Organization, {});
    expect((await still.done)[0]?.organization.id).toBeTruthy();
    await other.client.dispose();

    // Listed with revokedAt; revoking again changes nothing.
    const entry = (await listed(admin)).find((k) => k.id === key.id);
    expect(entry?.revokedAt).toBe((revoked.data?.revokeApiKey as { revokedAt: string }).revokedAt);
    const again = await t.request(RevokeApiKey, { id: key.id }, admin);
    expect(again.data?.revokeApiKey).toMatchObject({ __typename: 'ApiKey', revokedAt: entry?.revokedAt });
  });
});

/**
 * A runUpdates subscription over SSE with `key`, once its response has begun; `ended` resolves true
 * when the stream ends (the server cut it), false if it is still open 5 s later.
 */
async function openStream(key: string): Promise<{ ended: Promise<boolean> }> {
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: 'subscription { runUpdates { id } }' }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = response.body!.getReader();
  const ended = (async () => {
    const timeout = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 5000).unref());
    for (;;) {
      const read = await Promise.race([reader.read().then((r) => (r.done ? 'ended' : 'data'), () => 'ended' as const), timeout]);
      if (read === 'open') {
        await reader.cancel();
        return false;
      }
      if (read === 'ended') return true;
    }
  })();
  return { ended };
}
