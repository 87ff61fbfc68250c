// Secrets of an organization: inserted, replaced, deleted and listed by name, the value only ever
// encrypted (secret-cipher.ts) and only under the key of the store (secrets-key-check.ts); read
// decrypted for use; re-encrypted under a new key all at once.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { secrets, secretsKeyCheck, type SecretRow } from '../schema.js';
import { decrypts, decryptSecret, encryptSecret, SecretDecryptionError } from '../secret-cipher.js';
import { holdSecretsKey, keyCheckUnder, SecretsKeyMismatchError } from './secrets-key-check.js';

/** What a secret shows of itself: never its value. */
export type SecretInfo = Pick<SecretRow, 'name' | 'createdAt' | 'updatedAt'>;

const info = { name: secrets.name, createdAt: secrets.createdAt, updatedAt: secrets.updatedAt };
const inOrganization = (organizationId: string, name: string) =>
  and(eq(secrets.organizationId, organizationId), eq(secrets.name, name));

/**
 * Stores a new secret; null when `organizationId` already has one named `name` (nothing changes).
 * Throws SecretsKeyMismatchError when `key` is not the key of the store.
 */
export function insertSecret(db: Db, key: Buffer, organizationId: string, name: string, value: string): Promise<SecretInfo | null> {
  return db.transaction(async (tx) => {
    await holdSecretsKey(tx, key, 'share');
    const [row] = await tx
      .insert(secrets)
      .values({ organizationId, name, ...encryptSecret(key, { organizationId, name }, value) })
      .onConflictDoNothing()
      .returning(info);
    return row ?? null;
  });
}

/**
 * Replaces the value of a secret of `organizationId`; null when it has none named `name`. Throws
 * SecretsKeyMismatchError when `key` is not the key of the store.
 */
export function updateSecret(db: Db, key: Buffer, organizationId: string, name: string, value: string): Promise<SecretInfo | null> {
  return db.transaction(async (tx) => {
    await holdSecretsKey(tx, key, 'share');
    const [row] = await tx
      .update(secrets)
      .set({ ...encryptSecret(key, { organizationId, name }, value), updatedAt: sql`now()` })
      .where(inOrganization(organizationId, name))
      .returning(info);
    return row ?? null;
  });
}

/** Deletes a secret of `organizationId`; null when it has none named `name`. */
export async function deleteSecret(db: Db, organizationId: string, name: string): Promise<SecretInfo | null> {
  const [row] = await db.delete(secrets).where(inOrganization(organizationId, name)).returning(info);
  return row ?? null;
}

/** The secrets of `organizationId` by name. */
export function listSecrets(db: Db, organizationId: string): Promise<SecretInfo[]> {
  // Byte order ("C"), the same on every database whatever its collation.
  return db.select(info).from(secrets).where(eq(secrets.organizationId, organizationId)).orderBy(sql`${secrets.name} collate "C"`);
}

/**
 * The value of a secret of `organizationId`, or null when it has none named `name`; throws
 * SecretDecryptionError when it does not decrypt with `key`. For the http node; never for an answer.
 */
export async function readSecretValue(db: Db, key: Buffer, organizationId: string, name: string): Promise<string | null> {
  const [row] = await db.select().from(secrets).where(inOrganization(organizationId, name)).limit(1);
  return row ? decryptSecret(key, { organizationId, name }, row) : null;
}

/**
 * The values of the secrets of `organizationId` among `names` that exist and decrypt with `key`, by
 * name, in one statement (what a run redacts from its first step).
 */
export async function readSecretValues(db: Db, key: Buffer, organizationId: string, names: readonly string[]): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  if (names.length === 0) return values;
  const rows = await db.select().from(secrets).where(and(eq(secrets.organizationId, organizationId), inArray(secrets.name, [...names])));
  for (const row of rows) {
    try {
      values.set(row.name, decryptSecret(key, row, row));
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
    }
  }
  return values;
}

/**
 * Re-encrypts every secret (of every organization) from `oldKey` to `newKey` in one transaction: all or
 * nothing. Throws SecretDecryptionError (SecretsKeyMismatchError when `oldKey` is not the store's key),
 * changing nothing, when any value does not decrypt with `oldKey`. Returns how many were re-encrypted.
 */
export function rotateSecretsKey(db: Db, oldKey: Buffer, newKey: Buffer): Promise<number> {
  return db.transaction(async (tx) => {
    // The check row locked first: writers wait, then find the new key is not theirs.
    await holdSecretsKey(tx, oldKey, 'update').catch((error: unknown) => {
      if (!(error instanceof SecretsKeyMismatchError)) throw error;
      throw new SecretsKeyMismatchError('the old key is not the key the stored secrets are encrypted under; nothing was changed');
    });
    // Locked as read: no secret can be changed under the old key meanwhile.
    const rows = await tx.select().from(secrets).orderBy(asc(secrets.organizationId), asc(secrets.name)).for('update');
    const failed = rows.filter((row) => !decrypts(oldKey, row, row));
    if (failed.length > 0) {
      const names = failed.slice(0, 5).map((row) => row.name).join(', ');
      throw new SecretDecryptionError(
        `${failed.length} of ${rows.length} secrets do not decrypt with the old key (${names}${failed.length > 5 ? ', …' : ''}); nothing was changed`,
      );
    }
    for (const row of rows) {
      const place = { organizationId: row.organizationId, name: row.name };
      const value = decryptSecret(oldKey, place, row);
      await tx.update(secrets).set(encryptSecret(newKey, place, value)).where(inOrganization(row.organizationId, row.name));
    }
    await tx.update(secretsKeyCheck).set({ ...keyCheckUnder(newKey), updatedAt: sql`now()` }).where(eq(secretsKeyCheck.id, 1));
    return rows.length;
  });
}
