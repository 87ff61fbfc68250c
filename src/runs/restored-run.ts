// A run's rows as the engine's RestoredRun: what a process needs to go on with a run another one (or
// an earlier start of itself) was driving.
import type { StoredRunState } from '../db/queries/run-states.js';
import type { RunRow } from '../db/schema.js';
import type { RestoredRun } from '../engine/index.js';

/**
 * The state to restore `run` from, or undefined when it never started (no event stored: it starts
 * afresh). `event` marks the take-over (RUN_RESUMED), or null when one was stored already.
 */
export function restoredRun(run: RunRow, stored: StoredRunState, event: 'RUN_RESUMED' | null): RestoredRun | undefined {
  if (stored.lastSeq === 0) return undefined;
  return {
    run: { status: 'RUNNING', startedAt: run.startedAt, finishedAt: null, output: null, error: null, deadlineAt: run.deadlineAt },
    steps: stored.steps.map(({ runId: _runId, ...step }) => step),
    branches: stored.branches.map(({ runId: _runId, ...branch }) => branch),
    lastSeq: stored.lastSeq,
    event,
  };
}
