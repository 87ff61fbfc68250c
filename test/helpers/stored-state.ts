// What the database holds, as one comparable value: the row count of every table and the rows of those
// a mutation may change in place. Volatile bookkeeping (lease renewals, a key's lastUsedAt) is left out.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import type { TestDatabase } from './db.js';

export interface StoredState {
  counts: Record<string, number>;
  rows: Record<string, unknown[]>;
}

/** Tables whose rows a refused mutation could change without adding or removing one. */
const inPlace = {
  organizations: sql`select to_jsonb(x) as row from organizations x order by id`,
  api_keys: sql`select to_jsonb(x) - 'last_used_at' as row from api_keys x order by id`,
  workflows: sql`select to_jsonb(x) as row from workflows x order by id`,
  runs: sql`select to_jsonb(x) - 'lease_until' as row from runs x order by id`,
  steps: sql`select to_jsonb(x) as row from steps x order by run_id, node_id`,
  secrets: sql`select to_jsonb(x) as row from secrets x order by organization_id, name`,
};

/** Every table of the public schema with its row count, and the rows that may change in place. */
export async function storedState(database: TestDatabase): Promise<StoredState> {
  const tables = await database.rows<{ name: string }>(
    sql`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    // The migrations' own bookkeeping, and rate limiter state, change on their own.
    if (/drizzle|rate|limit|rlflx/i.test(name)) continue;
    const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(name)}`);
    counts[name] = Number(row!.n);
  }
  const rows: Record<string, unknown[]> = {};
  for (const [name, query] of Object.entries(inPlace)) {
    rows[name] = (await database.rows<{ row: unknown }>(query)).map((r) => r.row);
  }
  return { counts, rows };
}

/**
 * Everything the database holds, as text, for a search for a plaintext: `pg_dump --data-only` on
 * PostgreSQL, every row of every table of the public schema on PGlite. Throws if the secrets table
 * is not in it (a scan that missed it would prove nothing).
 */
export async function storedText(database: TestDatabase): Promise<string> {
  let text: string;
  if (database.url) {
    const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', `--dbname=${database.url}`], { maxBuffer: 256 * 1024 * 1024 });
    text = stdout;
    if (!text.includes('COPY public.secrets')) throw new Error('pg_dump did not dump the secrets table');
  } else {
    const tables = await database.rows<{ name: string }>(
      sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    if (!tables.some((table) => table.name === 'secrets')) throw new Error('no secrets table to scan');
    const parts: string[] = [];
    for (const { name } of tables) {
      const rows = await database.rows<{ row: string }>(sql`select x::text as row from ${sql.identifier(name)} x`);
      parts.push(...rows.map((row) => row.row));
    }
    text = parts.join('\n');
  }
  return text;
}
