// The run actor: an XState actor that spawns one node actor per ready node, feeds their outcomes to
// the scheduler and hands every step's changes to the store. Its logic is a lean transition function
// rather than a machine: per-node bookkeeping lives in the scheduler's mutable arrays, never in
// copied state, so a step costs the same with 10 or 10,000 siblings (measured in BENCHMARKS.md).
import { createActor, type ActorLogic, type ActorScope, type AnyActorRef, type Snapshot } from 'xstate';
import type { Clock } from './clock.js';
import { describeError, NonRetriableError } from './errors.js';
import type { RunCommit, RunState } from './events.js';
import type { ExpressionEvaluator } from './expression-evaluator.js';
import type { GraphNode, WorkflowGraph } from './graph.js';
import type { HostLimits } from './host-limits.js';
import type { RunGate } from './node-gates.js';
import { nodeActorLogic, type NodeActorOutput, type NodeRetryingEvent } from './node-actor.js';
import type { RunShared } from './node-runner.js';
import { logFanOut, type LeveledLogger } from './fan-out-log.js';
import type { Log } from './nodes/node-type.js';
import { createRedactor, type Redactor } from './redaction.js';
import { createScheduler, type NodeOutcome, type RestoredRun, type Scheduler } from './scheduler.js';
import type { RunSpan } from './run-tracer.js';
import type { RunSecrets, SecretReader } from './secret-refs.js';

/** What a run needs from its engine. */
export interface RunDeps {
  clock: Clock;
  log: Log;
  /** The engine's leveled lines (fan-outs), if anyone listens. */
  logger?: LeveledLogger | undefined;
  allowPrivateNetwork: boolean;
  random: () => number;
  /** Where expressions and templates are evaluated, under which bounds. */
  expressions: ExpressionEvaluator;
  /** Receives each step's changes, in order; persists and then publishes them. */
  commit(commit: RunCommit): void;
  /**
   * Whether this process may still drive the run (its lease holds). Checked before any node starts:
   * when false the run is detached instead, so a process that lost its lease starts nothing more.
   */
  holds(): boolean;
  /** The run's span, when tracing: node attempts become its children. */
  span?: RunSpan | undefined;
  /** The process's per-host limits on HTTP requests. */
  hosts: HostLimits;
  /** Consulted before each node start (organization limit, load shedding); it wakes the run with `run.wake`. */
  gate?: RunGate | undefined;
}

export interface RunInput {
  runId: string;
  graph: WorkflowGraph;
  input: unknown;
  /** `Run.retries`: how many times retryRun reopened the run. */
  retries: number;
  /** The stored state to go on from, when the run ran before (in this process or another). */
  restored?: RestoredRun | undefined;
  /** Its organization's secrets, when its workflow references any. */
  secrets?: RunSecrets | undefined;
  deps: RunDeps;
}

/** How a run actor ended: the run finished, or it was left as stored for another process to go on. */
export interface RunActorOutput {
  state: RunState;
  detached: boolean;
}

/** What the run actor understands. Node actors' results arrive as XState's done/error events. */
export type RunEvent =
  | { type: `xstate.done.actor.${string}`; output: NodeActorOutput }
  | { type: `xstate.error.actor.${string}`; error: unknown }
  | NodeRetryingEvent
  | { type: 'node.waiting'; node: GraphNode; wakeAt: number }
  /** A running node waits for its HTTP host (the reason), or stopped waiting (null). */
  | { type: 'node.host'; node: GraphNode; reason: string | null }
  /** The gate may let more nodes start now (a slot freed, a hold ended). */
  | { type: 'run.wake' }
  | { type: 'run.cancel'; reason: string }
  | { type: 'run.fail'; reason: string }
  /** Start no more nodes; once none runs, end detached. */
  | { type: 'run.drain' }
  /** Stop every node now and end detached, storing nothing more (a shutdown's deadline, a lost lease). */
  | { type: 'run.detach' }
  /** Nothing happened; the run actor looks whether its run is over (a restored run can be at once). */
  | { type: 'run.check' }
  | { type: 'xstate.stop' };

type RunSnapshot = Snapshot<RunActorOutput> & {
  input: RunInput;
  scheduler: Scheduler;
  /** The live node actors by node index; cleared as they settle. */
  actors: (AnyActorRef | undefined)[];
  /** What every node actor of this run reads. */
  shared: RunShared;
  /** Aborts the run's own timer when the run ends. */
  timer: AbortController;
};

