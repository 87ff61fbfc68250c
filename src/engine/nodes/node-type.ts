// What a node type is: a params schema, its handles, and a plain async handler. No XState, no database.
import type { z } from 'zod';
import type { Clock } from '../clock.js';

/** Structured log lines from a handler. */
export type Log = (message: string, data?: Record<string, unknown>) => void;

/** Everything a handler may use besides its params. */
export interface NodeContext {
  runId: string;
  nodeId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** `$input`: the single live predecessor's output, or an object keyed by source node id. */
  input: unknown;
  /** The run's input (`$run.input`). */
  runInput: unknown;
  /** Aborted when the run is cancelled, fails fast, or the attempt times out. Honour it. */
  signal: AbortSignal;
  clock: Clock;
  log: Log;
  /** Evaluates a JSONata expression with `$input`, `$nodes` and `$run` bound. */
  evaluate(expression: string): Promise<unknown>;
  /** Whether the http node may reach loopback and private addresses (HTTP_ALLOW_PRIVATE). */
  allowPrivateNetwork: boolean;
  /**
   * `<runId>:<nodeId>:<Run.retries>`: the same for every attempt of this node in this run, also after
   * a crash, so that a receiver can drop a repeat; a retryRun makes a new one.
   */
  idempotencyKey: string;
  /**
   * `text` with every value of a secret this run used replaced by `[secret:NAME]`. The engine redacts
   * outputs and errors itself; a handler that shortens text it reports redacts it first, so that no
   * cut leaves part of a value behind.
   */
  redact(text: string): string;
  /** The W3C `traceparent` of this attempt's span when tracing is on (the http node sends it). */
  traceparent?: string | undefined;
  /**
   * A durable wait: sleeps `ms` (cut short when the signal aborts). Its deadline is stored, so a node
   * resumed after a crash or a shutdown waits only for what is left of it.
   */
  wait(ms: number): Promise<void>;
  /**
   * A slot for one request to `host` (a URL's `host`) under the process's per-host limits
   * (HTTP_HOST_CONCURRENCY, adapted to 429s, paused by Retry-After). While it waits, the step is
   * RUNNING with a `reason` saying so; it rejects when `signal` aborts. Absent: no limits apply.
   */
  acquireHost?(host: string, signal: AbortSignal): Promise<HostPermit>;
}

/** How a request ended, for its host's limit: the status, and Retry-After in ms when the answer had one. */
export interface HostAnswer {
  status: number;
  retryAfterMs?: number | undefined;
}

/** One request's slot at its host. */
export interface HostPermit {
  /** Gives the slot back (once); `answer` is absent when no answer came (a network error, an abort). */
  release(answer?: HostAnswer): void;
}

/** A handler's result: its output and, for condition/switch, the one handle it chose. */
export interface NodeResult {
  output: unknown;
  handle?: string;
}

/** A node type: the catalog entry and the handler. */
export interface NodeType<P = any> {
  type: string;
  description: string;
  /** Validates params (after `{{ }}` templates were resolved); defaults filled in. */
  params: z.ZodType<P>;
  /** Names of params that hold a bare JSONata expression (evaluated by the handler, never templated). */
  expressionParams?: readonly string[];
  /** Names of params that may hold `{{ $secrets.NAME }}` (substituted after every other template). */
  secretParams?: readonly string[];
  /** The handles its outgoing edges must name; absent for types whose edges name none. */
  handles?(params: P): readonly string[];
  run(params: P, ctx: NodeContext): Promise<NodeResult>;
}

/** The node types an engine knows, by type name. */
export type NodeRegistry = ReadonlyMap<string, NodeType>;
