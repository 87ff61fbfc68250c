// A run's commits on their way to the store: one write in flight per run, the commits made meanwhile
// merged into the next writes, so a failed write is never followed by a later one (no seq gap, no reordering).
import type { BranchState, RunCommit, RunEvent, RunState, StepState } from './events.js';
import type { RunStore } from './store.js';

export interface CommitQueue {
  push(commit: RunCommit): void;
  /** Resolves once every commit pushed so far was stored and reported, or the queue broke. */
  drained(): Promise<void>;
}

/**
 * Rows (events, steps, branches) past which commits made meanwhile start another merged write rather
 * than growing this one. A 100,000-node fan-out makes commits far faster than a database stores them:
 * merged without a bound, one transaction held most of the run (seconds on a busy PostgreSQL, with the
 * run's row locked, so the lease renewal waited behind it and the run was taken over). A commit is
 * never split: one larger than this is written alone.
 */
export const maxMergedRows = 20_000;

/**
 * Hands a run's commits to the store in order and reports each stored one. After a failed write
 * nothing more is written or reported; `failed` is told once. The merge is linear: commits made while
 * a write is in flight append to a pending write rather than being copied into each other.
 */
export function createCommitQueue(
  store: RunStore,
  report: { stored(commit: RunCommit): void; failed(error: unknown): void },
  options: { maxMergedRows?: number } = {},
): CommitQueue {
  const maxRows = options.maxMergedRows ?? maxMergedRows;
  let writing = false;
  let broken = false;
  /** Merged writes waiting, oldest first (a few at most): only the newest takes more commits. */
  let pending: Pending[] = [];
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
        pending = [];
        report.failed(error);
        next();
      },
    );
  }

  function next(): void {
    const oldest = broken ? undefined : pending.shift();
    if (oldest) return write(toCommit(oldest));
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  }

  return {
    push(commit) {
      if (broken) return;
      if (!writing) return write(commit);
      const last = pending[pending.length - 1];
      if (last && last.rows < maxRows) append(last, commit);
      else pending.push(start(commit));
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
  /** Rows appended so far (a step or branch appended twice counts twice: a bound, not a count). */
  rows: number;
}

function start(commit: RunCommit): Pending {
  const pending: Pending = { runId: commit.runId, events: [], steps: new Map(), branches: new Map(), run: null, rows: 0 };
  append(pending, commit);
  return pending;
}

function append(pending: Pending, commit: RunCommit): void {
  for (const event of commit.events) pending.events.push(event);
  for (const step of commit.steps) pending.steps.set(step.nodeId, step);
  for (const branch of commit.branches) pending.branches.set(branch.id, branch);
  if (commit.run) pending.run = commit.run;
  pending.rows += commit.events.length + commit.steps.length + commit.branches.length;
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
