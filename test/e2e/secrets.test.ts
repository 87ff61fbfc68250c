// Secrets through the API (CONTRACT §11): create, list, update and delete by name (EDITOR; VIEWER lists);
// a value is readable through no field and stored only encrypted; another organization's secrets are
// invisible; bad names, values and duplicates are ValidationErrors that store nothing; without
// SECRETS_KEY the server refuses to store secrets and says so, and with a key the store was rotated away
// from it refuses too (SECRETS_KEY_MISMATCH).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSecretValue, rotateSecretsKey } from '../../src/db/queries/secrets.js';
import { createLogger } from '../../src/observability/logger.js';
import { startTestServer, testSecretsKey, type TestServer } from '../helpers/server.js';
import { storedState, storedText } from '../helpers/stored-state.js';

let t: TestServer;
const a = { id: '', admin: '', editor: '', viewer: '' };
const b = { id: '', admin: '' };

type Answer = { __typename: string; name?: string; createdAt?: string; updatedAt?: string; message?: string; id?: string; issues?: { path: string[] }[] };
const secret = '__typename ... on Secret { name createdAt updatedAt } ... on Error { message }';
const notFound = '... on NotFoundError { id }';
const invalid = '... on ValidationError { issues { path } }';
const createSecret = `mutation ($name: String!, $value: String!) { createSecret(name: $name, value: $value) { ${secret} ${invalid} } }`;
const updateSecret = `mutation ($name: String!, $value: String!) { updateSecret(name: $name, value: $value) { ${secret} ${notFound} ${invalid} } }`;
const deleteSecret = `mutation ($name: String!) { deleteSecret(name: $name) { ${secret} ${notFound} } }`;
const listSecrets = '{ secrets { name createdAt updatedAt } }';

async function call(document: string, variables: Record<string, unknown>, key: string | null, server = t) {
  return server.request<Record<string, Answer>, Record<string, unknown>>(document, variables, key);
}

/** createSecret and updateSecret (of KEPT) each answer a GraphQL error with `code` (no data). */
async function expectWritesRefused(server: TestServer, key: string, code: string, message: string): Promise<void> {
  for (const [document, field] of [
    [createSecret, 'createSecret'],
    [updateSecret, 'updateSecret'],
  ] as const) {
    const result = await call(document, { name: 'KEPT', value: 'refused-value' }, key, server);
    expect(result.data ?? null, field).toBeNull();
    expect(result.errors, field).toMatchObject([{ message: expect.stringContaining(message), extensions: { code } }]);
  }
}

async function names(key: string): Promise<string[]> {
  const result = await t.request<{ secrets: { name: string }[] }, Record<string, never>>(listSecrets, {}, key);
  expect(result.errors).toBeUndefined();
  return result.data!.secrets.map((s) => s.name);
}

beforeAll(async () => {
  t = await startTestServer();
  ({ id: a.id, adminKey: a.admin } = await t.createOrganization());
  ({ id: b.id, adminKey: b.admin } = await t.createOrganization());
  a.editor = await t.createKey(a.admin, 'EDITOR');
  a.viewer = await t.createKey(a.admin, 'VIEWER');
});

afterAll(async () => {
  await t?.close();
});

