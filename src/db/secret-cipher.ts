// Encryption of secret values: AES-256-GCM with node's crypto, a fresh 12-byte IV per
// value, and the organization id and secret name bound as associated data, so that a ciphertext moved
// to another row or organization does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A value as stored: each part base64. */
export interface EncryptedValue {
  ciphertext: string;
  iv: string;
  authTag: string;
}

/** Where a value belongs; both are authenticated with it. */
export interface SecretPlace {
  organizationId: string;
  name: string;
}

/** A stored value does not decrypt: another key, another row, or altered bytes. */
export class SecretDecryptionError extends Error {
  override name = 'SecretDecryptionError';
}

const ivBytes = 12;

function associatedData(place: SecretPlace): Buffer {
  // JSON keeps the two apart: ("a", "b_c") and ("a_b", "c") bind different bytes.
  return Buffer.from(JSON.stringify([place.organizationId, place.name]), 'utf8');
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new RangeError(`a secrets key is 32 bytes, not ${key.length}`);
}

/** Encrypts `value` for `place` under `key` (32 bytes) with a new random IV. */
export function encryptSecret(key: Buffer, place: SecretPlace, value: string): EncryptedValue {
  checkKey(key);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(place));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { ciphertext: ciphertext.toString('base64'), iv: iv.toString('base64'), authTag: cipher.getAuthTag().toString('base64') };
}

/**
 * The value stored for `place`, or throws SecretDecryptionError (never with the value or key in it)
 * when the key, the place or any byte differs from what it was encrypted with.
 */
export function decryptSecret(key: Buffer, place: SecretPlace, stored: EncryptedValue): string {
  checkKey(key);
  const iv = Buffer.from(stored.iv, 'base64');
  const authTag = Buffer.from(stored.authTag, 'base64');
  if (iv.length !== ivBytes || authTag.length !== 16) {
    throw new SecretDecryptionError(`secret "${place.name}" is stored malformed`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(associatedData(place));
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(stored.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new SecretDecryptionError(`secret "${place.name}" does not decrypt with this key (another key, or altered)`, { cause: error });
  }
}

/** Whether the value stored for `place` decrypts with `key`. */
export function decrypts(key: Buffer, place: SecretPlace, stored: EncryptedValue): boolean {
  try {
    decryptSecret(key, place, stored);
    return true;
  } catch (error) {
    if (error instanceof SecretDecryptionError) return false;
    throw error;
  }
}
