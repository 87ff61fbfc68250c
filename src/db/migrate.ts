// Applies the generated migrations in drizzle/ with drizzle's migrator: at start and in tests alike.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { MigrationConfig } from 'drizzle-orm/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Database } from './client.js';
import type * as schema from './schema.js';

/** The migrations folder, found from this file so that any working directory will do. */
export const migrationsFolder = fileURLToPath(new URL('../../drizzle/', import.meta.url));

// Any constant shared by every Braid process: the key of the advisory lock taken while migrating.
const migrationLockKey = 7_345_120_001;

/**
 * Brings the database up to the latest migration; a no-op when it is already there.
 * On PostgreSQL, processes starting together take turns through an advisory lock, so that two of
 * them never apply the same migration at once.
 */
export async function migrateDb(database: Database): Promise<void> {
  const config: MigrationConfig = { migrationsFolder };
  if (database.driver === 'pglite') {
    await migratePglite(database.db as PgliteDatabase<typeof schema>, config);
    return;
  }
  // The lock lives on one reserved connection; the migrator may use any other one of the pool.
  const lockConnection = await database.client.reserve();
  try {
    // Waiting behind another process's migration may take longer than the pool's statement_timeout.
    await lockConnection`set statement_timeout = 0`;
    await lockConnection`select pg_advisory_lock(${migrationLockKey})`;
    try {
      await migratePostgres(database.db as PostgresJsDatabase<typeof schema>, config);
    } finally {
      await lockConnection`select pg_advisory_unlock(${migrationLockKey})`;
    }
  } finally {
    lockConnection.release();
  }
}

/** The number of migrations in the migrations folder (read once). */
export function migrationCount(): number {
  journalEntries ??= (JSON.parse(readFileSync(`${migrationsFolder}meta/_journal.json`, 'utf8')) as { entries: unknown[] }).entries.length;
  return journalEntries;
}
let journalEntries: number | undefined;

/** The number of migrations applied to `database` (0 on an empty database). */
export async function appliedMigrationCount(database: Database): Promise<number> {
  const exists = await database.rows<{ table: string | null }>(
    sql`select to_regclass('drizzle.__drizzle_migrations')::text as "table"`,
  );
  if (!exists[0]?.table) return 0;
  const rows = await database.rows<{ count: string }>(sql`select count(*) as count from drizzle.__drizzle_migrations`);
  return Number(rows[0]?.count ?? 0);
}