describe('secrets', () => {
  it('an EDITOR creates, lists, updates and deletes a secret; the value is stored encrypted under SECRETS_KEY', async () => {
    const created = await call(createSecret, { name: 'API_TOKEN', value: 'first-value-1' }, a.editor);
    expect(created.errors).toBeUndefined();
    expect(created.data?.createSecret).toEqual({ __typename: 'Secret', name: 'API_TOKEN', createdAt: expect.any(String), updatedAt: expect.any(String) });
    expect(JSON.stringify(created)).not.toContain('first-value-1');
    expect(await names(a.viewer)).toEqual(['API_TOKEN']);
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'API_TOKEN')).toBe('first-value-1');

    const updated = await call(updateSecret, { name: 'API_TOKEN', value: 'second-value-2' }, a.editor);
    expect(updated.data?.updateSecret).toMatchObject({ __typename: 'Secret', name: 'API_TOKEN', createdAt: created.data?.createSecret?.createdAt });
    expect(Date.parse(updated.data!.updateSecret!.updatedAt!)).toBeGreaterThanOrEqual(Date.parse(created.data!.createSecret!.updatedAt!));
    expect(JSON.stringify(updated)).not.toContain('second-value-2');
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'API_TOKEN')).toBe('second-value-2');

    const deleted = await call(deleteSecret, { name: 'API_TOKEN' }, a.editor);
    expect(deleted.data?.deleteSecret).toMatchObject({ __typename: 'Secret', name: 'API_TOKEN' });
    expect(await names(a.viewer)).toEqual([]);
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'API_TOKEN')).toBeNull();
    expect((await call(deleteSecret, { name: 'API_TOKEN' }, a.editor)).data?.deleteSecret).toMatchObject({ __typename: 'NotFoundError', id: 'API_TOKEN' });
    expect((await call(updateSecret, { name: 'API_TOKEN', value: 'x' }, a.editor)).data?.updateSecret).toMatchObject({ __typename: 'NotFoundError' });
  });

  it('lists by name, sorted, with an ADMIN key too', async () => {
    for (const name of ['ZETA', 'alpha', 'Mid_1']) {
      expect((await call(createSecret, { name, value: `v-${name}` }, a.admin)).data?.createSecret?.__typename).toBe('Secret');
    }
    expect(await names(a.admin)).toEqual(['Mid_1', 'ZETA', 'alpha']);
    for (const name of ['ZETA', 'alpha', 'Mid_1']) await call(deleteSecret, { name }, a.admin);
  });

  it('a VIEWER lists names but is FORBIDDEN to create, update or delete; no key is UNAUTHENTICATED', async () => {
    await call(createSecret, { name: 'VIEWED', value: 'viewed-value' }, a.editor);
    expect(await names(a.viewer)).toEqual(['VIEWED']);
    const before = await storedState(t.database);
    const attempts = [
      [createSecret, { name: 'BY_VIEWER', value: 'v' }],
      [updateSecret, { name: 'VIEWED', value: 'changed by viewer' }],
      [deleteSecret, { name: 'VIEWED' }],
    ] as const;
    for (const [document, variables] of attempts) {
      const result = await call(document, variables, a.viewer);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    for (const [document, variables] of [...attempts, [listSecrets, {}]] as const) {
      const result = await call(document, variables, null);
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
    expect(await storedState(t.database)).toEqual(before);
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'VIEWED')).toBe('viewed-value');
    await call(deleteSecret, { name: 'VIEWED' }, a.editor);
  });

  it('no field returns a value: Secret has only name, createdAt and updatedAt, and no answer holds it', async () => {
    const introspected = await t.request<{ __type: { fields: { name: string }[] } }, Record<string, never>>(
      '{ __type(name: "Secret") { fields { name } } }',
      {},
      a.admin,
    );
    expect(introspected.data?.__type.fields.map((f) => f.name).sort()).toEqual(['createdAt', 'name', 'updatedAt']);
    const value = 'never-shown-0f3a9c';
    const answers = [
      await call(createSecret, { name: 'HIDDEN', value }, a.editor),
      await call(listSecrets, {}, a.admin),
      await call(updateSecret, { name: 'HIDDEN', value }, a.editor),
      await call(createSecret, { name: 'HIDDEN', value }, a.editor),
    ];
    expect(answers.map((answer) => JSON.stringify(answer)).join('\n')).not.toContain(value);
  });

  it('stores a value only encrypted: no column of any table holds its plaintext', async () => {
    const value = 'plaintext-canary-7d1e2b';
    expect((await call(createSecret, { name: 'CANARY', value }, a.editor)).data?.createSecret?.__typename).toBe('Secret');
    const [row] = await t.database.rows<Record<string, string>>(
      sql`select organization_id, name, ciphertext, iv, auth_tag from secrets where organization_id = ${a.id} and name = 'CANARY'`,
    );
    expect(row).toBeDefined();
    for (const column of ['ciphertext', 'iv', 'auth_tag']) {
      expect(row![column]).not.toContain(value);
      expect(Buffer.from(row![column]!, 'base64').toString('latin1')).not.toContain(value);
    }
    const everything = await storedText(t.database);
    expect(everything).toContain('CANARY');
    expect(everything).not.toContain(value);
    expect(everything).not.toContain(Buffer.from(value).toString('base64'));
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'CANARY')).toBe(value);
  });

  it("another organization's secrets are invisible: not listed, and update/delete answer like a missing name", async () => {
    await call(createSecret, { name: 'SHARED_NAME', value: 'of-a' }, a.admin);
    expect(await names(b.admin)).toEqual([]);
    const before = await storedState(t.database);
    for (const [document, variables] of [
      [updateSecret, { value: 'taken over' }],
      [deleteSecret, {}],
    ] as const) {
      const ofA = await call(document, { ...variables, name: 'SHARED_NAME' }, b.admin);
      const missing = await call(document, { ...variables, name: 'NO_SUCH_NAME' }, b.admin);
      expect(JSON.stringify(ofA).replaceAll('SHARED_NAME', '<name>')).toEqual(JSON.stringify(missing).replaceAll('NO_SUCH_NAME', '<name>'));
      expect(Object.values(ofA.data ?? {})[0]).toMatchObject({ __typename: 'NotFoundError' });
    }
    expect(await storedState(t.database)).toEqual(before);
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'SHARED_NAME')).toBe('of-a');
    // A name is unique per organization: B may have its own.
    expect((await call(createSecret, { name: 'SHARED_NAME', value: 'of-b' }, b.admin)).data?.createSecret?.__typename).toBe('Secret');
    expect(await names(b.admin)).toEqual(['SHARED_NAME']);
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'SHARED_NAME')).toBe('of-a');
    expect(await readSecretValue(t.database.db, testSecretsKey, b.id, 'SHARED_NAME')).toBe('of-b');
  });

  it('bad names, bad values and duplicates are ValidationErrors naming the field, and store nothing', async () => {
    await call(createSecret, { name: 'TAKEN', value: 'original' }, a.editor);
    const cases: [Record<string, string>, string][] = [
      [{ name: '', value: 'v' }, 'name'],
      [{ name: '1STARTS_WITH_DIGIT', value: 'v' }, 'name'],
      [{ name: 'HAS-DASH', value: 'v' }, 'name'],
      [{ name: 'HAS SPACE', value: 'v' }, 'name'],
      [{ name: 'ÜMLAUT', value: 'v' }, 'name'],
      [{ name: 'NUL\u0000', value: 'v' }, 'name'],
      [{ name: 'A'.repeat(65), value: 'v' }, 'name'],
      [{ name: 'TAKEN', value: 'replacement' }, 'name'],
      [{ name: 'EMPTY_VALUE', value: '' }, 'value'],
      [{ name: 'NUL_VALUE', value: 'a\u0000b' }, 'value'],
      [{ name: 'BIG_VALUE', value: 'x'.repeat(64 * 1024 + 1) }, 'value'],
      [{ name: 'BIG_UTF8', value: 'é'.repeat(32 * 1024 + 1) }, 'value'],
    ];
    const before = await storedState(t.database);
    for (const [variables, field] of cases) {
      const result = await call(createSecret, variables, a.editor);
      expect(result.errors, variables.name).toBeUndefined();
      expect(result.data?.createSecret, variables.name).toMatchObject({ __typename: 'ValidationError', issues: [{ path: [field] }] });
    }
    expect(await storedState(t.database)).toEqual(before);
    expect(await readSecretValue(t.database.db, testSecretsKey, a.id, 'TAKEN')).toBe('original');
    // The bounds themselves are allowed.
    expect((await call(createSecret, { name: `_${'a'.repeat(63)}`, value: 'x'.repeat(64 * 1024) }, a.editor)).data?.createSecret?.__typename).toBe('Secret');
    // updateSecret checks the value the same way; a name that no secret could have is simply not found.
    expect((await call(updateSecret, { name: 'TAKEN', value: 'a\u0000b' }, a.editor)).data?.updateSecret).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['value'] }],
    });
    expect((await call(updateSecret, { name: 'NUL\u0000', value: 'v' }, a.editor)).data?.updateSecret).toMatchObject({ __typename: 'NotFoundError' });
    expect((await call(deleteSecret, { name: 'NUL\u0000' }, a.editor)).data?.deleteSecret).toMatchObject({ __typename: 'NotFoundError' });
  });
});

