// The run actor: an XState machine that spawns one node actor per ready node, hands their outcomes to
// the scheduler, and passes every step's changes to the store. Bookkeeping lives in the scheduler's
// mutable arrays, never in copied context, so a step costs the same with 10 or 10,000 siblings.
import { createActor, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { Clock } from './clock.js';
import { describeError } from './errors.js';
import type { RunCommit, RunState } from './events.js';
import type { GraphNode, WorkflowGraph } from './graph.js';
import { nodeActorLogic, type NodeActorOutput, type NodeRetryingEvent } from './node-actor.js';
import type { Log } from './nodes/node-type.js';
import { createScheduler, type Launch, type Scheduler } from './scheduler.js';

/** What a run needs from its engine. */
export interface RunDeps {
  clock: Clock;
  log: Log;
  allowPrivateNetwork: boolean;
  random: () => number;
  /** Receives each step's changes, in order; persists and then publishes them. */
  commit(commit: RunCommit): void;
}

export interface RunInput {
  runId: string;
  graph: WorkflowGraph;
  input: unknown;
  deps: RunDeps;
}

export type RunMachineEvent =
  | { type: `xstate.done.actor.${string}`; output: NodeActorOutput }
  | { type: `xstate.error.actor.${string}`; error: unknown }
  | NodeRetryingEvent
  | { type: 'run.cancel'; reason: string }
  | { type: 'run.fail'; reason: string };

interface RunContext {
  input: RunInput;
  scheduler: Scheduler;
  /** The live node actors by node index; cleared as they settle. */
  actors: (AnyActorRef | undefined)[];
  /** Aborts the run's own timer when the run ends. */
  timer: AbortController;
}

export const runMachine = setup({
  types: {} as { context: RunContext; events: RunMachineEvent; input: RunInput; output: RunState },
  actions: {
    start: ({ context, self }) => {
      const { graph, deps } = context.input;
      launch(context, self, context.scheduler.start());
      const timeoutMs = graph.settings.timeoutMs;
      if (timeoutMs !== undefined) {
        const expire = () => self.send({ type: 'run.fail', reason: `run timed out after ${timeoutMs} ms` });
        // Rejects only when the run ended first and aborted the timer.
        deps.clock.sleep(timeoutMs, context.timer.signal).then(expire, () => undefined);
      }
      flush(context);
    },
    settle: enqueueActions(({ context, event, self, enqueue }) => {
      if (!('output' in event)) return;
      const { node, outcome } = event.output;
      context.actors[node.index] = undefined;
      const { launches, aborts } = context.scheduler.settle(node, outcome);
      abort(context, aborts, enqueue.stopChild);
      launch(context, self, launches);
      flush(context);
    }),
    crash: enqueueActions(({ context, event, enqueue }) => {
      // Node actors resolve with an outcome and never reject; reaching here is a bug in the engine.
      const error = 'error' in event ? describeError(event.error) : 'unknown';
      abort(context, context.scheduler.stop('FAILED', `internal error: ${error}`), enqueue.stopChild);
      flush(context);
    }),
    retrying: ({ context, event }) => {
      if (event.type !== 'node.retrying') return;
      context.scheduler.retrying(event.node, event.failedAttempt, event.error);
      flush(context);
    },
    stop: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'run.cancel' && event.type !== 'run.fail') return;
      const status = event.type === 'run.cancel' ? 'CANCELLED' : 'FAILED';
      abort(context, context.scheduler.stop(status, event.reason), enqueue.stopChild);
      flush(context);
    }),
    end: ({ context }) => context.timer.abort(),
  },
  guards: {
    finished: ({ context }) => context.scheduler.finished,
  },
}).createMachine({
  id: 'run',
  context: ({ input }) => ({
    input,
    scheduler: createScheduler({
      runId: input.runId,
      graph: input.graph,
      input: input.input,
      now: () => new Date(input.deps.clock.now()),
    }),
    actors: new Array(input.graph.nodes.length),
    timer: new AbortController(),
  }),
  initial: 'running',
  entry: 'start',
  states: {
    running: {
      always: { guard: 'finished', target: 'done' },
      on: {
        'xstate.done.actor.*': { actions: 'settle' },
        'xstate.error.actor.*': { actions: 'crash' },
        'node.retrying': { actions: 'retrying' },
        'run.cancel': { actions: 'stop' },
        'run.fail': { actions: 'stop' },
      },
    },
    done: { type: 'final', entry: 'end' },
  },
  output: ({ context }) => ({ ...context.scheduler.run }),
});

function launch(context: RunContext, parent: AnyActorRef, launches: Launch[]): void {
  const { runId, input: runInput, deps } = context.input;
  for (const { node, input } of launches) {
    const actor = createActor(nodeActorLogic, {
      parent,
      id: node.id,
      input: {
        runId,
        runInput,
        node,
        input,
        outputs: context.scheduler.outputs,
        clock: deps.clock,
        log: deps.log,
        allowPrivateNetwork: deps.allowPrivateNetwork,
        random: deps.random,
      },
    });
    context.actors[node.index] = actor;
    actor.start();
  }
}

/** Stops the node actors of aborted nodes, which aborts their signals. */
function abort(context: RunContext, nodes: GraphNode[], stopChild: (actor: AnyActorRef) => void): void {
  for (const node of nodes) {
    const actor = context.actors[node.index];
    if (actor) stopChild(actor);
    context.actors[node.index] = undefined;
  }
}

function flush(context: RunContext): void {
  const commit = context.scheduler.takeCommit();
  if (commit) context.input.deps.commit(commit);
}
