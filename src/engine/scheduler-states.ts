// The states a scheduler starts from and hears of: a fresh step, a run's stored state, a node's outcome.
import type { BranchState, RunState, StepState } from './events.js';
import type { GraphNode } from './graph.js';

/** How a node actor ended. */
export type NodeOutcome =
  | { status: 'SUCCEEDED'; output: unknown; handle?: string | undefined }
  | { status: 'FAILED'; error: string };

/** A run's stored state, to go on from (after a crash, a shutdown or a retryRun). */
export interface RestoredRun {
  run: RunState;
  /** The stored steps; a node without one is PENDING. */
  steps: readonly StepState[];
  branches: readonly BranchState[];
  /** The run's last stored event seq: new events continue after it. */
  lastSeq: number;
  /** The event that marks the restart (RUN_RESUMED), or null when one was stored already (RUN_RETRIED). */
  event: 'RUN_RESUMED' | null;
}

export const freshStep = (node: GraphNode): StepState => ({
  nodeId: node.id,
  nodeType: node.definition.type,
  status: 'PENDING',
  attempt: 0,
  branch: null,
  startedAt: null,
  finishedAt: null,
  input: null,
  output: null,
  error: null,
  reason: null,
  handle: null,
  retryAt: null,
  wakeAt: null,
});
