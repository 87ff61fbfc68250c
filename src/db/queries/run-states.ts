// What resuming needs of many runs at once: their steps, branches and last event seq, in three
// statements whatever the number of runs (a restart may take over thousands).
import { inArray, max } from 'drizzle-orm';
import type { Db } from '../client.js';
import { branches, runEvents, steps, type BranchRow, type StepRow } from '../schema.js';

export interface StoredRunState {
  steps: StepRow[];
  branches: BranchRow[];
  lastSeq: number;
}

/** The stored state of each of `runIds` (runs without rows get empty lists and seq 0). */
export async function readRunStates(db: Db, runIds: readonly string[]): Promise<Map<string, StoredRunState>> {
  const states = new Map<string, StoredRunState>(runIds.map((id) => [id, { steps: [], branches: [], lastSeq: 0 }]));
  if (runIds.length === 0) return states;
  const ids = [...runIds];
  const [stepRows, branchRows, seqs] = await Promise.all([
    db.select().from(steps).where(inArray(steps.runId, ids)),
    db.select().from(branches).where(inArray(branches.runId, ids)),
    db
      .select({ runId: runEvents.runId, seq: max(runEvents.seq) })
      .from(runEvents)
      .where(inArray(runEvents.runId, ids))
      .groupBy(runEvents.runId),
  ]);
  for (const row of stepRows) states.get(row.runId)!.steps.push(row);
  for (const row of branchRows) states.get(row.runId)!.branches.push(row);
  for (const row of seqs) states.get(row.runId)!.lastSeq = Number(row.seq ?? 0);
  return states;
}