describe('without SECRETS_KEY (ADMIN_TOKEN set)', () => {
  it('starts, says so, and refuses createSecret and updateSecret with SECRETS_KEY_MISSING', async () => {
    // The server's own log lines, as an operator reads them.
    const logged: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    const keyless = await startTestServer({ secretsKey: undefined }, { logger: createLogger({ level: 'info', destination: sink }) });
    expect(logged.join('')).toMatch(/SECRETS_KEY is not set/);
    try {
      const admin = (await keyless.createOrganization()).adminKey;
      const before = await storedState(keyless.database);
      await expectWritesRefused(keyless, admin, 'SECRETS_KEY_MISSING', 'SECRETS_KEY is not set');
      expect(await storedState(keyless.database)).toEqual(before);
      // Listing and deleting need no key.
      const listed = await keyless.request<{ secrets: unknown[] }, Record<string, never>>(listSecrets, {}, admin);
      expect(listed.data?.secrets).toEqual([]);
    } finally {
      await keyless.close();
    }
  });
});

describe('a server whose key is no longer the store\'s', () => {
  it('refuses createSecret and updateSecret with SECRETS_KEY_MISMATCH once the store was rotated under it, storing nothing', async () => {
    const rotated = await startTestServer();
    try {
      const admin = (await rotated.createOrganization()).adminKey;
      expect((await call(createSecret, { name: 'KEPT', value: 'kept-value' }, admin, rotated)).data?.createSecret).toMatchObject({ __typename: 'Secret' });
      // Another process rotates the store (npm run secrets:rotate) while this server runs with the old key.
      await rotateSecretsKey(rotated.database.db, testSecretsKey, randomBytes(32));
      const before = await storedState(rotated.database);
      await expectWritesRefused(rotated, admin, 'SECRETS_KEY_MISMATCH', 'not the key the stored secrets are encrypted under');
      expect(await storedState(rotated.database)).toEqual(before);
    } finally {
      await rotated.close();
    }
  });
});
