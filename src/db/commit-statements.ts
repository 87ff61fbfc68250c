// The statements of a run-store transaction, built once per database: each table's rows arrive as one
// JSON parameter (see recordset.ts), so the text never changes and is prepared once.
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
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
  /**
   * All of the above in one statement, atomic without a transaction around it: `fence`, `events`,
   * `steps`, `branches`, `runs` (one JSON array each), `channel` and `payloads`. When every fenced run
   * still has its epoch it writes everything and notifies, answering `ok: true`; otherwise it writes
   * nothing and answers `ok: false`.
   */
  writeAll: Statement;
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
    writeAll: statement(writeAll(db)),
  }),
);

// Every write below reads `ok`, so the fenced rows are locked (and their epochs checked) before any row
// is written; with one fenced run lost, no write yields a row.
const ok = sql`(select ok from fence_ok)`;

function writeAll(db: Db) {
  const v = (column: string) => sql`${sql.identifier('v')}.${sql.identifier(column)}`;
  return sql`
    with fence as (select * from json_to_recordset(${sql.placeholder('fence')}::json) as f(id text, epoch int)),
    held as (
      select r.id from ${runs} r join fence f on r.id = f.id and r.epoch = f.epoch order by r.id for no key update of r
    ),
    fence_ok as (select (select count(*) from held) = (select count(*) from fence) as ok),
    e as (${db.insert(runEvents).select(recordsetSelect(eventColumns, sql.placeholder('events'), 'r', ok)).onConflictDoNothing().getSQL()}),
    s as (${db
      .insert(steps)
      .select(recordsetSelect(stepColumns, sql.placeholder('steps'), 'r', ok))
      .onConflictDoUpdate({ target: [steps.runId, steps.nodeId], set: excludedSet(stepColumns, [steps.runId, steps.nodeId]) })
      .getSQL()}),
    b as (${db
      .insert(branches)
      .select(recordsetSelect(branchColumns, sql.placeholder('branches'), 'r', ok))
      .onConflictDoUpdate({ target: [branches.runId, branches.id], set: excludedSet(branchColumns, [branches.runId, branches.id]) })
      .getSQL()}),
    u as (${db
      .update(runs)
      .set(setFrom(runStateColumns, 'v'))
      .from(recordsetSource({ id: runIdColumn, ...runStateColumns }, sql.placeholder('runs'), 'v'))
      .where(and(eq(runs.id, v('id')), ok))
      .getSQL()})
    select ${ok} as ok,
      (select count(pg_notify(${sql.placeholder('channel')}, n)) from json_array_elements_text(${sql.placeholder('payloads')}::json) as n
        where ${ok}) as notified`;
}
