// Organizations: created with their first ADMIN key in one transaction; looked up by name for dev mode.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { organizations, type ApiKeyRow, type OrganizationRow } from '../schema.js';
import { insertApiKey } from './api-keys.js';
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
 * Dev mode: makes sure the organization `name` exists and gives it a new ADMIN key named "dev"
 * (secrets are stored hashed, so an earlier key cannot be shown again).
 */
export async function ensureDevOrganization(
  db: Db,
  name: string,
): Promise<{ organization: OrganizationRow; secret: string }> {
  return db.transaction(async (tx) => {
    await tx.insert(organizations).values({ id: newId('org'), name }).onConflictDoNothing();
    const [organization] = await tx.select().from(organizations).where(eq(organizations.name, name)).limit(1);
    if (!organization) throw new Error(`organization ${name} missing after insert`);
    const { secret } = await insertApiKey(tx, organization.id, 'dev', 'ADMIN');
    return { organization, secret };
  });
}
