// Runs as rows: the idempotent insert, org-scoped reads and pages, and the unfinished runs after a crash.
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { preparedPer } from '../prepared.js';
import { organizations, runs, runStatus, type RunRow } from '../schema.js';
import { pageClauses, type PageRequest } from './cursor.js';
import { isStorableText, newId } from './ids.js';

export type RunStatus = (typeof runStatus.enumValues)[number];

const p = sql.placeholder;

// The insert of every startRun, prepared: without a claim, and claimed by its process (epoch 1, the
// lease from now) unless the organization has a maxConcurrentRuns, read in the same statement.
const insertStatements = preparedPer((db) => {
  const values = {
    id: p('id'),
    status: 'QUEUED' as const,
    organizationId: p('organizationId'),
    workflowId: p('workflowId'),
    workflowVersion: p('workflowVersion'),
    // Given as JSON text (null: SQL NULL, as an unprepared insert stores it).
    input: sql`${p('input')}::jsonb`,
    idempotencyKey: p('idempotencyKey'),
    priority: p('priority'),
  };
  const unlimited = (value: SQL) =>
    sql`(select case when max_concurrent_runs is null then ${value} end from ${organizations} where id = ${p('organizationId')})`;
  return {
    unclaimed: db.insert(runs).values(values).onConflictDoNothing().returning().prepare('braid_insert_run'),
    claimed: db
      .insert(runs)
      .values({
        ...values,
        owner: unlimited(sql`${p('owner')}::text`),
        leaseUntil: unlimited(sql`now() + ${p('leaseMs')}::int * interval '1 millisecond'`),
        epoch: sql`coalesce(${unlimited(sql`1`)}, 0)`,
      })
      .onConflictDoNothing()
      .returning()
      .prepare('braid_insert_run_claimed'),
  };
});

/**
 * Inserts a QUEUED run, or with an idempotency key already used in the organization returns that
 * key's run (`created: false`). Two racing calls with one key both get the winner's row.
 */
export async function insertRun(
  db: Db,
  values: {
    organizationId: string;
    workflowId: string;
    workflowVersion: number;
    input: unknown;
    idempotencyKey: string | null;
    /** Among runs waiting for a slot, higher starts first (default 0). */
    priority?: number;
  },
  /**
   * The process that drives the run from the start, holding its lease (epoch 1), unless the
   * organization has a run limit (then `owner` stays null: the claim query starts it); none leaves it to dispatch.
   */
  claim?: { owner: string; leaseMs: number },
): Promise<{ run: RunRow; created: boolean }> {
  const insert = insertStatements(db)[claim ? 'claimed' : 'unclaimed'];
  const [inserted] = await insert.execute({
    id: newId('run'),
    ...values,
    priority: values.priority ?? 0,
    input: values.input == null ? null : JSON.stringify(values.input),
    owner: claim?.owner ?? null,
    leaseMs: claim?.leaseMs ?? null,
  });
  if (inserted) return { run: inserted, created: true };
  if (values.idempotencyKey === null) throw new Error('insert into runs conflicted without an idempotency key');
  const [existing] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.organizationId, values.organizationId), eq(runs.idempotencyKey, values.idempotencyKey)))
    .limit(1);
  if (!existing) throw new Error('idempotency key conflicted but its run is missing');
  return { run: existing, created: false };
}

export async function findRun(db: Db, organizationId: string, id: string): Promise<RunRow | null> {
  if (!isStorableText(id)) return null;
  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.id, id), eq(runs.organizationId, organizationId)))
    .limit(1);
  return row ?? null;
}

/** The runs of `ids` in the organization, in one statement (ids of other organizations are left out). */
export async function findRuns(db: Db, organizationId: string, ids: readonly string[]): Promise<RunRow[]> {
  const storable = ids.filter(isStorableText);
  if (storable.length === 0) return [];
  return db
    .select()
    .from(runs)
    .where(and(eq(runs.organizationId, organizationId), inArray(runs.id, storable)));
}

/** One page of the organization's runs, newest first, optionally of one workflow and one status. */
export async function listRuns(
  db: Db,
  organizationId: string,
  filter: { workflowId?: string | null | undefined; status?: RunStatus | null | undefined },
  page: PageRequest,
): Promise<RunRow[]> {
  if (filter.workflowId && !isStorableText(filter.workflowId)) return [];
  const { where, orderBy } = pageClauses(runs, page);
  const conditions: SQL[] = [eq(runs.organizationId, organizationId), ...where];
  if (filter.workflowId) conditions.push(eq(runs.workflowId, filter.workflowId));
  if (filter.status) conditions.push(eq(runs.status, filter.status));
  return db
    .select()
    .from(runs)
    .where(and(...conditions))
    .orderBy(...orderBy)
    .limit(page.limit);
}
