// The engine: starts run actors, cancels them, persists each step through the store port and
// publishes it only once stored.
import { createActor, toPromise, type ActorRefFrom } from 'xstate';
import { systemClock, type Clock } from './clock.js';
import { describeError } from './errors.js';
import type { RunCommit, RunState } from './events.js';
import type { WorkflowGraph } from './graph.js';
import { builtinNodeTypes } from './nodes/index.js';
import type { Log, NodeRegistry } from './nodes/node-type.js';
import { runActorLogic } from './run-actor.js';
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
  /** Jitter for exponential backoff; Math.random by default. */
  random?: () => number;
}

export interface StartRunOptions {
  runId: string;
  graph: WorkflowGraph;
  input: unknown;
}

/** A started run; `done` resolves with its final state once that state is stored. */
export interface RunHandle {
  runId: string;
  done: Promise<RunState>;
}

export interface Engine {
  readonly registry: NodeRegistry;
  startRun(options: StartRunOptions): RunHandle;
  /** Cancels a live run; false when no run of that id is live in this engine. */
  cancelRun(runId: string, reason?: string): boolean;
  isRunning(runId: string): boolean;
  /** Cancels every live run and waits until their final states are stored. */
  stop(reason?: string): Promise<void>;
}

type RunActor = ActorRefFrom<typeof runActorLogic>;

/** Creates an engine over a store. */
export function createEngine(options: EngineOptions): Engine {
  const registry = options.registry ?? builtinNodeTypes;
  const clock = options.clock ?? systemClock;
  const log: Log = options.log ?? ((message, data) => console.error(message, data ?? ''));
  const live = new Map<string, { actor: RunActor; done: Promise<RunState> }>();

  function startRun({ runId, graph, input }: StartRunOptions): RunHandle {
    if (live.has(runId)) throw new Error(`run ${runId} is already running`);
    let stored: Promise<void> = Promise.resolve();
    let broken = false;
    const commit = (change: RunCommit) => {
      if (broken) return;
      const write = options.store.commit(change);
      // Chained so that commits publish in order even if a store resolves them out of order.
      stored = stored.then(() =>
        write.then(
          () => options.onCommitted?.(change),
          (error: unknown) => {
            // Later commits would leave a gap in the stored seqs: stop writing and end the run here.
            // Its rows stay as last stored (RUNNING); a restarted server settles such runs.
            broken = true;
            log('run store failed; run stopped', { runId, error: describeError(error) });
            actor.send({ type: 'run.fail', reason: `storage failed: ${describeError(error)}` });
          },
        ),
      );
    };
    const actor: RunActor = createActor(runActorLogic, {
      id: `run:${runId}`,
      input: {
        runId,
        graph,
        input,
        deps: {
          clock,
          log,
          allowPrivateNetwork: options.allowPrivateNetwork ?? false,
          random: options.random ?? Math.random,
          commit,
        },
      },
    });
    const done = toPromise(actor).then(async (state) => {
      await stored;
      live.delete(runId);
      return state;
    });
    live.set(runId, { actor, done });
    actor.start();
    return { runId, done };
  }

  return {
    registry,
    startRun,
    cancelRun(runId, reason = 'cancelled by request') {
      const run = live.get(runId);
      if (!run) return false;
      run.actor.send({ type: 'run.cancel', reason });
      return true;
    },
    isRunning: (runId) => live.has(runId),
    async stop(reason = 'server shutting down') {
      const runs = [...live.values()];
      for (const run of runs) run.actor.send({ type: 'run.cancel', reason });
      await Promise.all(runs.map((run) => run.done));
    },
  };
}
