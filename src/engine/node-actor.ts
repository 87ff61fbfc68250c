// The node actor: a light promise actor around runNode. Stopping it aborts the node's signal;
// its result reaches the run actor as `xstate.done.actor.<nodeId>`.
import { fromPromise } from 'xstate';
import type { GraphNode } from './graph.js';
import { runNode, type NodeRunInput } from './node-runner.js';
import type { NodeOutcome } from './scheduler.js';

/** The node's report to the run actor when an attempt failed and another follows. */
export interface NodeRetryingEvent {
  type: 'node.retrying';
  node: GraphNode;
  failedAttempt: number;
  error: string;
  delayMs: number;
}

export type NodeActorInput = Omit<NodeRunInput, 'onRetry'>;

/** What the run actor receives when a node actor completes. */
export interface NodeActorOutput {
  node: GraphNode;
  outcome: NodeOutcome;
}

export const nodeActorLogic = fromPromise<NodeActorOutput, NodeActorInput>(async ({ input, signal, self }) => {
  const onRetry = (failedAttempt: number, error: string, delayMs: number) => {
    const event: NodeRetryingEvent = { type: 'node.retrying', node: input.node, failedAttempt, error, delayMs };
    self._parent?.send(event);
  };
  const outcome = await runNode({ ...input, onRetry }, signal);
  return { node: input.node, outcome };
});
