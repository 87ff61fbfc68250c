// The node actor: a minimal XState actor logic around runNode. Stopping it aborts the node's signal;
// its outcome reaches the run actor as `xstate.done.actor.<nodeId>`.
import type { ActorLogic, Snapshot } from 'xstate';
import { RunCancelledError } from './errors.js';
import type { GraphNode } from './graph.js';
import { abortStop, createStopToken, runNode, type NodeRunInput, type StopToken } from './node-runner.js';
import type { NodeOutcome } from './scheduler.js';
import { withinTurn } from './turn-budget.js';

/** The node's report to the run actor when an attempt failed and another follows. */
export interface NodeRetryingEvent {
  type: 'node.retrying';
  node: GraphNode;
  failedAttempt: number;
  error: string;
  /** When the next attempt starts, in ms since the epoch. */
  retryAt: number;
}

/** The node actor's output, which XState relays to the run actor when the node actor is done. */
export interface NodeActorOutput {
  node: GraphNode;
  outcome: NodeOutcome;
}

type NodeActorEvent = { type: 'node.finished'; outcome: NodeOutcome } | { type: 'xstate.stop' };

type NodeActorSnapshot = Snapshot<NodeActorOutput> & {
  input: NodeRunInput;
  /** Aborted when the actor is stopped: FAIL_FAST, cancelRun, a run timeout. */
  stop: StopToken;
};

/**
 * A node actor's logic. Lighter than a machine or `fromPromise` (one snapshot, one self-event, no
 * AbortController unless the handler asks for its signal), which matters at 10,000 nodes a run.
 */
export const nodeActorLogic: ActorLogic<NodeActorSnapshot, NodeActorEvent, NodeRunInput> = {
  getInitialSnapshot(_scope, input) {
    return { status: 'active', output: undefined, error: undefined, input, stop: createStopToken() };
  },
  start({ input, stop }, { self }) {
    // Nodes that settle without I/O would otherwise keep the event loop from turning for a whole run.
    withinTurn(() => startNode(input, stop, self));
  },
  transition(snapshot, event) {
    if (snapshot.status !== 'active') return snapshot;
    if (event.type === 'xstate.stop') {
      abortStop(snapshot.stop, new RunCancelledError('the run stopped this node'));
      return { ...snapshot, status: 'stopped' };
    }
    return { ...snapshot, status: 'done', output: { node: snapshot.input.node, outcome: event.outcome } };
  },
  getPersistedSnapshot({ input: _input, stop: _stop, ...snapshot }) {
    return snapshot;
  },
};

function startNode(input: NodeRunInput, stop: StopToken, self: { send(event: NodeActorEvent): void }): void {
  if (stop.aborted) return; // stopped before its turn came: the run actor settled it already
  // runNode rejects only once the actor was stopped; the run actor already settled the node.
  runNode(input, stop).then((outcome) => self.send({ type: 'node.finished', outcome }), ignore);
}

/** The stopped node's rejection: the run actor already settled it, nothing is left to report. */
function ignore(): void {}
