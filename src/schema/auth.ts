// Who is calling: an "Authorization: Bearer <secret>" value resolved to an API key or the admin token.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { findApiKeyBySecret, hashSecret } from '../db/queries/api-keys.js';
import type { Auth } from './context.js';
import type { KeyCache } from './key-cache.js';

export { createKeyCache, type KeyCache } from './key-cache.js';

export interface Caller {
  auth: Auth | null;
  adminToken: boolean;
}

export const anonymous: Caller = { auth: null, adminToken: false };

/** The secret of a "Bearer <secret>" header value (scheme case-insensitive), or null. */
export function bearerSecret(authorization: unknown): string | null {
  if (typeof authorization !== 'string') return null;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? null;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Resolves the caller; an unknown, malformed or revoked secret is anonymous (its operations get
 * UNAUTHENTICATED). A found key is cached (see key-cache.ts).
 */
export async function authenticate(
  deps: { config: Config; database: Database; keys: KeyCache },
  authorization: unknown,
): Promise<Caller> {
  const secret = bearerSecret(authorization);
  if (secret === null) return anonymous;
  const { adminToken } = deps.config;
  if (adminToken !== undefined && timingSafeEqual(digest(secret), digest(adminToken))) {
    return { auth: null, adminToken: true };
  }
  const hash = hashSecret(secret);
  const now = Date.now();
  const cached = deps.keys.get(hash, now);
  if (cached) return { auth: cached, adminToken: false };
  const key = await findApiKeyBySecret(deps.database.db, secret);
  if (!key) return anonymous;
  const auth: Auth = { organizationId: key.organizationId, keyId: key.id, role: key.role };
  deps.keys.set(hash, auth, now);
  return { auth, adminToken: false };
}
