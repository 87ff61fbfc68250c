// retryRun in the database: a FAILED or CANCELLED run goes back to RUNNING with the chosen steps reset
// to PENDING and a RUN_RETRIED event, in one transaction.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { runEvents, runs, steps, type RunEventRow, type RunRow } from '../schema.js';
import { ownedBy } from './leases.js';

/** The run was not FAILED or CANCELLED (any more) when the retry came: nothing was changed. */
export class RunNotRetriableError extends Error {
  override name = 'RunNotRetriableError';
  constructor(readonly status: string) {
    super(`only a FAILED or CANCELLED run can be retried; this one is ${status}`);
  }
}

/**
 * Reopens run `runId` (of the organization) for its retry number `retries` (the run's current
 * `retries`: a concurrent retry that got there first makes this one refuse): `resetNodeIds` go back to
 * PENDING, the run to RUNNING with `retries + 1`, a new deadline from its next start, and a RUN_RETRIED
 * event. With `claim`, the caller's process holds it from now.
 */
export async function reopenRun(
  db: Db,
  options: {
    organizationId: string;
    runId: string;
    retries: number;
    resetNodeIds: readonly string[];
    claim?: { owner: string; leaseMs: number };
  },
): Promise<{ run: RunRow; event: RunEventRow }> {
  const { runId } = options;
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(runs)
      .where(and(eq(runs.id, runId), eq(runs.organizationId, options.organizationId)))
      .for('update');
    if (!current) throw new Error(`run ${runId} vanished while being retried`);
    if ((current.status !== 'FAILED' && current.status !== 'CANCELLED') || current.retries !== options.retries) {
      throw new RunNotRetriableError(current.status);
    }
    if (options.resetNodeIds.length > 0) {
      await tx
        .update(steps)
        .set({
          status: 'PENDING', attempt: 0, branch: null, startedAt: null, finishedAt: null, input: null, output: null,
          error: null, reason: null, handle: null, retryAt: null, wakeAt: null,
        })
        .where(and(eq(steps.runId, runId), inArray(steps.nodeId, [...options.resetNodeIds])));
    }
    const [last] = await tx
      .select({ seq: sql<number>`coalesce(max(${runEvents.seq}), 0)::int` })
      .from(runEvents)
      .where(eq(runEvents.runId, runId));
    const [event] = await tx
      .insert(runEvents)
      .values({
        runId, seq: Number(last?.seq ?? 0) + 1, type: 'RUN_RETRIED', at: new Date(), nodeId: null, branch: null,
        status: 'RUNNING', attempt: null, error: null, reason: `retry ${options.retries + 1}`,
      })
      .returning();
    const [run] = await tx
      .update(runs)
      .set({
        status: 'RUNNING', retries: options.retries + 1, output: null, error: null, finishedAt: null, deadlineAt: null,
        cancelRequested: null, owner: null, leaseUntil: null, epoch: sql`${runs.epoch} + 1`,
        ...(options.claim ? { ...ownedBy(options.claim.owner, options.claim.leaseMs), epoch: sql`${runs.epoch} + 1` } : {}),
      })
      .where(eq(runs.id, runId))
      .returning();
    return { run: run!, event: event! };
  });
}
