// The database's own upkeep: planner statistics after migrations, as tables grow and after large
// deletions, PGlite's checkpoints (it has no background checkpointer or autovacuum), and a cheap
// estimate of the stored runs.
import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** The tables every run writes to: their statistics steer the hot queries. */
export const hotTables = ['runs', 'steps', 'branches', 'run_events'] as const;

/** A table smaller than this needs no statistics: the planner assumes about this size without any. */
const minPages = 10;
/** PGlite: a table grown by this factor since its last ANALYZE is analyzed again (autovacuum's is 1.1 + 50 rows). */
const regrowth = 1.2;

/**
 * Analyzes the hot tables whose statistics are missing or, on PGlite, stale, one statement each (PGlite
 * works on the main thread: live runs get it in between). Missing: never analyzed, yet at least
 * `minPages` pages. Stale (PGlite only, which has no autovacuum): grown by a fifth since the last ANALYZE.
 * Tables are never analyzed while still small: statistics taken of an (almost) empty table are frozen
 * there on PGlite, and the plans of the hot prepared statements made from them (sequential scans of
 * what then grows to thousands of rows) took completed runs/s from ~500 to ~200. Returns the tables analyzed.
 */
export async function analyzeStale(database: Database): Promise<string[]> {
  const grown = database.driver === 'pglite' ? sql`or pg_relation_size(c.oid) / current_setting('block_size')::int >= c.relpages * ${regrowth}::float8` : sql``;
  const rows = await database.rows<{ table: string }>(sql`
    select c.relname as "table" from pg_class c
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
    where c.relname in (${sql.join(hotTables.map((t) => sql`${t}`), sql`, `)}) and c.relkind = 'r'
      and pg_relation_size(c.oid) / current_setting('block_size')::int >= ${minPages}
      and (c.reltuples < 0 ${grown})`);
  const tables = rows.map((row) => row.table);
  for (const table of tables) await database.rows(sql.raw(`analyze ${quoteIdent(table)}`));
  return tables;
}

/**
 * Keeps PGlite's statistics up with its tables, every `intervalMs` (default 2 s: a catalog read; an
 * ANALYZE only where analyzeStale finds one due). PostgreSQL's autovacuum does this itself: nothing is
 * started there.
 */
export function keepStatistics(database: Database, options: { intervalMs?: number; log(message: string, data: Record<string, unknown>): void }): { stop(): Promise<void> } {
  if (database.driver !== 'pglite') return { stop: async () => {} };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = analyzeStale(database).catch((error: unknown) => options.log('refreshing the database statistics failed', { error: String(error) }));
  }, options.intervalMs ?? 2_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Fresh statistics of `runs` (ANALYZE reads a sample of it, whatever its size). */
export async function analyzeRuns(database: Database): Promise<void> {
  await database.rows(sql`analyze runs`);
}

/**
 * After a sweep that deleted many rows (`between` runs after each table). PGlite: VACUUM (so the space
 * of the deleted rows is reused instead of the files growing), fresh statistics, then a CHECKPOINT so
 * the write-ahead log it wrote is recycled. PostgreSQL: autovacuum and its checkpointer do the rest; only `runs` is re-analyzed, so
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
 * statistics yet (a table still too small to be analyzed): keepStatistics analyzes `runs` on PGlite as
 * it grows, autovacuum on PostgreSQL.
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
