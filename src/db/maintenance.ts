// The database's own upkeep: planner statistics after migrations and after large deletions, PGlite's
// checkpoints (it has no background checkpointer or autovacuum), and a cheap estimate of the stored runs.
import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** The tables every run writes to: their statistics steer the hot queries. */
export const hotTables = ['runs', 'steps', 'branches', 'run_events'] as const;

/**
 * After migrations. PGlite never analyzes by itself: ANALYZE every table. PostgreSQL leaves this to
 * autovacuum, except for hot tables that have no statistics yet (never analyzed, e.g. a fresh or
 * restored database), analyzed now. Returns the tables analyzed.
 */
export async function analyzeAfterMigrations(database: Database): Promise<string[]> {
  if (database.driver === 'pglite') {
    await database.rows(sql`analyze`);
    return ['*'];
  }
  const rows = await database.rows<{ table: string }>(sql`
    select c.relname as "table" from pg_class c
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
    left join pg_stat_user_tables s on s.relid = c.oid
    where c.relname in (${sql.join(hotTables.map((t) => sql`${t}`), sql`, `)}) and c.relkind = 'r'
      and (c.reltuples < 0 or coalesce(s.last_analyze, s.last_autoanalyze) is null)`);
  const tables = rows.map((row) => row.table);
  if (tables.length > 0) await database.rows(sql.raw(`analyze ${tables.map(quoteIdent).join(', ')}`));
  return tables;
}

/** Fresh statistics of `runs` (ANALYZE reads a sample of it, whatever its size). */
export async function analyzeRuns(database: Database): Promise<void> {
  await database.rows(sql`analyze runs`);
}

/**
 * After a sweep that deleted many rows (`between` runs after each table). PGlite: VACUUM (so the space of the deleted rows is reused
 * instead of the files growing), fresh statistics, then a CHECKPOINT so the write-ahead log it wrote
 * is recycled. PostgreSQL: autovacuum and its checkpointer do the rest; only `runs` is re-analyzed, so
 * the stored-runs estimate and the planner see the deletion at once.
 */
export async function tidyAfterDeletion(database: Database, between: () => Promise<void> = async () => {}): Promise<void> {
  if (database.driver === 'pglite') {
    // One table per statement: PGlite works on the main thread, and live runs get it in between.
    for (const table of hotTables) {
      await database.rows(sql.raw(`vacuum (analyze) ${table}`));
      await between();
    }
    await database.rows(sql`checkpoint`);
    return;
  }
  await database.rows(sql`analyze runs`);
}

/**
 * How many runs are stored, estimated as the planner does (rows per page at the last ANALYZE times the
 * table's pages now): a catalog read, whatever the table's size. Counts only when there are no
 * statistics yet (never analyzed, or analyzed empty): retention's sweeps analyze `runs` on PGlite,
 * autovacuum does on PostgreSQL.
 */
export async function estimateStoredRuns(database: Database): Promise<number> {
  const [row] = await database.rows<{ estimate: number | string | null }>(sql`
    select case when pg_relation_size(c.oid) = 0 then 0
                when c.reltuples < 0 or c.relpages = 0 then null
                else round(c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int))
           end::float8 as estimate
    from pg_class c where c.oid = to_regclass('runs')`);
  if (row?.estimate != null) return Number(row.estimate);
  const [counted] = await database.rows<{ count: number | string }>(sql`select count(*)::int as count from runs`);
  return Number(counted?.count ?? 0);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
