// The process's Prometheus metrics (prom-client, one registry per server): runs started, finished and
// active, node step durations, event delivery latency, open subscriptions and load shedding, served at GET /metrics.
import { Counter, Gauge, Registry } from 'prom-client';
import { createFastHistogram } from './histogram.js';

/** What the server feeds into its metrics; the gauges read their sources when scraped. */
export interface Metrics {
  readonly registry: Registry;
  /** A run started to run here (fresh, or again after retryRun). */
  runStarted(): void;
  /** A run's final state was stored by this process. */
  runFinished(status: string): void;
  /** A node's step settled after running for `seconds` (retries included). */
  nodeSettled(type: string, status: string, seconds: number): void;
  /**
   * An event was written to a subscriber's socket; `committedAt` is the event's `at` (the moment the
   * engine made it, in the step whose commit carried it).
   */
  eventDelivered(committedAt: Date): void;
  /** Retention deleted `count` finished runs. */
  runsDeleted(count: number): void;
  /** The Prometheus text of every metric. */
  text(): Promise<string>;
  readonly contentType: string;
}

export interface MetricSources {
  /** Runs this process drives now. */
  activeRuns(): number;
  /** Subscriptions (graphql-ws and SSE) served now. */
  activeSubscriptions(): number;
  /** Runs stored in the database, estimated (a catalog read, not a count): read when scraped. */
  storedRuns?(): Promise<number>;
  /** Whether the process sheds load now, and its event-loop delay in ms (null before it was measured). */
  load?: { shedding(): boolean; eventLoopDelayMs(): number | null };
}

// Node steps run from sub-millisecond transforms to long waits; deliveries from ~1 ms to seconds.
const nodeBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const deliveryBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const runsStarted = new Counter({ name: 'braid_runs_started_total', help: 'Runs started by this process.', registers });
  const runsFinished = new Counter({
    name: 'braid_runs_finished_total',
    help: 'Runs whose final state this process stored, by status.',
    labelNames: ['status'] as const,
    registers,
  });
  new Gauge({
    name: 'braid_runs_active',
    help: 'Runs this process drives now.',
    registers,
    collect() {
      this.set(sources.activeRuns());
    },
  });
  // Observed per step and per event written: prom-client's own observe costs ~1.5 µs a call.
  const nodeDuration = createFastHistogram({
    name: 'braid_node_duration_seconds',
    help: 'How long node steps ran, from start to settlement (retries included), by node type and status.',
    labelNames: ['type', 'status'],
    buckets: nodeBuckets,
    registry,
  });
  const delivery = createFastHistogram({
    name: 'braid_event_delivery_seconds',
    help: "From an event's commit to its write to a subscriber's socket.",
    buckets: deliveryBuckets,
    registry,
  });
  new Gauge({
    name: 'braid_subscriptions_active',
    help: 'Subscriptions (graphql-ws and SSE) served now.',
    registers,
    collect() {
      this.set(sources.activeSubscriptions());
    },
  });
  const load = sources.load;
  if (load) {
    new Gauge({
      name: 'braid_shedding',
      help: '1 while this process sheds load (event-loop delay or heap past its threshold): it takes no new runs and delays node starts.',
      registers,
      collect() {
        this.set(load.shedding() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'braid_event_loop_delay_seconds',
      help: 'Event-loop delay of this process over its last one-second window (p99).',
      registers,
      collect() {
        this.set((load.eventLoopDelayMs() ?? 0) / 1000);
      },
    });
  }
  const runsDeleted = new Counter({ name: 'braid_runs_deleted_total', help: 'Finished runs deleted by retention (RUN_RETENTION_HOURS) in this process.', registers });
  const storedRuns = sources.storedRuns;
  if (storedRuns) {
    new Gauge({
      name: 'braid_runs_stored',
      help: 'Runs stored in the database (every process, every organization), estimated from the table statistics.',
      registers,
      async collect() {
        this.set(await storedRuns());
      },
    });
  }
  for (const status of ['SUCCEEDED', 'FAILED', 'CANCELLED']) runsFinished.inc({ status }, 0);

  return {
    registry,
    runStarted: () => runsStarted.inc(),
    runFinished: (status) => runsFinished.inc({ status }),
    nodeSettled: (type, status, seconds) => nodeDuration.observe(seconds, type, status),
    // Wall clock on both sides; a clock stepping back gives no negative latency.
    eventDelivered: (committedAt) => delivery.observe(Math.max(0, Date.now() - committedAt.getTime()) / 1000),
    runsDeleted: (count) => runsDeleted.inc(count),
    text: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
  };
}
