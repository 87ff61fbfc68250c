// Rotation of the secrets key (rotateSecretsKey, the core of `npm run secrets:rotate`): every value is
// re-encrypted under the new key in one transaction, or, when any value does not decrypt with the old
// key, nothing changes at all.
import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSecret, readSecretValue, rotateSecretsKey } from '../../src/db/queries/secrets.js';
import { organizations, secrets } from '../../src/db/schema.js';
import { encryptSecret, SecretDecryptionError } from '../../src/db/secret-cipher.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const values = [
  { organizationId: 'org_rot_a', name: 'TOKEN', value: 'a-token-value' },
  { organizationId: 'org_rot_a', name: 'PASSWORD', value: 'a-password-value' },
  { organizationId: 'org_rot_b', name: 'TOKEN', value: 'b-token-value' },
];

const rows = () => database.db.select().from(secrets).orderBy(asc(secrets.organizationId), asc(secrets.name));

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(organizations).values([
    { id: 'org_rot_a', name: 'rotation a' },
    { id: 'org_rot_b', name: 'rotation b' },
  ]);
  for (const { organizationId, name, value } of values) {
    expect(await insertSecret(database.db, oldKey, organizationId, name, value)).not.toBeNull();
  }
});

afterAll(async () => {
  await database?.close();
});

describe('rotateSecretsKey', () => {
  it('refuses a wrong old key and changes nothing', async () => {
    const before = await rows();
    await expect(rotateSecretsKey(database.db, randomBytes(32), newKey)).rejects.toThrow(SecretDecryptionError);
    expect(await rows()).toEqual(before);
  });

  it('refuses when one value does not decrypt with the old key, leaving the others as they were too', async () => {
    // Written under another key behind the store's back (insertSecret refuses a key that is not the store's).
    const place = { organizationId: 'org_rot_b', name: 'STRAY' };
    await database.db.insert(secrets).values({ ...place, ...encryptSecret(randomBytes(32), place, 'under another key') });
    const before = await rows();
    await expect(rotateSecretsKey(database.db, oldKey, newKey)).rejects.toThrow(/1 of 4 secrets do not decrypt.*STRAY.*nothing was changed/);
    expect(await rows()).toEqual(before);
    for (const { organizationId, name, value } of values) {
      expect(await readSecretValue(database.db, oldKey, organizationId, name)).toBe(value);
    }
    await database.db.delete(secrets).where(and(eq(secrets.organizationId, 'org_rot_b'), eq(secrets.name, 'STRAY')));
  });

  it('re-encrypts every value under the new key: correct under it, no longer readable with the old key', async () => {
    const before = await rows();
    expect(before).toHaveLength(values.length);
    expect(await rotateSecretsKey(database.db, oldKey, newKey)).toBe(values.length);
    const after = await rows();
    for (const { organizationId, name, value } of values) {
      expect(await readSecretValue(database.db, newKey, organizationId, name)).toBe(value);
      await expect(readSecretValue(database.db, oldKey, organizationId, name)).rejects.toThrow(SecretDecryptionError);
    }
    after.forEach((row, index) => {
      const old = before[index]!;
      expect([row.organizationId, row.name, row.createdAt]).toEqual([old.organizationId, old.name, old.createdAt]);
      expect(row.ciphertext).not.toBe(old.ciphertext);
      expect(row.iv).not.toBe(old.iv);
    });
    // The old key rotates nothing any more.
    await expect(rotateSecretsKey(database.db, oldKey, randomBytes(32))).rejects.toThrow(SecretDecryptionError);
    expect(await rows()).toEqual(after);
  });

  it('rotates an empty store to a count of 0', async () => {
    const empty = await createTestDatabase();
    try {
      expect(await rotateSecretsKey(empty.db, oldKey, newKey)).toBe(0);
    } finally {
      await empty.close();
    }
  });
});
