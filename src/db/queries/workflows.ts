// Workflows and their versions, always within one organization; each update adds a version.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { preparedPer } from '../prepared.js';
import { workflows, workflowVersions, type WorkflowRow } from '../schema.js';
import { pageClauses, type PageRequest } from './cursor.js';
import { isStorableText, newId } from './ids.js';

/** A workflow with its current version's definition. */
export type WorkflowWithDefinition = WorkflowRow & { definition: unknown };

export async function insertWorkflow(
  db: Db,
  organizationId: string,
  input: { name: string; definition: unknown },
): Promise<WorkflowWithDefinition> {
  return db.transaction(async (tx) => {
    const [workflow] = await tx
      .insert(workflows)
      .values({ id: newId('wf'), organizationId, name: input.name, version: 1 })
      .returning();
    if (!workflow) throw new Error('insert into workflows returned no row');
    await tx.insert(workflowVersions).values({ workflowId: workflow.id, version: 1, definition: input.definition });
    return { ...workflow, definition: input.definition };
  });
}

/**
 * Adds a version (when `definition` is given) and/or renames; null when the workflow is not in the
 * organization. The version bump and the new version row commit together.
 */
export async function updateWorkflow(
  db: Db,
  organizationId: string,
  id: string,
  input: { name?: string | undefined; definition?: unknown },
): Promise<WorkflowWithDefinition | null> {
  if (!isStorableText(id)) return null;
  return db.transaction(async (tx) => {
    const newVersion = input.definition !== undefined;
    const [workflow] = await tx
      .update(workflows)
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(newVersion ? { version: sql`${workflows.version} + 1` } : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(workflows.id, id), eq(workflows.organizationId, organizationId)))
      .returning();
    if (!workflow) return null;
    if (newVersion) {
      await tx
        .insert(workflowVersions)
        .values({ workflowId: workflow.id, version: workflow.version, definition: input.definition });
      return { ...workflow, definition: input.definition };
    }
    const definition = await readDefinition(tx, workflow.id, workflow.version);
    return { ...workflow, definition };
  });
}

// Read by every startRun: prepared.
const findStatement = preparedPer((db) =>
  db
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, sql.placeholder('id')), eq(workflows.organizationId, sql.placeholder('organizationId'))))
    .limit(1)
    .prepare('braid_find_workflow'),
);

export async function findWorkflow(db: Db, organizationId: string, id: string): Promise<WorkflowRow | null> {
  if (!isStorableText(id)) return null;
  const [row] = await findStatement(db).execute({ id, organizationId });
  return row ?? null;
}

/** The workflows of `ids` in the organization, in one statement (ids of other organizations are left out). */
export async function findWorkflows(db: Db, organizationId: string, ids: readonly string[]): Promise<WorkflowRow[]> {
  const storable = ids.filter(isStorableText);
  if (storable.length === 0) return [];
  return db
    .select()
    .from(workflows)
    .where(and(eq(workflows.organizationId, organizationId), inArray(workflows.id, storable)));
}

/** The definition of one version (null when missing). */
export async function readDefinition(db: Db, workflowId: string, version: number): Promise<unknown> {
  const [row] = await db
    .select({ definition: workflowVersions.definition })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.version, version)))
    .limit(1);
  return row?.definition ?? null;
}

/** One page of the organization's workflows, newest first. */
export async function listWorkflows(db: Db, organizationId: string, page: PageRequest): Promise<WorkflowRow[]> {
  const { where, orderBy } = pageClauses(workflows, page);
  return db
    .select()
    .from(workflows)
    .where(and(eq(workflows.organizationId, organizationId), ...where))
    .orderBy(...orderBy)
    .limit(page.limit);
}
