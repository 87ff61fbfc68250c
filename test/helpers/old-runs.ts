// Many stored runs at once for retention tests and benchmarks: runs with their steps, branch and events
// written by a few set-based INSERTs (generate_series), as fast as the database takes them.
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';

export interface OldRuns {
  /** Run ids are `<prefix><n>`, n from 1. */
  prefix: string;
  count: number;
  organizationId: string;
  workflowId: string;
  status?: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  /** finished_at (null: not set); created 1 minute before it (or before `createdAt`). */
  finishedAt: Date | null;
  createdAt?: Date;
  /** With an idempotency key `<prefix>key-<n>`. */
  keyed?: boolean;
}

/** Nodes per stored run (steps), and events per run. */
export const stepsPerRun = 2;
export const eventsPerRun = 6;

/** Inserts `count` runs, each with 2 steps, 1 branch and 6 events. */
export async function insertOldRuns(database: Database, spec: OldRuns): Promise<void> {
  const { prefix, count } = spec;
  const finished = spec.finishedAt ? spec.finishedAt.toISOString() : null;
  const created = (spec.createdAt ?? new Date((spec.finishedAt ?? new Date()).getTime() - 60_000)).toISOString();
  const status = spec.status ?? 'SUCCEEDED';
  const at = sql`${created}::timestamptz`;
  await database.rows(sql`
    insert into runs (id, organization_id, workflow_id, workflow_version, status, input, output, idempotency_key, created_at, started_at, finished_at)
    select ${prefix} || i, ${spec.organizationId}, ${spec.workflowId}, 1, ${status}::run_status, jsonb_build_object('i', i),
      jsonb_build_object('a', jsonb_build_object('i', i + 1)), case when ${spec.keyed ?? false}::boolean then ${prefix} || 'key-' || i end,
      ${at}, ${at}, ${finished}::timestamptz
    from generate_series(1, ${count}::int) i`);
  await database.rows(sql`
    insert into steps (run_id, node_id, node_type, status, attempt, branch, started_at, finished_at, output)
    select ${prefix} || i, n.id, n.type, 'SUCCEEDED', 1, 'main', ${at}, ${at}, jsonb_build_object('i', i)
    from generate_series(1, ${count}::int) i, (values ('t', 'trigger'), ('a', 'transform')) as n(id, type)`);
  await database.rows(sql`
    insert into branches (run_id, id, status, node_ids, started_at, finished_at)
    select ${prefix} || i, 'main', 'SUCCEEDED', '["t","a"]'::jsonb, ${at}, ${at}
    from generate_series(1, ${count}::int) i`);
  await database.rows(sql`
    insert into run_events (run_id, seq, type, at, node_id, branch, status)
    select ${prefix} || i, e.seq, e.type::run_event_type, ${at}, e.node, 'main', e.status
    from generate_series(1, ${count}::int) i,
      (values (1, 'RUN_STARTED', null, 'RUNNING'), (2, 'NODE_STARTED', 't', 'RUNNING'), (3, 'NODE_SUCCEEDED', 't', 'SUCCEEDED'),
              (4, 'NODE_STARTED', 'a', 'RUNNING'), (5, 'NODE_SUCCEEDED', 'a', 'SUCCEEDED'), (6, 'RUN_SUCCEEDED', null, 'SUCCEEDED'))
        as e(seq, type, node, status)`);
}

/** How many rows of runs whose id starts with `prefix` each table holds. */
export async function storedRows(database: Database, prefix: string) {
  const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const [row] = await database.rows<Record<'runs' | 'steps' | 'branches' | 'events', number | string>>(sql`
    select (select count(*) from runs where id like ${like})::int as runs,
           (select count(*) from steps where run_id like ${like})::int as steps,
           (select count(*) from branches where run_id like ${like})::int as branches,
           (select count(*) from run_events where run_id like ${like})::int as events`);
  return { runs: Number(row!.runs), steps: Number(row!.steps), branches: Number(row!.branches), events: Number(row!.events) };
}
