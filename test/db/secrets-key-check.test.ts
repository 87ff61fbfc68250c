// The store's key check: secrets are only ever written under the key the store's secrets are under. A
// new store takes the first key that writes; another key is refused, changing nothing; a store holding
// secrets but no check yet (older than it) takes a key only if its secrets open with it; a rotation
// replaces the check, and a writer that started with the old key while the rotation held the check is
// refused once it may go on (never writing under the old key). A key made anew at every start takes over.
import { randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkSecretsKey, SecretsKeyMismatchError, takeSecretsKey } from '../../src/db/queries/secrets-key-check.js';
import { insertSecret, readSecretValue, rotateSecretsKey, updateSecret } from '../../src/db/queries/secrets.js';
import { organizations, secrets, secretsKeyCheck } from '../../src/db/schema.js';
import { encryptSecret } from '../../src/db/secret-cipher.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
const organizationId = 'org_key_check';
const keyA = randomBytes(32);
const keyB = randomBytes(32);

const stored = () => database.db.select().from(secrets).orderBy(asc(secrets.name));

beforeEach(async () => {
  database = await createTestDatabase();
  await database.db.insert(organizations).values({ id: organizationId, name: 'key check' });
});

afterEach(async () => {
  await database?.close();
});

/** A deferred: a promise and its resolve. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('the secrets key check', () => {
  it('a new store takes the first key that writes; another key can then neither insert nor update', async () => {
    expect(await database.db.select().from(secretsKeyCheck)).toEqual([]);
    expect(await insertSecret(database.db, keyA, organizationId, 'FIRST', 'first-value')).not.toBeNull();
    expect(await database.db.select().from(secretsKeyCheck)).toHaveLength(1);

    const before = await stored();
    await expect(insertSecret(database.db, keyB, organizationId, 'SECOND', 'second-value')).rejects.toThrow(SecretsKeyMismatchError);
    await expect(updateSecret(database.db, keyB, organizationId, 'FIRST', 'other-value')).rejects.toThrow(SecretsKeyMismatchError);
    await expect(checkSecretsKey(database.db, keyB)).rejects.toThrow(SecretsKeyMismatchError);
    expect(await stored()).toEqual(before);

    await checkSecretsKey(database.db, keyA);
    expect(await updateSecret(database.db, keyA, organizationId, 'FIRST', 'new-value')).not.toBeNull();
    expect(await readSecretValue(database.db, keyA, organizationId, 'FIRST')).toBe('new-value');
  });

  it('a store older than the check takes a key only if its secrets open with it', async () => {
    const place = { organizationId, name: 'OLD' };
    await database.db.insert(secrets).values({ ...place, ...encryptSecret(keyA, place, 'old-value') });

    await expect(checkSecretsKey(database.db, keyB)).rejects.toThrow(SecretsKeyMismatchError);
    expect(await database.db.select().from(secretsKeyCheck)).toEqual([]);

    await checkSecretsKey(database.db, keyA);
    expect(await database.db.select().from(secretsKeyCheck)).toHaveLength(1);
    await expect(insertSecret(database.db, keyB, organizationId, 'NEW', 'new-value')).rejects.toThrow(SecretsKeyMismatchError);
  });

  it('rotation moves the check to the new key: the old key is refused, the new one writes', async () => {
    expect(await insertSecret(database.db, keyA, organizationId, 'TOKEN', 'token-value')).not.toBeNull();
    expect(await rotateSecretsKey(database.db, keyA, keyB)).toBe(1);
    await expect(insertSecret(database.db, keyA, organizationId, 'LATE', 'late-value')).rejects.toThrow(SecretsKeyMismatchError);
    expect(await insertSecret(database.db, keyB, organizationId, 'LATE', 'late-value')).not.toBeNull();
    expect(await readSecretValue(database.db, keyB, organizationId, 'LATE')).toBe('late-value');
  });

  it("a key made anew at every start takes the store over, saying so: earlier secrets were lost with their key", async () => {
    expect(await takeSecretsKey(database.db, keyA)).toBe(false);
    expect(await insertSecret(database.db, keyA, organizationId, 'EARLIER', 'earlier-value')).not.toBeNull();
    expect(await takeSecretsKey(database.db, keyA)).toBe(false);
    expect(await takeSecretsKey(database.db, keyB)).toBe(true);
    expect(await insertSecret(database.db, keyB, organizationId, 'LATER', 'later-value')).not.toBeNull();
    await expect(insertSecret(database.db, keyA, organizationId, 'STALE', 'stale-value')).rejects.toThrow(SecretsKeyMismatchError);
  });

  it('a writer with the old key waits while a rotation holds the check, then is refused: nothing under the old key', async () => {
    expect(await insertSecret(database.db, keyA, organizationId, 'TOKEN', 'token-value')).not.toBeNull();
    const locked = deferred();
    const release = deferred();
    // What a rotation does, held open in the middle: the check locked for update, then replaced.
    const rotation = database.db.transaction(async (tx) => {
      await tx.select().from(secretsKeyCheck).where(eq(secretsKeyCheck.id, 1)).for('update');
      locked.resolve();
      await release.promise;
      const place = { organizationId: '', name: 'secrets key check' };
      await tx.update(secretsKeyCheck).set({ ...encryptSecret(keyB, place, 'braid secrets key check'), updatedAt: sql`now()` });
    });
    await locked.promise;
    let settled = false;
    const writer = insertSecret(database.db, keyA, organizationId, 'RACER', 'racer-value').finally(() => (settled = true));
    writer.catch(() => {});
    if (database.url) {
      // PostgreSQL: the writer's session waits on the check row's lock (PGlite runs one transaction at a time).
      await vi.waitFor(async () => {
        expect(settled, 'the writer went on while the rotation held the check').toBe(false);
        const [waiting] = await database.rows<{ n: number }>(
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
        expect(Number(waiting!.n)).toBe(1);
      });
    }
    expect(settled).toBe(false);
    release.resolve();
    await rotation;
    await expect(writer).rejects.toThrow(SecretsKeyMismatchError);
    expect((await stored()).map((row) => row.name)).toEqual(['TOKEN']);
  });
});