type Scope = ActorScope<RunSnapshot, RunEvent>;

export const runActorLogic: ActorLogic<RunSnapshot, RunEvent, RunInput> = {
  getInitialSnapshot: ({ self }, input) => {
    const { runId, graph, deps } = input;
    const redactor = createRedactor();
    for (const [name, value] of input.secrets?.known ?? []) redactor.add(name, value);
    const runInput = redactor.redact(input.input);
    const scheduler = createScheduler({ runId, graph, input: runInput, now: deps.clock.now, restored: input.restored, gate: deps.gate });
    const shared: RunShared = {
      runId,
      runInput,
      expressionRun: { id: runId, input: runInput },
      outputs: scheduler.outputs,
      clock: deps.clock,
      log: deps.log,
      allowPrivateNetwork: deps.allowPrivateNetwork,
      random: deps.random,
      expressions: deps.expressions,
      retries: input.retries,
      holds: deps.holds,
      span: deps.span,
      onLost: () => self.send({ type: 'run.detach' }),
      secrets: secretReader(input.secrets ?? noSecrets, redactor),
      redactor,
      onRetry: (node, failedAttempt, error, retryAt) =>
        self.send({ type: 'node.retrying', node, failedAttempt, error: redactor.text(error), retryAt }),
      onWait: (node, wakeAt) => self.send({ type: 'node.waiting', node, wakeAt }),
      hosts: deps.hosts,
      onHostWait: (node, reason) => self.send({ type: 'node.host', node, reason }),
    };
    return {
      status: 'active',
      output: undefined,
      error: undefined,
      input,
      scheduler,
      actors: new Array(graph.nodes.length),
      shared,
      timer: new AbortController(),
    };
  },

  start(snapshot, scope) {
    const { graph, deps } = snapshot.input;
    const { scheduler } = snapshot;
    const launches = scheduler.start();
    if (launches.length > 0 && !deps.holds()) {
      flush(snapshot);
      scope.self.send({ type: 'run.detach' });
      return;
    }
    launch(snapshot, scope, launches);
    const timeoutMs = graph.settings.timeoutMs;
    const deadline = scheduler.run.deadlineAt;
    if (timeoutMs !== undefined && deadline !== null && !scheduler.finished) {
      const expire = () => scope.self.send({ type: 'run.fail', reason: `run timed out after ${timeoutMs} ms` });
      // The sleep rejects only when the run ended first and aborted the timer.
      const left = Math.max(0, deadline.getTime() - deps.clock.now());
      deps.clock.sleep(left, snapshot.timer.signal).then(expire, () => undefined);
    }
    flush(snapshot);
    if (scheduler.finished) scope.self.send({ type: 'run.check' });
  },

  transition(snapshot, event, scope) {
    if (snapshot.status !== 'active') return snapshot;
    const { scheduler } = snapshot;
    if (event.type === 'node.retrying') {
      scheduler.retrying(event.node, event.failedAttempt, event.error, event.retryAt);
    } else if (event.type === 'node.waiting') {
      scheduler.waiting(event.node, event.wakeAt);
    } else if (event.type === 'node.host') {
      scheduler.noteWait(event.node, event.reason);
    } else if (event.type === 'run.wake') {
      if (!launchWhileHeld(snapshot, scope, scheduler.pump())) return detach(snapshot, scope);
    } else if (event.type === 'run.drain') {
      scheduler.drain();
    } else if (event.type === 'run.detach') {
      return detach(snapshot, scope);
    } else if (event.type === 'run.check') {
      // Only the checks after this branch.
    } else if (event.type === 'run.cancel' || event.type === 'run.fail') {
      abort(snapshot, scope, scheduler.stop(event.type === 'run.cancel' ? 'CANCELLED' : 'FAILED', event.reason));
    } else if (event.type === 'xstate.stop') {
      abort(snapshot, scope, scheduler.stop('CANCELLED', 'the run actor was stopped'));
    } else if ('output' in event) {
      const { node, outcome } = event.output;
      snapshot.actors[node.index] = undefined;
      // Redacted before successors see it and before it is stored.
      const { launches, aborts } = scheduler.settle(node, redactOutcome(snapshot.shared.redactor, outcome));
      const { logger } = snapshot.input.deps;
      if (logger !== undefined) logFanOut(logger, snapshot.input.runId, node, scheduler.steps[node.index]!);
      abort(snapshot, scope, aborts);
      if (!launchWhileHeld(snapshot, scope, launches)) return detach(snapshot, scope);
    } else {
      // Node actors resolve with an outcome and never reject: reaching here is a bug in the engine.
      const error = 'error' in event ? describeError(event.error) : 'unexpected event';
      abort(snapshot, scope, scheduler.stop('FAILED', `internal error: ${error}`));
    }
    flush(snapshot);
    if (scheduler.idle && !scheduler.finished) return detach(snapshot, scope);
    if (!scheduler.finished) return snapshot;
    snapshot.timer.abort();
    return { ...snapshot, status: 'done', output: { state: { ...scheduler.run }, detached: false } };
  },

  // Durable state is the rows, never an XState snapshot (its format changes between XState versions).
  getPersistedSnapshot: ({ input: _i, scheduler: _s, actors: _a, shared: _sh, timer: _t, ...snapshot }) => snapshot,
};

