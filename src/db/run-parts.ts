// The steps and branches of many runs in one statement: what a page of runs selecting `steps` and
// `branches` reads, at the cost of one round trip whatever the number of runs.
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from './client.js';
import { branches, steps, type BranchRow, type StepRow } from './schema.js';

/** A run's steps (in the order they started, never-started ones last) and branches (in the order they started). */
export interface RunParts {
  steps: StepRow[];
  branches: BranchRow[];
}

/** `json_build_object('prop', alias."column", …)` over every column of `table`, and the row mapper back. */
function jsonRow<T>(table: PgTable, alias: string): { object: SQL; row: (json: Record<string, unknown>) => T } {
  const columns = Object.entries(getTableColumns(table)) as [string, PgColumn][];
  const pairs = columns.map(([property, column]) => sql`${sql.raw(`'${property}'`)}, ${sql.identifier(alias)}.${sql.identifier(column.name)}`);
  const dates = columns.filter(([, column]) => column.dataType === 'date').map(([property]) => property);
  return {
    object: sql`json_build_object(${sql.join(pairs, sql`, `)})`,
    row: (json) => {
      for (const property of dates) {
        const value = json[property];
        if (typeof value === 'string') json[property] = new Date(value);
      }
      return json as T;
    },
  };
}

const stepJson = jsonRow<StepRow>(steps, 's');
const branchJson = jsonRow<BranchRow>(branches, 'b');

/**
 * The steps and branches of each of `runIds` (every id gets an entry, empty for an unknown run). Not
 * scoped to an organization: callers hold the runs' rows already. One statement, its text the same
 * for any number of runs.
 */
export async function readRunParts(database: Database, runIds: readonly string[]): Promise<Map<string, RunParts>> {
  const parts = new Map<string, RunParts>(runIds.map((id) => [id, { steps: [], branches: [] }]));
  if (runIds.length === 0) return parts;
  const rows = await database.rows<{ id: string; steps: string | null; branches: string | null }>(sql`
    select r.id,
      (select json_agg(${stepJson.object} order by s.started_at asc nulls last, s.node_id)
         from ${steps} s where s.run_id = r.id) as steps,
      (select json_agg(${branchJson.object} order by b.started_at, b.id)
         from ${branches} b where b.run_id = r.id) as branches
    from json_array_elements_text(${JSON.stringify([...new Set(runIds)])}::json) as r(id)`);
  for (const row of rows) {
    // json arrives as text on both drivers (see client.ts): parsed here once.
    parts.set(row.id, {
      steps: row.steps === null ? [] : (JSON.parse(row.steps) as Record<string, unknown>[]).map(stepJson.row),
      branches: row.branches === null ? [] : (JSON.parse(row.branches) as Record<string, unknown>[]).map(branchJson.row),
    });
  }
  return parts;
}
