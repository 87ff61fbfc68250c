// Retention's statements: one batch of finished runs past their cutoff deleted (steps, branches and events
// go with them through the cascading foreign keys), and the PostgreSQL lock that lets one process sweep at a time.
import { sql } from 'drizzle-orm';
import { rowsOf, type Database, type Db } from '../client.js';
import { runs } from '../schema.js';

/** Finished runs before `before` may go; those started with an idempotency key only before `keyedBefore`. */
export interface RetentionCutoffs {
  before: Date;
  keyedBefore: Date;
}

/**
 * Deletes up to `limit` finished runs (SUCCEEDED, FAILED, CANCELLED) whose `finished_at` is past their
 * cutoff, oldest first, with their steps, branches and events; returns how many went. Rows another
 * transaction holds (a retryRun reopening the run) are skipped, so processes sweeping at once never
 * wait on each other, and a run reopened meanwhile is re-checked and kept. Uses `runs_finished_idx`.
 */
export async function deleteFinishedRuns(db: Db, cutoffs: RetentionCutoffs, limit: number): Promise<number> {
  const result = await db.execute(sql`
    with doomed as (
      select id from ${runs}
      where finished_at < ${cutoffs.before.toISOString()}::timestamptz
        and status in ('SUCCEEDED', 'FAILED', 'CANCELLED')
        and (idempotency_key is null or finished_at < ${cutoffs.keyedBefore.toISOString()}::timestamptz)
      order by finished_at
      limit ${limit}
      for update skip locked
    ), deleted as (
      delete from ${runs} r using doomed where r.id = doomed.id returning 1
    )
    select count(*)::int as deleted from deleted`);
  return Number(rowsOf<{ deleted: number | string }>(result)[0]?.deleted ?? 0);
}

// Any constant shared by every Braid process (the migrations take 7_345_120_001).
const sweepLockKey = 7_345_120_002;

/**
 * PostgreSQL: takes the session-level lock that one sweeping process holds, on a connection reserved
 * for it; resolves to its release, or to null when another process sweeps now. PGlite, which only one
 * process opens: always granted. The lock dies with its session, so a killed sweeper blocks nobody.
 */
export async function trySweepLock(database: Database): Promise<(() => Promise<void>) | null> {
  if (database.driver === 'pglite') return async () => {};
  const connection = await database.client.reserve();
  try {
    const [row] = await connection<{ locked: boolean }[]>`select pg_try_advisory_lock(${sweepLockKey}) as locked`;
    if (!row?.locked) {
      connection.release();
      return null;
    }
  } catch (error) {
    connection.release();
    throw error;
  }
  return async () => {
    try {
      await connection`select pg_advisory_unlock(${sweepLockKey})`;
    } finally {
      connection.release();
    }
  };
}
