// Ends a run that no engine is driving (cancelled while nobody held it, or whose commits kept failing):
// its unsettled steps and open branches are cancelled, with events, in one transaction.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { branches, runEvents, runs, steps, type RunEventRow, type RunRow } from '../schema.js';

export interface FinalizeOutcome {
  status: 'CANCELLED' | 'FAILED';
  /** Why: `Run.error`, the steps' reason (`cancelled: …`) and the run event's error and reason. */
  message: string;
  /**
   * Settle the run only if no process holds it (no owner, or its lease expired), or only if this
   * epoch still does (its own driver settling it). Unset: settle it whoever holds it.
   */
  unless?: { heldByOthers: true } | { epochIsNot: number };
}

/**
 * Marks the run final unless it already is. Returns the updated row and the events appended (seqs
 * continuing the run's), or null when the run was missing or already final.
 */
export async function finalizeStoredRun(
  db: Db,
  runId: string,
  outcome: FinalizeOutcome,
  now: Date = new Date(),
): Promise<{ run: RunRow; events: RunEventRow[] } | null> {
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select({ run: runs, held: sql<boolean>`coalesce(${runs.leaseUntil} > now(), false)` })
      .from(runs)
      .where(eq(runs.id, runId))
      .for('update');
    if (!current || (current.run.status !== 'QUEUED' && current.run.status !== 'RUNNING')) return null;
    const { unless } = outcome;
    if (unless && 'heldByOthers' in unless && current.held && current.run.owner !== null) return null;
    if (unless && 'epochIsNot' in unless && current.run.epoch !== unless.epochIsNot) return null;

    const [last] = await tx
      .select({ seq: sql<number>`coalesce(max(${runEvents.seq}), 0)::int` })
      .from(runEvents)
      .where(eq(runEvents.runId, runId));
    let seq = Number(last?.seq ?? 0);
    const events: RunEventRow[] = [];
    const event = (e: Omit<RunEventRow, 'seq' | 'runId' | 'at'>) => events.push({ ...e, seq: ++seq, runId, at: now });

    const stepReason = `cancelled: ${outcome.message}`;
    const open = await tx
      .select()
      .from(steps)
      .where(and(eq(steps.runId, runId), inArray(steps.status, ['PENDING', 'RUNNING'])))
      .orderBy(steps.nodeId);
    for (const step of open) {
      event({
        type: 'NODE_CANCELLED',
        nodeId: step.nodeId,
        branch: step.branch,
        status: 'CANCELLED',
        attempt: step.attempt,
        error: null,
        reason: stepReason,
      });
    }
    if (open.length > 0) {
      await tx
        .update(steps)
        .set({ status: 'CANCELLED', reason: stepReason, finishedAt: now })
        .where(and(eq(steps.runId, runId), inArray(steps.status, ['PENDING', 'RUNNING'])));
    }

    const openBranches = await tx
      .select()
      .from(branches)
      .where(and(eq(branches.runId, runId), eq(branches.status, 'RUNNING')))
      .orderBy(sql`length(${branches.id}) desc`, branches.id);
    for (const branch of openBranches) {
      event({
        type: 'BRANCH_FINISHED',
        nodeId: null,
        branch: branch.id,
        status: 'CANCELLED',
        attempt: null,
        error: null,
        reason: null,
      });
    }
    if (openBranches.length > 0) {
      await tx
        .update(branches)
        .set({ status: 'CANCELLED', finishedAt: now })
        .where(and(eq(branches.runId, runId), eq(branches.status, 'RUNNING')));
    }

    const error = outcome.message;
    event({
      type: outcome.status === 'FAILED' ? 'RUN_FAILED' : 'RUN_CANCELLED',
      nodeId: null,
      branch: null,
      status: outcome.status,
      attempt: null,
      error,
      reason: outcome.message,
    });
    await tx.insert(runEvents).values(events);
    const [run] = await tx
      .update(runs)
      // The epoch moves on: a process that still thinks it drives the run can write nothing more.
      .set({ status: outcome.status, error, finishedAt: now, owner: null, leaseUntil: null, epoch: sql`${runs.epoch} + 1` })
      .where(eq(runs.id, runId))
      .returning();
    if (!run) throw new Error(`run ${runId} vanished while being finalized`);
    return { run, events };
  });
}
