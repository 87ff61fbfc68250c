// The engine: starts run actors (fresh or from a run's stored state), cancels, drains and detaches
// them, persists each step through the store port and publishes it only once stored.
import { createActor, toPromise, type ActorRefFrom } from 'xstate';
import { systemClock, type Clock } from './clock.js';
import { createCommitQueue } from './commit-queue.js';
import type { RunCommit, RunState } from './events.js';
import { createExpressionEvaluator, type ExpressionEvaluatorOptions } from './expression-evaluator.js';
import type { WorkflowGraph } from './graph.js';
import { createHostLimits, type HostLimits } from './host-limits.js';
import { createNodeGates, type RunningNodeLimits, type StartGate } from './node-gates.js';
import { builtinNodeTypes } from './nodes/index.js';
import type { LeveledLogger } from './fan-out-log.js';
import type { Log, NodeRegistry } from './nodes/node-type.js';
import { runActorLogic } from './run-actor.js';
import type { RestoredRun } from './scheduler.js';
import type { RunSecrets } from './secret-refs.js';
import type { RunSpan, RunTracer } from './run-tracer.js';
import type { RunStore } from './store.js';

export interface EngineOptions {
  store: RunStore;
  /** Node types the engine runs; the built-in ones by default. */
  registry?: NodeRegistry;
  clock?: Clock;
  /** Let http nodes reach loopback and private addresses (HTTP_ALLOW_PRIVATE). */
  allowPrivateNetwork?: boolean;
  /** Called with each commit after the store persisted it, in order per run: publish here. */
  onCommitted?: (commit: RunCommit) => void;
  log?: Log;
  /**
   * Leveled lines (pino's shape): debug `Node <id> has <n> outgoing edge(s)` and info `Executing <n>
   * parallel branches from node <id>`, each with its runId. Asked per level before a line is built.
   */
  logger?: LeveledLogger;
  /** Spans per run and per node attempt; none (and no cost) without it. */
  tracer?: RunTracer;
  /** Jitter for exponential backoff; Math.random by default. */
  random?: () => number;
  /**
   * Whether this process may still drive `runId` (its lease holds); always by default. Checked before
   * a node starts: a run whose lease is gone is detached rather than sending anything more.
   */
  holds?: (runId: string) => boolean;
  /**
   * How expressions and templates are evaluated: the bounds (EXPRESSION_* settings; defaults 5 s,
   * 64 MB, 1 MiB), whether to start the worker threads now (`warm`, for a server), a pool of one's
   * own, or `mode: 'inline'` (the unbounded in-thread evaluation; benchmarks' baseline only). The
   * engine's own pool is closed by `drain` and `stop`.
   */
  expressions?: ExpressionEvaluatorOptions;
  /**
   * The process's per-host limits on http nodes' requests (HTTP_HOST_CONCURRENCY); by default the
   * engine's own, 64 per host on its clock.
   */
  hostLimits?: HostLimits;
  /**
   * Organizations' maxRunningNodes: a run started with an `organizationId` starts a node only while its
   * organization has fewer nodes RUNNING in this engine than its limit; the others wait PENDING with a reason.
   */
  runningNodeLimits?: RunningNodeLimits;
  /**
   * Holds new node starts while it returns a promise (load shedding), releasing them when the promise
   * resolves; running nodes go on. Asked before every node start: keep it cheap.
   */
  startGate?: StartGate;
}

export interface StartRunOptions {
  runId: string;
  graph: WorkflowGraph;
  input: unknown;
  /** `Run.retries` (default 0): part of the Idempotency-Key of every http request. */
  retries?: number;
  /** The run's stored state, when it ran before: it goes on from there instead of starting. */
  restored?: RestoredRun;
  /** Its organization's secrets, when its workflow references any (`graph.secrets`). */
  secrets?: RunSecrets;
  /** Its organization, whose maxRunningNodes (`runningNodeLimits`) its nodes count against. */
  organizationId?: string;
}

/**
 * How a run left this engine: `finished` (its final state is stored), `detached` (drained or detached:
 * its rows stay as last stored, for another process or the next start), or `store-failed` (a commit
 * failed; nothing after it was written, so the stored state is behind `state`).
 */
export type RunEnd =
  | { how: 'finished' | 'detached'; state: RunState }
  | { how: 'store-failed'; state: RunState; error: unknown };

/** A started run; `done` resolves with its final state once that state is stored. */
export interface RunHandle {
  runId: string;
  done: Promise<RunState>;
  ended: Promise<RunEnd>;
}

