// The database's upkeep after migrations: every hot table has planner statistics afterwards (PGlite never
// analyzes by itself; on PostgreSQL only tables without statistics are analyzed, so a second start does nothing).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeAfterMigrations, hotTables } from '../../src/db/maintenance.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** reltuples of each hot table: -1 until the table is first analyzed (or vacuumed). */
async function reltuples(): Promise<Record<string, number>> {
  const rows = await database.rows<{ table: string; tuples: number | string }>(sql`
    select relname as "table", reltuples::float8 as tuples from pg_class
    where relname in ('runs', 'steps', 'branches', 'run_events') and relkind = 'r'`);
  return Object.fromEntries(rows.map((row) => [row.table, Number(row.tuples)]));
}

describe('analyzeAfterMigrations', () => {
  it('leaves every hot table with statistics, analyzing on PostgreSQL only those that had none', async () => {
    await database.rows(sql`insert into organizations (id, name) values ('org_m', 'm')`);
    await database.rows(sql`insert into workflows (id, organization_id, name, version) values ('wf_m', 'org_m', 'w', 1)`);
    await database.rows(sql`
      insert into runs (id, organization_id, workflow_id, workflow_version, status)
      select 'run_m' || i, 'org_m', 'wf_m', 1, 'QUEUED' from generate_series(1, 50) i`);
    expect((await reltuples()).runs).toBeLessThan(0);
    const analyzed = await analyzeAfterMigrations(database);
    const after = await reltuples();
    expect(Object.keys(after).sort()).toEqual([...hotTables].sort());
    expect(after.runs).toBe(50);
    for (const table of hotTables) expect(after[table], table).toBeGreaterThanOrEqual(0);
    const postgres = database.driver === 'postgres';
    expect(analyzed.sort()).toEqual(postgres ? [...hotTables].sort() : ['*']);
    // A second start: PostgreSQL finds statistics everywhere and analyzes nothing.
    expect(await analyzeAfterMigrations(database)).toEqual(postgres ? [] : ['*']);
  });
});
