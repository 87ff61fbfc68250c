// Organizations: created with their first ADMIN key in one transaction; looked up by name for dev mode;
// their fair-share limits.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { organizations, type ApiKeyRow, type OrganizationRow } from '../schema.js';
import { findApiKeyBySecret, insertApiKey } from './api-keys.js';
import { newId } from './ids.js';

/** Creates an organization and an ADMIN key named "admin"; null when the name is taken. */
export async function insertOrganization(
  db: Db,
  name: string,
): Promise<{ organization: OrganizationRow; key: ApiKeyRow; secret: string } | null> {
  return db.transaction(async (tx) => {
    const [organization] = await tx
      .insert(organizations)
      .values({ id: newId('org'), name })
      .onConflictDoNothing()
      .returning();
    if (!organization) return null;
    const { key, secret } = await insertApiKey(tx, organization.id, 'admin', 'ADMIN');
    return { organization, key, secret };
  });
}

export async function findOrganization(db: Db, id: string): Promise<OrganizationRow | null> {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, id)).limit(1);
  return row ?? null;
}

/**
 * Dev mode: makes sure the organization `name` exists with an ADMIN key. `secret` is the dev key of an
 * earlier start: it is kept when it still is an ADMIN key of that organization and not revoked;
 * otherwise a new ADMIN key named "dev" is made (`created`), whose secret the caller must keep.
 */
export async function ensureDevOrganization(
  db: Db,
  name: string,
  secret?: string,
): Promise<{ organization: OrganizationRow; secret: string; created: boolean }> {
  return db.transaction(async (tx) => {
    await tx.insert(organizations).values({ id: newId('org'), name }).onConflictDoNothing();
    const [organization] = await tx.select().from(organizations).where(eq(organizations.name, name)).limit(1);
    if (!organization) throw new Error(`organization ${name} missing after insert`);
    const known = secret === undefined ? null : await findApiKeyBySecret(tx, secret);
    if (secret !== undefined && known?.organizationId === organization.id && known.role === 'ADMIN') {
      return { organization, secret, created: false };
    }
    const created = await insertApiKey(tx, organization.id, 'dev', 'ADMIN');
    return { organization, secret: created.secret, created: true };
  });
}

/** An organization's fair-share limits; null: unlimited. */
export interface OrganizationLimits {
  maxConcurrentRuns: number | null;
  maxRunningNodes: number | null;
}

/**
 * Sets the limits given in `patch` (a field left undefined stays as it is; null: unlimited) and
 * returns the organization as stored; null when it is missing.
 */
export async function updateOrganizationLimits(
  db: Db,
  id: string,
  patch: Partial<OrganizationLimits>,
): Promise<OrganizationRow | null> {
  const set: Partial<OrganizationLimits> = {};
  if (patch.maxConcurrentRuns !== undefined) set.maxConcurrentRuns = patch.maxConcurrentRuns;
  if (patch.maxRunningNodes !== undefined) set.maxRunningNodes = patch.maxRunningNodes;
  if (Object.keys(set).length === 0) return findOrganization(db, id);
  const [row] = await db.update(organizations).set(set).where(eq(organizations.id, id)).returning();
  return row ?? null;
}