export interface Engine {
  readonly registry: NodeRegistry;
  startRun(options: StartRunOptions): RunHandle;
  /** Cancels a live run; false when no run of that id is live in this engine. */
  cancelRun(runId: string, reason?: string): boolean;
  /** Stops a live run at once without storing anything more (its lease was lost); false when not live. */
  detachRun(runId: string): boolean;
  isRunning(runId: string): boolean;
  readonly liveRunIds: IterableIterator<string>;
  /**
   * Starts no more nodes; waits up to `graceMs` for the running ones to settle, then stops the rest
   * where they are (left RUNNING in the store) and waits until everything settled was stored.
   */
  drain(graceMs: number): Promise<void>;
  /** Cancels every live run and waits until their final states are stored. */
  stop(reason?: string): Promise<void>;
}

type RunActor = ActorRefFrom<typeof runActorLogic>;

const always = () => true;

/** Creates an engine over a store. */
export function createEngine(options: EngineOptions): Engine {
  const registry = options.registry ?? builtinNodeTypes;
  const clock = options.clock ?? systemClock;
  const log: Log = options.log ?? ((message, data) => console.error(message, data ?? ''));
  const live = new Map<string, { actor: RunActor; ended: Promise<RunEnd> }>();
  const expressions = createExpressionEvaluator({ log, ...options.expressions });
  const hosts = options.hostLimits ?? createHostLimits({ max: 64, clock });
  const gates = createNodeGates({ limits: options.runningNodeLimits, startGate: options.startGate });

  function startRun({ runId, graph, input, retries = 0, restored, secrets, organizationId }: StartRunOptions): RunHandle {
    if (live.has(runId)) throw new Error(`run ${runId} is already running`);
    const span: RunSpan | undefined = options.tracer?.startRun(runId);
    let storeError: { error: unknown } | undefined;
    const commits = createCommitQueue(options.store, {
      stored: (change) => options.onCommitted?.(change),
      failed(error) {
        // Nothing after a failed commit is written: stop the run where it is; `ended` tells the caller,
        // who knows whether to settle it (a lost connection) or not (another process drives it now).
        storeError = { error };
        actor.send({ type: 'run.detach' });
      },
    });
    // Woken by other runs' transitions: sent on a later microtask, never inside theirs.
    const gate = gates.forRun(organizationId, () => queueMicrotask(() => actor.send({ type: 'run.wake' })));
    const actor: RunActor = createActor(runActorLogic, {
      id: `run:${runId}`,
      input: {
        runId,
        graph,
        input,
        retries,
        restored,
        secrets,
        deps: {
          clock,
          log,
          logger: options.logger,
          allowPrivateNetwork: options.allowPrivateNetwork ?? false,
          random: options.random ?? Math.random,
          expressions,
          commit: commits.push,
          holds: options.holds ? () => options.holds!(runId) : always,
          span,
          hosts,
          gate,
        },
      },
    });
    const ended = toPromise(actor).then(async ({ state, detached }): Promise<RunEnd> => {
      gate?.close();
      await commits.drained();
      live.delete(runId);
      span?.end(detached ? 'DETACHED' : state.status, storeError ? String(storeError.error) : state.error);
      if (storeError) return { how: 'store-failed', state, error: storeError.error };
      return { how: detached ? 'detached' : 'finished', state };
    });
    live.set(runId, { actor, ended });
    actor.start();
    return { runId, ended, done: ended.then((end) => end.state) };
  }

  function send(runId: string, event: Parameters<RunActor['send']>[0]): boolean {
    const run = live.get(runId);
    if (!run) return false;
    run.actor.send(event);
    return true;
  }

  return {
    registry,
    startRun,
    cancelRun: (runId, reason = 'cancelled by request') => send(runId, { type: 'run.cancel', reason }),
    detachRun: (runId) => send(runId, { type: 'run.detach' }),
    isRunning: (runId) => live.has(runId),
    get liveRunIds() {
      return live.keys();
    },
    async drain(graceMs) {
      const runs = [...live.values()];
      for (const run of runs) run.actor.send({ type: 'run.drain' });
      const all = Promise.all(runs.map((run) => run.ended));
      const stop = new AbortController();
      const grace = clock.sleep(graceMs, stop.signal).then(() => true, () => false);
      if (await Promise.race([all.then(() => false), grace])) {
        for (const run of runs) run.actor.send({ type: 'run.detach' });
      }
      stop.abort();
      await all;
      await expressions.close();
    },
    async stop(reason = 'server shutting down') {
      const runs = [...live.values()];
      for (const run of runs) run.actor.send({ type: 'run.cancel', reason });
      await Promise.all(runs.map((run) => run.ended));
      await expressions.close();
    },
  };
}
