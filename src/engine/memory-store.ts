// An in-memory RunStore: the engine's port without a database, for tests, benchmarks and embedding.
import type { BranchState, RunCommit, RunEvent, RunState, StepState } from './events.js';
import type { RunStore } from './store.js';

/** Everything stored of one run, readable as the rows a database would hold. */
export interface StoredRun {
  run: RunState | null;
  steps: Map<string, StepState>;
  branches: Map<string, BranchState>;
  events: RunEvent[];
}

export interface MemoryStore extends RunStore {
  get(runId: string): StoredRun | undefined;
}

/** A RunStore that keeps every commit in memory and checks that seqs stay gapless. */
export function createMemoryStore(): MemoryStore {
  const runs = new Map<string, StoredRun>();
  return {
    get: (runId) => runs.get(runId),
    async commit(commit) {
      let stored = runs.get(commit.runId);
      if (!stored) {
        stored = { run: null, steps: new Map(), branches: new Map(), events: [] };
        runs.set(commit.runId, stored);
      }
      for (const event of commit.events) {
        const expected = stored.events.length + 1;
        if (event.seq !== expected) throw new Error(`run ${commit.runId}: event seq ${event.seq}, expected ${expected}`);
        stored.events.push(event);
      }
      for (const step of commit.steps) stored.steps.set(step.nodeId, step);
      for (const branch of commit.branches) stored.branches.set(branch.id, branch);
      if (commit.run) stored.run = commit.run;
    },
  };
}
