// Run ownership: fair claims (fair-queue.ts) with FOR UPDATE SKIP LOCKED that bump the epoch, renewals
// and releases of the leases a process holds, all set-based (one statement for many runs), on the
// database's own clock.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../client.js';
import { runs, type RunRow } from '../schema.js';
import { pickWaitingRuns, waitingRuns, type HeldBy } from './fair-queue.js';

/** A run a process holds: the epoch its claim gave it fences its writes. */
export interface HeldLease {
  id: string;
  epoch: number;
}

const unfinished = inArray(runs.status, ['QUEUED', 'RUNNING']);
const leaseUntil = (leaseMs: number) => sql`now() + ${leaseMs} * interval '1 millisecond'`;

/** What a claim took, and which organizations' and workflows' limits hold waiting runs back. */
export interface Claim {
  runs: RunRow[];
  heldBy: HeldBy;
  /** Another process was claiming (PostgreSQL): nothing was looked at, try again shortly. */
  busy: boolean;
}

const nothingHeld: HeldBy = { organizations: [], workflows: [] };

/** The key of the advisory lock that makes claims take turns across processes sharing a PostgreSQL. */
export const claimLockKey = [1651665257, 6] as const;
const claimLock = sql`pg_try_advisory_xact_lock(${sql.raw(String(claimLockKey[0]))}, ${sql.raw(String(claimLockKey[1]))})`;

/**
 * Claims up to `limit` unfinished runs nobody holds (no owner, or a lease that expired) for `owner` for
 * `leaseMs`, in the fair-share order and within the organizations' and workflows' maxConcurrentRuns
 * (pickWaitingRuns); each claim bumps the run's epoch. `othersDead`: every other owner is dead (a
 * single-process database after a restart): their leases are given up first, in the same transaction,
 * so their runs wait like any other — those a limit holds back are free to take as soon as a slot
 * frees, not only once the dead owner's lease lapses. `shared` (PostgreSQL): claims of all processes
 * take turns under one transaction-level advisory lock, so the counts a claim reads are the ones it
 * commits against; a claim that finds it taken returns `busy`.
 */
export async function claimRuns(
  db: Db,
  options: { owner: string; leaseMs: number; limit: number; othersDead?: boolean; shared?: boolean },
): Promise<Claim> {
  if (options.limit <= 0) return { runs: [], heldBy: nothingHeld, busy: false };
  return db.transaction(async (tx) => {
    if (options.shared) {
      const [lock] = rowsOf<{ locked: boolean }>(await tx.execute(sql`select ${claimLock} as locked`));
      if (!lock?.locked) return { runs: [], heldBy: nothingHeld, busy: true };
    }
    if (options.othersDead) {
      await tx.execute(sql`update ${runs} set owner = null, lease_until = null
        where status in ('QUEUED', 'RUNNING') and owner is not null and owner <> ${options.owner}`);
    }
    const { ids, heldBy } = await pickWaitingRuns(tx, options.limit);
    if (ids.length === 0) return { runs: [], heldBy, busy: false };
    // Rows another statement locks (a cancel, a paused owner's commit) are left for the next claim.
    const claimable = sql`select id from ${runs} where id in (select json_array_elements_text(${JSON.stringify(ids)}::json))
      and ${waitingRuns} for update skip locked`;
    const claimed = await tx
      .update(runs)
      .set({ owner: options.owner, leaseUntil: leaseUntil(options.leaseMs), epoch: sql`${runs.epoch} + 1` })
      .where(sql`${runs.id} in (${claimable})`)
      .returning();
    const order = new Map(ids.map((id, i) => [id, i]));
    return { runs: claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!), heldBy, busy: false };
  });
}

/**
 * Extends the leases `owner` still holds on `held` to `leaseMs` from now. Returns the runs it still
 * holds (a run missing from the answer was taken over, or ended elsewhere), with any cancel request.
 */
export async function renewLeases(
  db: Db,
  owner: string,
  leaseMs: number,
  held: readonly HeldLease[],
): Promise<{ id: string; cancelRequested: string | null }[]> {
  if (held.length === 0) return [];
  const rows = await db.execute(sql`
    update ${runs} r set lease_until = ${leaseUntil(leaseMs)}
    from json_to_recordset(${JSON.stringify(held)}::json) as v(id text, epoch int)
    where r.id = v.id and r.epoch = v.epoch and r.owner = ${owner}
    returning r.id, r.cancel_requested as "cancelRequested"`);
  return rowsOf<{ id: string; cancelRequested: string | null }>(rows);
}

/** Gives up the leases on `held` (a draining process): another process may claim them at once. */
export async function releaseLeases(db: Db, owner: string, held: readonly HeldLease[]): Promise<void> {
  if (held.length === 0) return;
  await db.execute(sql`
    update ${runs} r set owner = null, lease_until = null
    from json_to_recordset(${JSON.stringify(held)}::json) as v(id text, epoch int)
    where r.id = v.id and r.epoch = v.epoch and r.owner = ${owner}`);
}

/**
 * Records a cancel request on an unfinished run. Returns who holds it (`owner` null when nobody does,
 * or its lease expired), or null when the run is missing or already final.
 */
export async function requestCancel(
  db: Db,
  runId: string,
  reason: string,
): Promise<{ owner: string | null; epoch: number } | null> {
  const [row] = await db
    .update(runs)
    .set({ cancelRequested: reason })
    .where(and(eq(runs.id, runId), unfinished))
    .returning({
      owner: sql<string | null>`case when ${runs.leaseUntil} > now() then ${runs.owner} end`,
      epoch: runs.epoch,
    });
  return row ?? null;
}

/**
 * Ends the database sessions of owners whose leases expired (their `application_name` is
 * `braid:<owner>`). A process paused in the middle of a transaction keeps its runs' rows locked, so
 * claims (which skip locked rows) could not take them over until its statement timed out; its lease is
 * gone, so nothing it would still write counts. Returns how many sessions were ended.
 */
export async function endExpiredOwnersSessions(db: Db, self: string): Promise<number> {
  const rows = await db.execute(sql`
    select pg_terminate_backend(a.pid) as ended from pg_stat_activity a
    where a.application_name in (
      select distinct 'braid:' || owner from ${runs}
      where status in ('QUEUED', 'RUNNING') and owner is not null and owner <> ${self} and lease_until < now()
    )`);
  return rowsOf<{ ended: boolean }>(rows).filter((row) => row.ended).length;
}

/** The values that make a new run row claimed by `owner` from the start. */
export function ownedBy(owner: string, leaseMs: number) {
  return { owner, leaseUntil: leaseUntil(leaseMs), epoch: 1 };
}
