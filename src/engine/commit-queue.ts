// A run's commits on their way to the store: one write in flight per run, the commits made meanwhile
// merged into the next, so a failed write is never followed by a later one (no seq gap, no reordering).
import type { BranchState, RunCommit, RunEvent, RunState, StepState } from './events.js';
import type { RunStore } from './store.js';

export interface CommitQueue {
  push(commit: RunCommit): void;
  /** Resolves once every commit pushed so far was stored and reported, or the queue broke. */
  drained(): Promise<void>;
}

/**
 * Hands a run's commits to the store in order and reports each stored one. After a failed write
 * nothing more is written or reported; `failed` is told once. The merge is linear: commits made while
 * a write is in flight append to one pending commit rather than being copied into each other.
 */
export function createCommitQueue(
  store: RunStore,
  report: { stored(commit: RunCommit): void; failed(error: unknown): void },
): CommitQueue {
  let writing = false;
  let broken = false;
  let pending: Pending | null = null;
  let waiters: (() => void)[] = [];

  function write(commit: RunCommit): void {
    writing = true;
    store.commit(commit).then(
      () => {
        writing = false;
        report.stored(commit);
        next();
      },
      (error: unknown) => {
        writing = false;
        broken = true;
        pending = null;
        report.failed(error);
        next();
      },
    );
  }

  function next(): void {
    if (pending && !broken) {
      const commit = toCommit(pending);
      pending = null;
      return write(commit);
    }
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  }

  return {
    push(commit) {
      if (broken) return;
      if (!writing) return write(commit);
      if (pending) append(pending, commit);
      else pending = start(commit);
    },
    drained() {
      if (!writing) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

interface Pending {
  runId: string;
  events: RunEvent[];
  steps: Map<string, StepState>;
  branches: Map<string, BranchState>;
  run: RunState | null;
}

function start(commit: RunCommit): Pending {
  const pending: Pending = { runId: commit.runId, events: [], steps: new Map(), branches: new Map(), run: null };
  append(pending, commit);
  return pending;
}

function append(pending: Pending, commit: RunCommit): void {
  for (const event of commit.events) pending.events.push(event);
  for (const step of commit.steps) pending.steps.set(step.nodeId, step);
  for (const branch of commit.branches) pending.branches.set(branch.id, branch);
  if (commit.run) pending.run = commit.run;
}

function toCommit(pending: Pending): RunCommit {
  return {
    runId: pending.runId,
    events: pending.events,
    steps: [...pending.steps.values()],
    branches: [...pending.branches.values()],
    run: pending.run,
  };
}
