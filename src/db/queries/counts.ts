// How many rows a connection's filter matches, whatever the page: one COUNT per connection, on the
// same organization-scoped indexes its pages read.
import { and, count, eq, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { runs, workflows } from '../schema.js';
import { isStorableText } from './ids.js';
import type { RunStatus } from './runs.js';

/** The organization's workflows. */
export async function countWorkflows(db: Db, organizationId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(workflows).where(eq(workflows.organizationId, organizationId));
  return row?.n ?? 0;
}

/** The organization's runs matching the filter listRuns takes (one workflow, one status, or both). */
export async function countRuns(
  db: Db,
  organizationId: string,
  filter: { workflowId?: string | null | undefined; status?: RunStatus | null | undefined },
): Promise<number> {
  if (filter.workflowId && !isStorableText(filter.workflowId)) return 0;
  const conditions: SQL[] = [eq(runs.organizationId, organizationId)];
  if (filter.workflowId) conditions.push(eq(runs.workflowId, filter.workflowId));
  if (filter.status) conditions.push(eq(runs.status, filter.status));
  const [row] = await db.select({ n: count() }).from(runs).where(and(...conditions));
  return row?.n ?? 0;
}
