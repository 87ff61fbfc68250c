// The encryption of secret values: AES-256-GCM round trips, a fresh IV per value, and a value that
// decrypts only with its key, in its own row (organization and name) and unaltered.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, SecretDecryptionError, type EncryptedValue } from '../../src/db/secret-cipher.js';

const key = randomBytes(32);
const place = { organizationId: 'org_a', name: 'API_TOKEN' };
const value = 'sk_live_ünïcode ✓ 0123456789';

/** `stored` with one bit of `part` flipped. */
function flipped(stored: EncryptedValue, part: keyof EncryptedValue, byte = 0): EncryptedValue {
  const bytes = Buffer.from(stored[part], 'base64');
  bytes[byte] = bytes[byte]! ^ 1;
  return { ...stored, [part]: bytes.toString('base64') };
}

describe('secret cipher', () => {
  it('round trips, and stores nothing of the value in plaintext', () => {
    const stored = encryptSecret(key, place, value);
    expect(decryptSecret(key, place, stored)).toBe(value);
    expect(Buffer.from(stored.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(stored.authTag, 'base64')).toHaveLength(16);
    const everything = Object.values(stored).flatMap((part) => [part, Buffer.from(part, 'base64').toString('latin1')]).join('\n');
    expect(everything).not.toContain('sk_live');
  });

  it('uses a fresh IV each time: the same value twice gives different ciphertexts', () => {
    const first = encryptSecret(key, place, value);
    const second = encryptSecret(key, place, value);
    expect(second.iv).not.toBe(first.iv);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(decryptSecret(key, place, second)).toBe(value);
  });

  it('refuses a ciphertext moved to another name or another organization', () => {
    const stored = encryptSecret(key, place, value);
    expect(() => decryptSecret(key, { ...place, name: 'OTHER' }, stored)).toThrow(SecretDecryptionError);
    expect(() => decryptSecret(key, { ...place, organizationId: 'org_b' }, stored)).toThrow(SecretDecryptionError);
    // The two parts are bound apart: moving a character from one to the other is another place too.
    const split = encryptSecret(key, { organizationId: 'org_a', name: 'B_C' }, value); // org_a + B_C = org_aB_ + C
    expect(() => decryptSecret(key, { organizationId: 'org_aB_', name: 'C' }, split)).toThrow(SecretDecryptionError);
  });

  it('refuses a tampered ciphertext, IV or tag', () => {
    const stored = encryptSecret(key, place, value);
    for (const part of ['ciphertext', 'iv', 'authTag'] as const) {
      expect(() => decryptSecret(key, place, flipped(stored, part)), part).toThrow(SecretDecryptionError);
    }
    expect(() => decryptSecret(key, place, { ...stored, authTag: stored.authTag.slice(0, 8) })).toThrow(SecretDecryptionError);
  });

  it('refuses a wrong key, and names no value or key in the error', () => {
    const stored = encryptSecret(key, place, value);
    let error: unknown;
    try {
      decryptSecret(randomBytes(32), place, stored);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect(String((error as Error).message)).toContain('API_TOKEN');
    expect(String((error as Error).message)).not.toContain('sk_live');
    expect(String((error as Error).message)).not.toContain(key.toString('base64'));
  });

  it('takes only 32-byte keys', () => {
    expect(() => encryptSecret(randomBytes(16), place, value)).toThrow(RangeError);
  });
});
