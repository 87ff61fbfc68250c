// Reads of what the run store wrote: a run's events, steps and branches, and the runs left unfinished.
// Not scoped to an organization: callers check the run's organization first (see src/db/queries).
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import {
  branches,
  runEvents,
  runs,
  steps,
  type BranchRow,
  type RunEventRow,
  type RunRow,
  type StepRow,
} from './schema.js';

/** The events of `runId` with `seq > afterSeq`, in seq order, at most `limit` of them (default all). */
export async function readRunEvents(
  database: Database,
  runId: string,
  afterSeq: number,
  limit?: number,
): Promise<RunEventRow[]> {
  const query = database.db
    .select()
    .from(runEvents)
    .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, afterSeq)))
    .orderBy(asc(runEvents.seq));
  return limit === undefined ? query : query.limit(limit);
}

/** The steps of `runId` in the order they started (never-started ones last, then by node id). */
export async function readSteps(database: Database, runId: string): Promise<StepRow[]> {
  return database.db
    .select()
    .from(steps)
    .where(eq(steps.runId, runId))
    .orderBy(sql`${steps.startedAt} asc nulls last`, asc(steps.nodeId));
}

/** The branches of `runId` in the order they started, then by id. */
export async function readBranches(database: Database, runId: string): Promise<BranchRow[]> {
  return database.db
    .select()
    .from(branches)
    .where(eq(branches.runId, runId))
    .orderBy(asc(branches.startedAt), asc(branches.id));
}

/** Runs still QUEUED or RUNNING, oldest first: what a restarted process has to resume. */
export async function readUnfinishedRuns(database: Database, limit = 1000): Promise<RunRow[]> {
  return database.db
    .select()
    .from(runs)
    .where(inArray(runs.status, ['QUEUED', 'RUNNING']))
    .orderBy(asc(runs.createdAt), asc(runs.id))
    .limit(limit);
}
