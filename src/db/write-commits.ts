// Writes a batch of run commits in one transaction: one statement per table (per chunk), not per row.
import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { excludedSet, jsonChunks, recordsetSelect, recordsetSource, setFrom } from './recordset.js';
import type { RunCommit } from './run-commit.js';
import { branches, runEvents, runs, steps } from './schema.js';

type EventRow = typeof runEvents.$inferInsert;
type StepRow = typeof steps.$inferInsert;
type BranchRow = typeof branches.$inferInsert;
type RunUpdate = Pick<typeof runs.$inferInsert, 'id' | 'status' | 'startedAt' | 'finishedAt' | 'output' | 'error' | 'deadlineAt'>;

/** The rows a batch of commits comes to: every event, and the latest state of each step, branch and run. */
export interface BatchRows {
  events: EventRow[];
  steps: StepRow[];
  branches: BranchRow[];
  runs: RunUpdate[];
}

/**
 * Folds commits (in call order) into rows. A step, branch or run touched by several commits keeps
 * only its latest state: Postgres refuses to touch one row twice in one ON CONFLICT statement.
 */
export function batchRows(commits: readonly RunCommit[]): BatchRows {
  const events: EventRow[] = [];
  const stepRows = new Map<string, StepRow>();
  const branchRows = new Map<string, BranchRow>();
  const runRows = new Map<string, RunUpdate>();
  for (const { runId, ...commit } of commits) {
    for (const e of commit.events) {
      events.push({
        runId: e.runId, seq: e.seq, type: e.type, at: e.at, nodeId: e.nodeId, branch: e.branch,
        status: e.status, attempt: e.attempt, error: e.error, reason: e.reason,
      });
    }
    for (const s of commit.steps) {
      stepRows.set(`${runId}\u0000${s.nodeId}`, {
        runId, nodeId: s.nodeId, nodeType: s.nodeType, status: s.status, attempt: s.attempt, branch: s.branch,
        startedAt: s.startedAt, finishedAt: s.finishedAt, input: s.input ?? null, output: s.output ?? null,
        error: s.error, reason: s.reason, handle: s.handle, retryAt: s.retryAt, wakeAt: s.wakeAt,
      });
    }
    for (const b of commit.branches) {
      branchRows.set(`${runId}\u0000${b.id}`, {
        runId, id: b.id, status: b.status, nodeIds: b.nodeIds, startedAt: b.startedAt, finishedAt: b.finishedAt,
      });
    }
    if (commit.run) {
      const r = commit.run;
      runRows.set(runId, {
        id: runId, status: r.status, startedAt: r.startedAt, finishedAt: r.finishedAt, output: r.output ?? null,
        error: r.error, deadlineAt: r.deadlineAt,
      });
    }
  }
  return { events, steps: [...stepRows.values()], branches: [...branchRows.values()], runs: [...runRows.values()] };
}

const eventColumns = getTableColumns(runEvents);
const stepColumns = getTableColumns(steps);
const branchColumns = getTableColumns(branches);
const { id: runIdColumn, status, startedAt, finishedAt, output, error, deadlineAt } = getTableColumns(runs);
const runStateColumns = { status, startedAt, finishedAt, output, error, deadlineAt };
const stepsUpsert = { target: [steps.runId, steps.nodeId], set: excludedSet(stepColumns, [steps.runId, steps.nodeId]) };
const branchesUpsert = {
  target: [branches.runId, branches.id],
  set: excludedSet(branchColumns, [branches.runId, branches.id]),
};

/** Writes `rows` in one transaction; every statement carries up to about `maxChars` of JSON. */
export async function writeBatchRows(db: Db, rows: BatchRows, maxChars: number): Promise<void> {
  if (rows.events.length + rows.steps.length + rows.branches.length + rows.runs.length === 0) return;
  await db.transaction(async (tx) => {
    for (const json of jsonChunks(rows.events, maxChars)) {
      await tx.insert(runEvents).select(recordsetSelect(eventColumns, json));
    }
    for (const json of jsonChunks(rows.steps, maxChars)) {
      await tx.insert(steps).select(recordsetSelect(stepColumns, json)).onConflictDoUpdate(stepsUpsert);
    }
    for (const json of jsonChunks(rows.branches, maxChars)) {
      await tx.insert(branches).select(recordsetSelect(branchColumns, json)).onConflictDoUpdate(branchesUpsert);
    }
    for (const json of jsonChunks(rows.runs, maxChars)) {
      await tx
        .update(runs)
        .set(setFrom(runStateColumns, 'v'))
        .from(recordsetSource({ id: runIdColumn, ...runStateColumns }, json, 'v'))
        .where(eq(runs.id, sql`${sql.identifier('v')}.${sql.identifier('id')}`));
    }
  });
}
