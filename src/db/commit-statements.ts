// The statements of a run-store transaction, built once per database: each table's rows arrive as one
// JSON parameter (see recordset.ts), so the text never changes and is prepared once.
import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { preparedPer } from './prepared.js';
import { excludedSet, recordsetSelect, recordsetSource, setFrom } from './recordset.js';
import { branches, runEvents, runs, steps } from './schema.js';
import { statement, type Statement } from './statements.js';

export interface CommitStatements {
  /** `json`: events; a retried transaction whose COMMIT did land once must not fail on its own events. */
  insertEvents: Statement;
  /** `json`: the latest state of each step. */
  upsertSteps: Statement;
  /** `json`: the latest state of each branch. */
  upsertBranches: Statement;
  /** `json`: the runs' own states. */
  updateRuns: Statement;
  /** `json`: `[{ id, epoch }]`; locks those runs and returns the ids whose epoch is still the one given. */
  lockFenced: Statement;
  /** `channel`, `payloads` (a JSON array of strings): one NOTIFY per payload. */
  notify: Statement;
}

const json = sql.placeholder('json');
const eventColumns = getTableColumns(runEvents);
const stepColumns = getTableColumns(steps);
const branchColumns = getTableColumns(branches);
const { id: runIdColumn, status, startedAt, finishedAt, output, error, deadlineAt } = getTableColumns(runs);
const runStateColumns = { status, startedAt, finishedAt, output, error, deadlineAt };

/** The statements, built on `db` (any drizzle instance: only their text is kept). */
export const commitStatements = preparedPer(
  (db: Db): CommitStatements => ({
    insertEvents: statement(db.insert(runEvents).select(recordsetSelect(eventColumns, json)).onConflictDoNothing()),
    upsertSteps: statement(
      db
        .insert(steps)
        .select(recordsetSelect(stepColumns, json))
        .onConflictDoUpdate({ target: [steps.runId, steps.nodeId], set: excludedSet(stepColumns, [steps.runId, steps.nodeId]) }),
    ),
    upsertBranches: statement(
      db
        .insert(branches)
        .select(recordsetSelect(branchColumns, json))
        .onConflictDoUpdate({ target: [branches.runId, branches.id], set: excludedSet(branchColumns, [branches.runId, branches.id]) }),
    ),
    updateRuns: statement(
      db
        .update(runs)
        .set(setFrom(runStateColumns, 'v'))
        .from(recordsetSource({ id: runIdColumn, ...runStateColumns }, json, 'v'))
        .where(eq(runs.id, sql`${sql.identifier('v')}.${sql.identifier('id')}`)),
    ),
    lockFenced: statement(sql`
      select r.id from ${runs} r join json_to_recordset(${json}::json) as v(id text, epoch int)
        on r.id = v.id and r.epoch = v.epoch
      order by r.id for no key update of r`),
    notify: statement(
      sql`select pg_notify(${sql.placeholder('channel')}, p) from json_array_elements_text(${sql.placeholder('payloads')}::json) as p`,
    ),
  }),
);
