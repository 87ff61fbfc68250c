// What a run's step changed, gathered for the store: events with their gapless seq, and which steps,
// branches and run state to copy into the next commit.
import type { BranchState, RunCommit, RunEvent, RunEventType, RunState, StepState } from './events.js';

/** Creates the change log of one run over its live step states; seqs continue after `lastSeq`. */
export function createRunLog(options: { runId: string; steps: StepState[]; now: () => number; lastSeq: number }) {
  const { runId, steps } = options;
  let seq = options.lastSeq;
  let events: RunEvent[] = [];
  // Plain arrays and flags rather than Sets: at 10,000 nodes a run, every allocation per step shows.
  let dirtySteps: number[] = [];
  const stepDirty = new Uint8Array(steps.length);
  const dirtyBranches = new Set<BranchState>();
  let runDirty = false;
  // One Date per clock millisecond, shared by the events and steps of that moment (never mutated).
  let lastMs = Number.NaN;
  let lastDate = new Date(0);

  function now(): Date {
    const ms = options.now();
    if (ms !== lastMs) (lastMs = ms), (lastDate = new Date(ms));
    return lastDate;
  }

  function touchStep(index: number): void {
    if (stepDirty[index] === 1) return;
    stepDirty[index] = 1;
    dirtySteps.push(index);
  }

  return {
    now,
    touchStep,

    /** A RUN_* or BRANCH_* event. */
    event(type: RunEventType, branch: string | null, status: string, error: string | null, reason: string | null = null): void {
      events.push({ seq: ++seq, runId, type, at: now(), nodeId: null, branch, status, attempt: null, error, reason });
    },

    /** A NODE_* event: it reports the step as it is now, and the step goes into the next commit. */
    stepEvent(type: RunEventType, index: number): void {
      const { nodeId, branch, status, attempt, error, reason } = steps[index]!;
      events.push({ seq: ++seq, runId, type, at: now(), nodeId, branch, status, attempt, error, reason });
      touchStep(index);
    },

    branchChanged(branch: BranchState): void {
      dirtyBranches.add(branch);
    },

    runChanged(): void {
      runDirty = true;
    },

    /** What changed since the last call, as one commit; null when nothing did. */
    take(run: RunState): RunCommit | null {
      if (events.length === 0 && dirtySteps.length === 0 && !runDirty) return null;
      // Copies: the store may persist this commit after later steps changed the live objects.
      const changedSteps: StepState[] = new Array(dirtySteps.length);
      for (let i = 0; i < dirtySteps.length; i++) {
        const index = dirtySteps[i]!;
        stepDirty[index] = 0;
        changedSteps[i] = { ...steps[index]! };
      }
      const changedBranches: BranchState[] = [];
      for (const b of dirtyBranches) {
        changedBranches.push({ id: b.id, status: b.status, nodeIds: b.nodeIds.slice(), startedAt: b.startedAt, finishedAt: b.finishedAt });
      }
      const commit: RunCommit = { runId, events, steps: changedSteps, branches: changedBranches, run: runDirty ? { ...run } : null };
      events = [];
      dirtySteps = [];
      // Set#clear allocates a fresh table even when empty, and most steps change no branch.
      if (dirtyBranches.size > 0) dirtyBranches.clear();
      runDirty = false;
      return commit;
    },
  };
}

export type RunLog = ReturnType<typeof createRunLog>;
