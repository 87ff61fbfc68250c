// openDb on the driver under test: rows() reads raw SQL alike on both drivers; jsonb is parsed once.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonChunks } from '../../src/db/recordset.js';
import { workflowVersions } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('openDb', () => {
  it('uses the driver the environment asks for', () => {
    expect(database.driver).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
  });

  it('rows() returns the rows of raw SQL as an array, with the same value types on both drivers', async () => {
    const rows = await database.rows<{ n: number; big: string; doc: string; t: string; s: string | null }>(
      sql`select 1::int as n, 2::bigint as big, '{"a": [1]}'::jsonb as doc, 'x' as s,
                 '2026-01-02T03:04:05.678Z'::timestamptz as t
          union all select 2, 3, 'null'::jsonb, null, null`,
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ n: 1, big: '2', doc: '{"a": [1]}', s: 'x' });
    expect(new Date(rows[0]!.t).toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(rows[1]).toMatchObject({ n: 2, doc: 'null', s: null });
  });

  it('gives back a stored JSON string that looks like JSON as that string', async () => {
    await database.db.execute(sql`insert into organizations (id, name) values ('o', 'o')`);
    await database.db.execute(sql`insert into workflows (id, organization_id, name, version) values ('w', 'o', 'w', 1)`);
    await database.db.insert(workflowVersions).values([
      { workflowId: 'w', version: 1, definition: '123' },
      { workflowId: 'w', version: 2, definition: '{"nodes":[]}' },
      { workflowId: 'w', version: 3, definition: { nodes: [{ id: 't' }] } },
    ]);
    const stored = await database.db.select().from(workflowVersions).orderBy(workflowVersions.version);
    expect(stored.map((row) => row.definition)).toEqual(['123', '{"nodes":[]}', { nodes: [{ id: 't' }] }]);
  });

  // On PostgreSQL close() also drops the test database: a second drop would fail.
  it.runIf(process.env.DATABASE_URL)('closes once, however often close() is called', async () => {
    const other = await createTestDatabase();
    const exists = async () =>
      (await database.rows<{ n: number }>(sql`select count(*)::int as n from pg_database where datname = ${other.name}`))[0]!.n;
    expect(await exists()).toBe(1);
    await expect(Promise.all([other.close(), other.close()])).resolves.toEqual([undefined, undefined]);
    await expect(other.close()).resolves.toBeUndefined();
    expect(await exists()).toBe(0);
  });
});

describe('jsonChunks', () => {
  it('splits rows into JSON arrays of bounded size, a larger row alone', () => {
    const rows = [{ a: 1 }, { a: 2 }, { big: 'x'.repeat(50) }, { a: 3 }];
    const chunks = jsonChunks(rows, 20);
    expect(chunks.map((chunk) => JSON.parse(chunk))).toEqual([[{ a: 1 }, { a: 2 }], [{ big: 'x'.repeat(50) }], [{ a: 3 }]]);
    expect(jsonChunks([], 20)).toEqual([]);
  });
});
