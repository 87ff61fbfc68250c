// What the run store is given to persist: the engine's RunCommit, restated here so db/ imports nothing
// of the engine (the engine's port is satisfied structurally; test/db/run-store.test.ts checks it).
import type { branchStatus, runEventType, runStatus, stepStatus } from './schema.js';

type RunStatus = (typeof runStatus.enumValues)[number];
type StepStatus = (typeof stepStatus.enumValues)[number];
type BranchStatus = (typeof branchStatus.enumValues)[number];
type RunEventType = (typeof runEventType.enumValues)[number];

/** One transition of a run, stored as a `run_events` row. */
export interface CommitEvent {
  seq: number;
  runId: string;
  type: RunEventType;
  at: Date;
  nodeId: string | null;
  branch: string | null;
  status: string;
  attempt: number | null;
  error: string | null;
  reason: string | null;
}

/** The latest state of one node in one run, upserted into `steps`. */
export interface CommitStep {
  nodeId: string;
  nodeType: string;
  status: StepStatus;
  attempt: number;
  branch: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Any JSON value; `undefined` is stored as null. */
  input: unknown;
  /** Any JSON value; `undefined` is stored as null. */
  output: unknown;
  error: string | null;
  reason: string | null;
  /** The handle a condition or switch chose. */
  handle: string | null;
  /** While waiting between attempts: when the next attempt starts. */
  retryAt: Date | null;
  /** The end of the node's durable wait. */
  wakeAt: Date | null;
}

/** The latest state of one branch, upserted into `branches`. */
export interface CommitBranch {
  id: string;
  status: BranchStatus;
  nodeIds: string[];
  startedAt: Date;
  finishedAt: Date | null;
}

/** The run's own state, written over its `runs` row. */
export interface CommitRun {
  status: RunStatus;
  startedAt: Date | null;
  finishedAt: Date | null;
  output: unknown;
  error: string | null;
  deadlineAt: Date | null;
}

/** One step of a run actor: its events in seq order and what they changed. */
export interface RunCommit {
  runId: string;
  events: CommitEvent[];
  steps: CommitStep[];
  branches: CommitBranch[];
  run: CommitRun | null;
}
