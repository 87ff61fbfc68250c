// Writes a batch of run commits in one transaction: one statement per table (per chunk), not per row;
// fenced by the runs' lease epochs and announced with NOTIFY when asked.
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { rowsOf, type Database, type Db } from './client.js';
import { commitStatements, type CommitStatements } from './commit-statements.js';
import { jsonChunks } from './recordset.js';
import type { RunCommit } from './run-commit.js';
import type { branches, runEvents, runs, steps } from './schema.js';
import { runStatement, statementTransaction, type RunStatement, type Statement } from './statements.js';

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

/** Raised for a commit whose write failed; `cause` holds the driver's error (a PostgresError, say). */
export class RunCommitError extends Error {
  override name = 'RunCommitError';
  constructor(runId: string, error: unknown) {
    // drizzle's DrizzleQueryError carries every parameter in its message: a whole batch of rows.
    const cause = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
    super(`persisting run ${runId} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Raised for a commit of a run whose lease another process took over: nothing of it was written. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(readonly runId: string) {
    super(`run ${runId} is driven by another process now (its lease moved on); nothing was written`);
  }
}

export interface BatchOptions {
  /** Every statement carries up to about this much JSON. */
  maxChars: number;
  /** The epoch this process holds on a run; undefined writes it unfenced. */
  epochOf?: ((runId: string) => number | undefined) | undefined;
  notify?: { channel: string; sender: string } | undefined;
}

// NOTIFY payloads stop at 8,000 bytes; ids are ASCII, so characters are bytes.
const maxNotifyChars = 7_900;

/**
 * Writes `commits` in one transaction, its statements prepared once. Runs whose stored epoch is not the
 * one this process holds are left out (their rows locked first, so no claim slips in between); returns their ids.
 */
export async function writeBatchTransaction(
  database: Database,
  commits: readonly RunCommit[],
  options: BatchOptions,
): Promise<Set<string>> {
  const statements = commitStatements(database.db);
  if (await writeInOneStatement(database, statements, commits, options)) return new Set();
  return statementTransaction(database, async (run) => {
    const lost = options.epochOf ? await fencedOff(run, statements, commits, options.epochOf) : new Set<string>();
    const kept = lost.size === 0 ? commits : commits.filter((c) => !lost.has(c.runId));
    await writeRows(run, statements, batchRows(kept), options.maxChars);
    if (options.notify && kept.length > 0) await notifyStored(run, statements, kept, options.notify);
    return lost;
  });
}

/**
 * The common case in one round trip: a batch whose tables each fit one statement, every fenced run
 * still held, is written (and announced) by one statement. False when it wrote nothing: a table needs
 * several statements, or a fenced run was lost (the transaction then finds which).
 */
async function writeInOneStatement(
  database: Database,
  statements: CommitStatements,
  commits: readonly RunCommit[],
  options: BatchOptions,
): Promise<boolean> {
  const rows = batchRows(commits);
  const tables = [rows.events, rows.steps, rows.branches, rows.runs].map((table) => jsonChunks(table, options.maxChars));
  if (tables.some((chunks) => chunks.length > 1)) return false;
  const [events, steps, branches, runs] = tables.map((chunks) => chunks[0] ?? '[]') as [string, string, string, string];
  const fence = options.epochOf ? fencedEpochs(commits, options.epochOf) : new Map<string, number>();
  const [result] = await runStatement<{ ok: boolean }>(database, statements.writeAll, {
    fence: JSON.stringify([...fence].map(([id, epoch]) => ({ id, epoch }))),
    events, steps, branches, runs,
    channel: options.notify?.channel ?? '',
    payloads: JSON.stringify(options.notify ? notifyPayloads(commits, options.notify.sender) : []),
  });
  return result?.ok === true;
}

/** The epoch this process holds on each fenced run of the batch. */
function fencedEpochs(commits: readonly RunCommit[], epochOf: (runId: string) => number | undefined): Map<string, number> {
  const fenced = new Map<string, number>();
  for (const { runId } of commits) {
    const epoch = epochOf(runId);
    if (epoch !== undefined) fenced.set(runId, epoch);
  }
  return fenced;
}

/** Locks the fenced runs of the batch; returns those whose epoch moved on. */
async function fencedOff(
  run: RunStatement,
  statements: CommitStatements,
  commits: readonly RunCommit[],
  epochOf: (runId: string) => number | undefined,
): Promise<Set<string>> {
  const fenced = fencedEpochs(commits, epochOf);
  const lost = new Set(fenced.keys());
  if (fenced.size === 0) return lost;
  const json = JSON.stringify([...fenced].map(([id, epoch]) => ({ id, epoch })));
  for (const row of await run<{ id: string }>(statements.lockFenced, { json })) lost.delete(row.id);
  return lost;
}

/** The NOTIFY payloads of `commits`, each ≤ ~7,900 characters: `{"p":sender,"r":[[runId, firstSeq, lastSeq, status|null], …]}`. */
function notifyPayloads(commits: readonly RunCommit[], sender: string): string[] {
  const byRun = new Map<string, [string, number, number, string | null]>();
  for (const c of commits) {
    const first = c.events[0]?.seq ?? 0;
    const last = c.events.at(-1)?.seq ?? 0;
    const entry = byRun.get(c.runId);
    if (!entry) byRun.set(c.runId, [c.runId, first, last, c.run?.status ?? null]);
    else {
      if (entry[1] === 0) entry[1] = first;
      if (last > 0) entry[2] = last;
      if (c.run) entry[3] = c.run.status;
    }
  }
  const head = `{"p":${JSON.stringify(sender)},"r":[`;
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = head.length + 2;
  for (const entry of byRun.values()) {
    const part = JSON.stringify(entry);
    if (parts.length > 0 && size + part.length + 1 > maxNotifyChars) {
      payloads.push(`${head}${parts.join(',')}]}`);
      parts = [];
      size = head.length + 2;
    }
    parts.push(part);
    size += part.length + 1;
  }
  if (parts.length > 0) payloads.push(`${head}${parts.join(',')}]}`);
  return payloads;
}

/** One NOTIFY per payload (see notifyPayloads). */
async function notifyStored(
  run: RunStatement,
  statements: CommitStatements,
  commits: readonly RunCommit[],
  notify: { channel: string; sender: string },
): Promise<void> {
  await run(statements.notify, { channel: notify.channel, payloads: JSON.stringify(notifyPayloads(commits, notify.sender)) });
}

/** Writes `rows` through `run`; every statement carries up to about `maxChars` of JSON. */
async function writeRows(run: RunStatement, statements: CommitStatements, rows: BatchRows, maxChars: number): Promise<void> {
  for (const json of jsonChunks(rows.events, maxChars)) await run(statements.insertEvents, { json });
  for (const json of jsonChunks(rows.steps, maxChars)) await run(statements.upsertSteps, { json });
  for (const json of jsonChunks(rows.branches, maxChars)) await run(statements.upsertBranches, { json });
  for (const json of jsonChunks(rows.runs, maxChars)) await run(statements.updateRuns, { json });
}

/**
 * Writes `rows` within the drizzle transaction `tx` (the same statements, unprepared): for callers that
 * hold a transaction of their own.
 */
export async function writeBatchRows(tx: Db, rows: BatchRows, maxChars: number): Promise<void> {
  await writeRows(drizzleRun(tx), commitStatements(tx), rows, maxChars);
}

/** Runs a built statement through drizzle's `execute`: its `$n` become parameters again. */
function drizzleRun(tx: Db): RunStatement {
  return async <T>(s: Statement, values: Record<string, unknown>) => {
    const parts = s.text.split(/\$(\d+)/);
    const chunks = parts.map((part, i) => (i % 2 === 1 ? sql.param(values[s.names[Number(part) - 1]!]) : sql.raw(part)));
    return rowsOf<T>(await tx.execute(sql.join(chunks)));
  };
}
