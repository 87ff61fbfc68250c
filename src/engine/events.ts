// The status words and the RunEvent union: one vocabulary shared by engine, database and GraphQL.

export const runStatuses = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof runStatuses)[number];

export const stepStatuses = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED'] as const;
export type StepStatus = (typeof stepStatuses)[number];

export const branchStatuses = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type BranchStatus = (typeof branchStatuses)[number];

export const runEventTypes = [
  'RUN_STARTED',
  'NODE_STARTED',
  'NODE_RETRYING',
  'NODE_SUCCEEDED',
  'NODE_FAILED',
  'NODE_SKIPPED',
  'NODE_CANCELLED',
  'BRANCH_STARTED',
  'BRANCH_FINISHED',
  'RUN_SUCCEEDED',
  'RUN_FAILED',
  'RUN_CANCELLED',
  'RUN_RESUMED',
  'RUN_RETRIED',
] as const;
export type RunEventType = (typeof runEventTypes)[number];

/** A settled step never changes again. */
export const settledStepStatuses: ReadonlySet<StepStatus> = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);
export const finalRunStatuses: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * One transition of a run. `seq` starts at 1 and has no gap within a run.
 * `status` is the step's status for NODE_*, the branch's for BRANCH_*, the run's for RUN_*.
 */
export interface RunEvent {
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

/** The durable state of one node in one run (one row per run and node). */
export interface StepState {
  nodeId: string;
  nodeType: string;
  status: StepStatus;
  attempt: number;
  branch: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  input: unknown;
  output: unknown;
  error: string | null;
  reason: string | null;
  /** The handle a condition or switch chose: which of its outgoing edges are live. */
  handle: string | null;
  /** While the step waits between attempts: when attempt `attempt` starts. */
  retryAt: Date | null;
  /** The node's own durable wait (`ctx.wait`): when it ends. */
  wakeAt: Date | null;
}

/** The durable state of a branch. */
export interface BranchState {
  id: string;
  status: BranchStatus;
  nodeIds: string[];
  startedAt: Date;
  finishedAt: Date | null;
}

/** The durable state of the run itself. */
export interface RunState {
  status: RunStatus;
  startedAt: Date | null;
  finishedAt: Date | null;
  output: unknown;
  error: string | null;
  /** When the run times out: settings.timeoutMs after its first start (or its latest retry). */
  deadlineAt: Date | null;
}

/**
 * What one step of the run actor changed, handed to the store as one unit: the events in seq order
 * and the latest state of every step, branch and (when it changed) the run they touched.
 */
export interface RunCommit {
  runId: string;
  events: RunEvent[];
  steps: StepState[];
  branches: BranchState[];
  run: RunState | null;
}
