// One step of a run by node id (a run's full list is readSteps in src/db/run-reads.ts).
import { and, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { steps, type StepRow } from '../schema.js';

/** The step of `nodeId` in `runId`; callers check the run's organization first. */
export async function findStep(db: Db, runId: string, nodeId: string): Promise<StepRow | null> {
  const [row] = await db
    .select()
    .from(steps)
    .where(and(eq(steps.runId, runId), eq(steps.nodeId, nodeId)))
    .limit(1);
  return row ?? null;
}
