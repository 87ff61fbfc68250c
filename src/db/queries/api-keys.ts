// API keys: created with a secret shown once, stored as its sha256; looked up by secret to authenticate.
import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { apiKeys, role as roleEnum, type ApiKeyRow } from '../schema.js';
import { newId } from './ids.js';

export type Role = (typeof roleEnum.enumValues)[number];
export const roles: readonly Role[] = roleEnum.enumValues;

const rank: Record<Role, number> = { VIEWER: 1, EDITOR: 2, ADMIN: 3 };

/** Whether `role` grants at least what `needed` grants (ADMIN > EDITOR > VIEWER). */
export function roleAtLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && rank[role] >= rank[needed];
}

/** The stored form of a secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret: `brd_` and 32 random bytes in base64url. */
export function newSecret(): string {
  return `brd_${randomBytes(32).toString('base64url')}`;
}

/** Creates a key in `organizationId`; the returned `secret` exists nowhere else. */
export async function insertApiKey(
  db: Db,
  organizationId: string,
  name: string,
  role: Role,
): Promise<{ key: ApiKeyRow; secret: string }> {
  const secret = newSecret();
  const [key] = await db
    .insert(apiKeys)
    .values({ id: newId('key'), organizationId, name, role, keyHash: hashSecret(secret) })
    .returning();
  if (!key) throw new Error('insert into api_keys returned no row');
  return { key, secret };
}

/** The key whose secret this is, or null. */
export async function findApiKeyBySecret(db: Db, secret: string): Promise<ApiKeyRow | null> {
  if (!secret.startsWith('brd_') || secret.length > 200) return null;
  const [key] = await db.select().from(apiKeys).where(eq(apiKeys.keyHash, hashSecret(secret))).limit(1);
  return key ?? null;
}
