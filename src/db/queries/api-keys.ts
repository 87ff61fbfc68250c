// API keys: created with a secret shown once, stored as its sha256; looked up by secret to authenticate;
// listed and revoked per organization; their last use recorded.
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
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

/** The key whose secret this is, or null (also when it was revoked). */
export async function findApiKeyBySecret(db: Db, secret: string): Promise<ApiKeyRow | null> {
  if (!secret.startsWith('brd_') || secret.length > 200) return null;
  const [key] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hashSecret(secret)), isNull(apiKeys.revokedAt)))
    .limit(1);
  return key ?? null;
}

/** The keys of `organizationId`, revoked ones included, oldest first. */
export function listApiKeys(db: Db, organizationId: string): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.organizationId, organizationId))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}

/**
 * Revokes the key `id` of `organizationId` (a key of another organization is not found): null when
 * there is none. Revoking a revoked key changes nothing and returns it.
 */
export async function revokeApiKey(db: Db, organizationId: string, id: string): Promise<ApiKeyRow | null> {
  const [key] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.organizationId, organizationId)))
    .returning();
  return key ?? null;
}

/** Records that the key `id` was used at `at` (never moving lastUsedAt back). */
export async function recordApiKeyUse(db: Db, id: string, at: Date): Promise<void> {
  const time = at.toISOString();
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`greatest(coalesce(${apiKeys.lastUsedAt}, ${time}::timestamptz), ${time}::timestamptz)` })
    .where(eq(apiKeys.id, id));
}
