// Planner statistics of the hot tables: none taken while a table is still small (they would be frozen
// there on PGlite, and the hot prepared statements planned from them), taken once it has grown, and on
// PGlite taken again as it grows (PostgreSQL's autovacuum does that there).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeStale, hotTables } from '../../src/db/maintenance.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await database.rows(sql`insert into organizations (id, name) values ('org_m', 'm')`);
  await database.rows(sql`insert into workflows (id, organization_id, name, version) values ('wf_m', 'org_m', 'w', 1)`);
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

async function addRuns(from: number, count: number): Promise<void> {
  await database.rows(sql`
    insert into runs (id, organization_id, workflow_id, workflow_version, status)
    select 'run_m' || i, 'org_m', 'wf_m', 1, 'QUEUED' from generate_series(${from}::int, ${from + count - 1}::int) i`);
}

describe('analyzeStale', () => {
  it('leaves small tables without statistics, analyzes a grown one once, and on PGlite again once it grew by a fifth', async () => {
    await addRuns(1, 50);
    expect(await analyzeStale(database)).toEqual([]);
    expect((await reltuples()).runs).toBeLessThan(0);

    await addRuns(51, 2_950); // well past 10 pages
    expect(await analyzeStale(database)).toEqual(['runs']);
    const after = await reltuples();
    expect(after.runs).toBe(3_000);
    for (const table of hotTables.filter((t) => t !== 'runs')) expect(after[table], table).toBeLessThan(0);
    // Nothing new: nothing to do.
    expect(await analyzeStale(database)).toEqual([]);

    await addRuns(3_001, 200); // +7 %: not yet
    expect(await analyzeStale(database)).toEqual([]);
    await addRuns(3_201, 1_800); // +67 % in all
    const pglite = database.driver === 'pglite';
    expect(await analyzeStale(database)).toEqual(pglite ? ['runs'] : []);
    expect((await reltuples()).runs).toBe(pglite ? 5_000 : 3_000);
  });
});
