// Migrations apply with migrateDb on the driver under test, once, and leave the tables Braid needs.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Database } from '../../src/db/client.js';
import { appliedMigrationCount, migrateDb, migrationsFolder } from '../../src/db/migrate.js';
import { organizations } from '../../src/db/schema.js';
import { createTestDatabase } from '../helpers/db.js';

const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
  entries: unknown[];
};
const usingPostgres = Boolean(process.env.DATABASE_URL);
const opened: Database[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.close()));
});

async function tableNames(database: Database): Promise<string[]> {
  const rows = await database.rows<{ name: string }>(
    sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  return rows.map((row) => row.name);
}

describe('migrateDb', () => {
  it(`applies every migration to an empty database (${usingPostgres ? 'postgres' : 'pglite'}), once`, async () => {
    const database = await createTestDatabase({ migrate: false });
    opened.push(database);
    expect(database.driver).toBe(usingPostgres ? 'postgres' : 'pglite');
    expect(await appliedMigrationCount(database)).toBe(0);

    await migrateDb(database);
    await migrateDb(database);

    expect(await appliedMigrationCount(database)).toBe(journal.entries.length);
    expect(await tableNames(database)).toEqual(
      expect.arrayContaining([
        ...['organizations', 'api_keys', 'workflows', 'workflow_versions'],
        ...['runs', 'steps', 'branches', 'run_events'],
      ]),
    );
  });

  it('gives test databases that start migrated and empty', async () => {
    const database = await createTestDatabase();
    opened.push(database);
    expect(await appliedMigrationCount(database)).toBe(journal.entries.length);
    expect(await database.db.select().from(organizations)).toEqual([]);
  });

  it.runIf(usingPostgres)('lets processes starting together migrate one after the other', async () => {
    const empty = await createTestDatabase({ migrate: false });
    opened.push(empty);
    const others = await Promise.all([1, 2, 3].map(() => openDb({ databaseUrl: empty.url, dataDir: 'memory://' })));
    opened.push(...others);

    await Promise.all(others.map((database) => migrateDb(database)));

    expect(await appliedMigrationCount(empty)).toBe(journal.entries.length);
  });

  it.skipIf(usingPostgres)('keeps a PGlite data directory across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'braid-pglite-'));
    try {
      const first = await openDb({ dataDir: join(dataDir, 'nested') });
      await migrateDb(first);
      await first.db.insert(organizations).values({ id: 'o1', name: 'kept' });
      await first.close();

      const second = await openDb({ dataDir: join(dataDir, 'nested') });
      opened.push(second);
      await migrateDb(second);
      expect(await appliedMigrationCount(second)).toBe(journal.entries.length);
      expect(await second.db.select({ name: organizations.name }).from(organizations)).toEqual([{ name: 'kept' }]);
    } finally {
      await Promise.all(opened.splice(0).map((database) => database.close()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
