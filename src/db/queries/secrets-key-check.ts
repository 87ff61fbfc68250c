// Which key the secrets are stored under, checked before anything is written with one: a fixed text
// encrypted under it in `secrets_key_check`. A process holding another key (started with a stale key
// after a rotation, or another deployment's) is refused instead of writing values no other process
// could read. Writers lock the row shared, rotation exclusively, so that no value is written under the
// old key once a rotation has begun.
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { secrets, secretsKeyCheck } from '../schema.js';
import { decrypts, encryptSecret, SecretDecryptionError, type EncryptedValue } from '../secret-cipher.js';

/** The check's place: no organization has an empty id, so no secret's ciphertext can stand for it. */
const checkPlace = { organizationId: '', name: 'secrets key check' };
const checkText = 'braid secrets key check';

/** The key given is not the one the stored secrets are encrypted under. */
export class SecretsKeyMismatchError extends SecretDecryptionError {
  override name = 'SecretsKeyMismatchError';
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The check under `key`, as stored. */
export const keyCheckUnder = (key: Buffer): EncryptedValue => encryptSecret(key, checkPlace, checkText);

/**
 * Within `tx`: throws SecretsKeyMismatchError unless `key` is the key of the store, and holds the check
 * row (`share` for a writer, `update` for a rotation) until `tx` ends. A store without a check yet
 * (new, or older than it) takes `key`'s, provided its first stored secret, if any, opens with `key`.
 */
export async function holdSecretsKey(tx: Tx, key: Buffer, lock: 'share' | 'update'): Promise<void> {
  const read = () => tx.select().from(secretsKeyCheck).where(eq(secretsKeyCheck.id, 1)).for(lock);
  let [row] = await read();
  if (!row) {
    const [first] = await tx.select().from(secrets).orderBy(asc(secrets.organizationId), asc(secrets.name)).limit(1);
    if (first && !decrypts(key, first, first)) throw mismatch();
    await tx.insert(secretsKeyCheck).values({ id: 1, ...keyCheckUnder(key) }).onConflictDoNothing();
    // Another process may have written its check meanwhile: the one stored is the one that counts.
    [row] = await read();
  }
  if (!row || !decrypts(key, checkPlace, row)) throw mismatch();
}

/** Throws SecretsKeyMismatchError unless `key` is the key of the store (which takes it when it has none). */
export function checkSecretsKey(db: Db, key: Buffer): Promise<void> {
  return db.transaction((tx) => holdSecretsKey(tx, key, 'share'));
}

/**
 * Makes `key` the key of the store whatever it was (a key made anew at every start, which no earlier
 * secret can be read with anyway); true when it replaced another key's check.
 */
export async function takeSecretsKey(db: Db, key: Buffer): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(secretsKeyCheck).where(eq(secretsKeyCheck.id, 1)).for('update');
    if (row && decrypts(key, checkPlace, row)) return false;
    const check = { ...keyCheckUnder(key), updatedAt: sql`now()` };
    await tx.insert(secretsKeyCheck).values({ id: 1, ...check }).onConflictDoUpdate({ target: secretsKeyCheck.id, set: check });
    return row !== undefined;
  });
}

const mismatch = () =>
  new SecretsKeyMismatchError('the key given is not the key the stored secrets are encrypted under (was the key rotated, or is it another deployment\'s?)');
