// The engine of a server process as configured: its run store (commits gathered on PGlite, fenced by
// epoch on PostgreSQL), the node types, the limits on node starts (per host, per organization, while
// shedding load), the expression limits, the commit metrics, tracing and the clock.
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createRunStore } from './db/run-store.js';
import {
  createEngine,
  type Clock,
  type Engine,
  type ExpressionMode,
  type HostLimits,
  type Log,
  type NodeRegistry,
  type RunCommit,
  type RunningNodeLimits,
  type RunTracer,
  type StartGate,
} from './engine/index.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { observeCommits } from './observability/run-observer.js';

export interface ServerEngineOptions {
  config: Config;
  database: Database;
  registry: NodeRegistry;
  /** Per host, shared by every run of this process: HTTP_HOST_CONCURRENCY, adapted by 429s, paused by Retry-After. */
  hostLimits: HostLimits;
  /** Organizations' maxRunningNodes. */
  runningNodeLimits: RunningNodeLimits;
  /** While shedding load, new node starts wait (PENDING, saying why) instead of failing. */
  startGate: StartGate;
  metrics: Metrics;
  log: Log;
  logger: Logger;
  tracer?: RunTracer;
  clock?: Clock;
  expressionMode?: ExpressionMode;
}

/** What the run service calls to build its engine, over the store hooks it gives. */
export function serverEngine(options: ServerEngineOptions) {
  const { config, database } = options;
  return (wiring: {
    onCommitted(commit: RunCommit): void;
    epochOf(runId: string): number | undefined;
    holds(runId: string): boolean;
    notify?: { channel: string; sender: string };
  }): Engine =>
    createEngine({
      store: createRunStore(database, {
        // PGlite writes on the main thread: gathering commits for 10 ms makes fewer, larger writes and
        // leaves the loop free for the I/O of the nodes just started (seed on PGlite: 217–220 → 207–211 ms
        // makespan). PostgreSQL writes off-thread, so its batches go at the end of each loop turn.
        gatherMs: database.driver === 'pglite' ? 10 : 0,
        // Alone on PGlite nobody else can take a run: fencing would only cost a statement.
        ...(database.driver === 'postgres' ? { epochOf: wiring.epochOf } : {}),
        ...(wiring.notify ? { notify: wiring.notify } : {}),
      }),
      registry: options.registry,
      allowPrivateNetwork: config.httpAllowPrivate,
      hostLimits: options.hostLimits,
      runningNodeLimits: options.runningNodeLimits,
      startGate: options.startGate,
      expressions: {
        limits: {
          timeoutMs: config.expressionTimeoutMs,
          memoryMb: config.expressionMemoryMb,
          resultBytes: config.expressionResultBytes,
          workers: config.expressionWorkers,
        },
        warm: true,
        mode: options.expressionMode,
      },
      onCommitted: observeCommits(options.metrics, wiring.onCommitted),
      log: options.log,
      logger: options.logger,
      ...(options.tracer ? { tracer: options.tracer } : {}),
      // Alone on PGlite a lease cannot be lost to another process.
      ...(database.driver === 'postgres' ? { holds: wiring.holds } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
}