/** A run given no secrets: every reference is to a secret that does not exist. */
const noSecrets: RunSecrets = { known: new Map(), read: () => Promise.resolve(null) };

/** Reads the run's secrets for its http nodes; every value read is redacted from then on. */
function secretReader(secrets: RunSecrets, redactor: Redactor): SecretReader {
  return async (name) => {
    const value = await secrets.read(name);
    if (value === null) throw new NonRetriableError(`secret ${JSON.stringify(name)} does not exist`);
    redactor.add(name, value);
    return value;
  };
}

function redactOutcome(redactor: Redactor, outcome: NodeOutcome): NodeOutcome {
  if (!redactor.active) return outcome;
  if (outcome.status === 'FAILED') return { status: 'FAILED', error: redactor.text(outcome.error) };
  return { ...outcome, output: redactor.redact(outcome.output) };
}

/** Ends the run actor without storing anything more: its rows stay as they are, for another process. */
function detach(snapshot: RunSnapshot, scope: Scope): RunSnapshot {
  for (const actor of snapshot.actors) if (actor) scope.stopChild(actor);
  snapshot.actors.fill(undefined);
  snapshot.timer.abort();
  return { ...snapshot, status: 'done', error: undefined, output: { state: { ...snapshot.scheduler.run }, detached: true } };
}

/**
 * Starts one node actor per launched node, each with the `$input` the scheduler recorded on its step;
 * a node that was running in an earlier process goes on from its stored attempt and wake-up times.
 */
function launch(snapshot: RunSnapshot, scope: Scope, launches: GraphNode[]): void {
  const { steps } = snapshot.scheduler;
  for (const node of launches) {
    const { input, attempt, retryAt, wakeAt } = steps[node.index]!;
    const resume =
      attempt > 1 || retryAt !== null || wakeAt !== null
        ? { attempt, retryAt: retryAt?.getTime() ?? null, wakeAt: wakeAt?.getTime() ?? null }
        : undefined;
    const actor = createActor(nodeActorLogic, { parent: scope.self, id: node.id, input: { run: snapshot.shared, node, input, resume } });
    snapshot.actors[node.index] = actor;
    actor.start();
  }
}

/** Launches `launches` unless the lease is gone: then stores what changed and returns false (detach the run). */
function launchWhileHeld(snapshot: RunSnapshot, scope: Scope, launches: GraphNode[]): boolean {
  if (launches.length > 0 && !snapshot.input.deps.holds()) {
    flush(snapshot);
    return false;
  }
  launch(snapshot, scope, launches);
  return true;
}

/** Stops the node actors of aborted nodes, which aborts their signals. */
function abort(snapshot: RunSnapshot, scope: Scope, nodes: GraphNode[]): void {
  for (const node of nodes) {
    const actor = snapshot.actors[node.index];
    if (actor) scope.stopChild(actor);
    snapshot.actors[node.index] = undefined;
  }
}

function flush(snapshot: RunSnapshot): void {
  const commit = snapshot.scheduler.takeCommit();
  if (commit) snapshot.input.deps.commit(commit);
}
