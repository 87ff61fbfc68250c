// Runs one node to its outcome: templates, attempts, per-attempt timeout, retries with backoff.
// Knows nothing of XState; the node actor wraps it.
import { retryDelay, withTimeout } from './attempt-timing.js';
import type { Clock } from './clock.js';
import { describeError, NodeExecutionError, NodeTimeoutError, RunCancelledError } from './errors.js';
import { quote } from './expression-compile.js';
import type { EvaluationBounds, ExpressionEvaluator } from './expression-evaluator.js';
import { ExpressionLimitError } from './expression-limits.js';
import { prepareParams, templateExpressions, type ExpressionScope } from './expressions.js';
import type { GraphNode } from './graph.js';
import type { HostLimits } from './host-limits.js';
import { findUnstorable } from './json-walk.js';
import type { HostPermit, Log, NodeContext, NodeResult } from './nodes/node-type.js';
import type { Redactor } from './redaction.js';
import type { RunSpan } from './run-tracer.js';
import type { NodeOutcome } from './scheduler.js';
import type { SecretReader } from './secret-refs.js';

/** What every node of one run shares (one object per run, not per node). */
export interface RunShared {
  runId: string;
  runInput: unknown;
  /** `$run` in expressions: `{ id, input }`, one object per run. */
  expressionRun: { id: string; input: unknown };
  /** `$nodes`, growing as the run goes on. */
  outputs: Record<string, unknown>;
  clock: Clock;
  log: Log;
  allowPrivateNetwork: boolean;
  /** Evaluates expressions and templates (in bounded workers, or inline when provably cheap). */
  expressions: ExpressionEvaluator;
  /** Reads the secrets `{{ $secrets.NAME }}` stands for (in the params of types that allow them). */
  secrets: SecretReader;
  /** Redacts the values of the secrets the run used (applied by the run actor to outputs and errors). */
  redactor: Redactor;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** How many times the run was retried (`Run.retries`): part of every http request's Idempotency-Key. */
  retries: number;
  /** Whether this process may still drive the run (its lease holds); checked before a retry's attempt. */
  holds(): boolean;
  /** Called when a retry finds the lease gone: the run actor detaches the run. */
  onLost(): void;
  /** Called when an attempt of `node` failed and the next one starts at `retryAt` (ms since the epoch). */
  onRetry(node: GraphNode, failedAttempt: number, error: string, retryAt: number): void;
  /** Called when `node` starts a durable wait (`ctx.wait`) that ends at `wakeAt`. */
  onWait(node: GraphNode, wakeAt: number): void;
  /** The run's span, when tracing: each attempt gets a child span. */
  span: RunSpan | undefined;
  /** The process's per-host limits on HTTP requests (`ctx.acquireHost`). */
  hosts: HostLimits;
  /** Called while `node` waits for its host (`reason`), and with null once it stopped waiting. */
  onHostWait(node: GraphNode, reason: string | null): void;
}

/** Where a node that was running when its run stopped goes on: the stored attempt and wake-up times. */
export interface NodeResume {
  attempt: number;
  /** The attempt starts no earlier than this (a retry wait that was under way). */
  retryAt: number | null;
  /** The deadline of a durable wait that was under way. */
  wakeAt: number | null;
}

/** What a node actor runs. */
export interface NodeRunInput {
  run: RunShared;
  node: GraphNode;
  input: unknown;
  /** Set when the node was running in an earlier process: it goes on from there. */
  resume?: NodeResume | undefined;
  /** The traceparent of the attempt under way, when tracing (its handler's `ctx.traceparent`). */
  traceparent?: string | undefined;
}

/**
 * A node actor's stop state. The AbortSignal is made only when someone asks for it (`stopSignal`):
 * Node's AbortController costs more than the rest of a no-op node, and most handlers never look.
 * Plain data rather than an object of getters so that a node allocates no closures for it.
 */
export interface StopToken {
  aborted: boolean;
  reason: unknown;
  controller: AbortController | undefined;
}

export const createStopToken = (): StopToken => ({ aborted: false, reason: undefined, controller: undefined });

/** The signal of `stop`, made on first use (already aborted if the node was stopped before). */
export function stopSignal(stop: StopToken): AbortSignal {
  if (stop.controller === undefined) {
    stop.controller = new AbortController();
    if (stop.aborted) stop.controller.abort(stop.reason);
  }
  return stop.controller.signal;
}

/** Stops the node: aborts its signal if one was made, and every later `stopSignal`. */
export function abortStop(stop: StopToken, reason: unknown): void {
  if (stop.aborted) return;
  stop.aborted = true;
  stop.reason = reason;
  stop.controller?.abort(reason);
}

/**
 * Runs the node until it succeeds, fails for good, or `stop` aborts (then it rejects with the
 * stop reason; the run actor has already marked the node CANCELLED). Never rejects otherwise.
 * Promise chains rather than an async loop: the first attempt of a node is the hot path, and an
 * async function's frame cost ~1.9 KB of allocation per node (BENCHMARKS.md).
 */
export function runNode(task: NodeRunInput, stop: StopToken): Promise<NodeOutcome> {
  const { resume } = task;
  if (!resume) return runAttempt(task, stop, 1);
  // An attempt cut short by a crash runs again under the same number: it does not use up maxAttempts.
  const wait = resume.retryAt === null ? 0 : resume.retryAt - task.run.clock.now();
  if (wait <= 0) return runAttempt(task, stop, resume.attempt);
  return task.run.clock.sleep(wait, stopSignal(stop)).then(() => runAttempt(task, stop, resume.attempt));
}

function runAttempt(task: NodeRunInput, stop: StopToken, attempt: number): Promise<NodeOutcome> {
  if (task.run.span !== undefined) return tracedAttempt(task, stop, attempt, task.run.span);
  let result: Promise<NodeResult>;
  try {
    result = callHandler(task, stop, attempt);
  } catch (error) {
    // A handler that throws instead of rejecting fails its attempt all the same.
    result = Promise.reject(error);
  }
  return result.then(succeeded, (error: unknown) => afterFailure(task, stop, attempt, error));
}

/** runAttempt under a child span of the run's, whose traceparent the handler sees. */
function tracedAttempt(task: NodeRunInput, stop: StopToken, attempt: number, runSpan: RunSpan): Promise<NodeOutcome> {
  const span = runSpan.startAttempt(task.node.id, task.node.definition.type, attempt);
  task.traceparent = span.traceparent;
  let result: Promise<NodeResult>;
  try {
    result = callHandler(task, stop, attempt);
  } catch (error) {
    result = Promise.reject(error);
  }
  return result.then(
    (value) => {
      const outcome = succeeded(value);
      span.end(outcome.status, outcome.status === 'FAILED' ? outcome.error : undefined);
      return outcome;
    },
    (error: unknown) => {
      span.end(stop.aborted ? 'CANCELLED' : 'FAILED', task.run.redactor.text(describeError(error)));
      return afterFailure(task, stop, attempt, error);
    },
  );
}

/** A handler's result as an outcome; an output the database could not store fails the step instead. */
function succeeded(result: NodeResult): NodeOutcome {
  const output = result.output ?? null;
  const bad = findUnstorable(output);
  if (bad !== null) {
    const where = bad.path.length === 0 ? 'the output' : `output.${bad.path.join('.')}`;
    const what = bad.kind === 'nul' ? 'a NUL character (\\u0000)' : 'a lone UTF-16 surrogate (half of a character)';
    return { status: 'FAILED', error: `the output cannot be stored: ${where} holds ${what}` };
  }
  return { status: 'SUCCEEDED', output, handle: result.handle };
}

/** Prepares params (unless static: parsed once per graph) and calls the handler. */
function callHandler(task: NodeRunInput, stop: StopToken, attempt: number): Promise<NodeResult> {
  const { node } = task;
  const params = staticParams(node);
  if (params !== null) return invoke(task, stop, attempt, params);
  // The templates of one node share one time bound (its timeoutMs, else EXPRESSION_TIMEOUT_MS).
  const bounds = expressionBounds(task, () => stopSignal(stop));
  return prepareParams(node.nodeType, node.definition.params, scopeOf(task), task.run.expressions, bounds, task.run.secrets).then((prepared) =>
    invoke(task, stop, attempt, prepared),
  );
}

/** The time bound of the expressions of `task`'s node: its timeoutMs, else the evaluator's default. */
function expressionBounds(task: NodeRunInput, signal: () => AbortSignal): EvaluationBounds {
  const { timeoutMs } = task.node.definition;
  if (timeoutMs !== undefined) return { timeoutMs, timeoutName: 'timeoutMs', signal };
  return { timeoutMs: task.run.expressions.limits.timeoutMs, timeoutName: 'EXPRESSION_TIMEOUT_MS', signal };
}

/** Calls the handler, under the node's per-attempt timeout if it has one. */
function invoke(task: NodeRunInput, stop: StopToken, attempt: number, params: unknown): Promise<NodeResult> {
  const { node, run } = task;
  const { timeoutMs } = node.definition;
  if (timeoutMs === undefined) return node.nodeType.run(params, createContext(task, attempt, stop, undefined, undefined));
  // An attempt that times out while an expression runs fails as that expression's limit (not retried).
  const watch: EvaluationWatch = { source: undefined };
  const timedOut = () =>
    watch.source === undefined
      ? new NodeTimeoutError(timeoutMs)
      : new ExpressionLimitError('timeout', `expression ${quote(watch.source)} timed out after ${timeoutMs} ms (timeoutMs)`);
  return withTimeout(timeoutMs, run.clock, stopSignal(stop), timedOut, (signal) =>
    node.nodeType.run(params, createContext(task, attempt, stop, signal, watch)),
  );
}

/** The expression a handler is evaluating, if any (read when its attempt times out). */
interface EvaluationWatch {
  source: string | undefined;
}

/** `ctx.evaluate`: under the node's bounds and its signal (which the attempt's timeout aborts). */
function evaluateInNode(task: NodeRunInput, ctx: NodeContext, watch: EvaluationWatch | undefined, source: string): Promise<unknown> {
  const evaluation = task.run.expressions.evaluate(source, scopeOf(task), expressionBounds(task, () => ctx.signal));
  if (watch === undefined) return evaluation;
  watch.source = source;
  return evaluation.finally(() => {
    if (watch.source === source) watch.source = undefined;
  });
}

/** A failed attempt: rethrows a stop, else retries after the backoff or settles as FAILED. */
async function afterFailure(task: NodeRunInput, stop: StopToken, attempt: number, error: unknown): Promise<NodeOutcome> {
  if (stop.aborted) throw stop.reason;
  const { run, node } = task;
  const { retry } = node.definition;
  const message = describeError(error);
  const retriable = !(error instanceof NodeExecutionError) || error.retriable;
  if (!retriable || attempt >= (retry?.maxAttempts ?? 1)) return { status: 'FAILED', error: message };
  const delay = retryDelay(retry!, attempt, error, run.random);
  run.onRetry(node, attempt, message, run.clock.now() + delay);
  await run.clock.sleep(delay, stopSignal(stop));
  if (!run.holds()) {
    run.onLost();
    throw new RunCancelledError('the lease on this run was lost');
  }
  return runAttempt(task, stop, attempt + 1);
}

/** What expressions of this node see; made only for templates and `evaluate`, which most nodes never use. */
const scopeOf = ({ run, input }: NodeRunInput): ExpressionScope => ({ input, nodes: run.outputs, run: run.expressionRun });

const stopKey = Symbol('stop');
const attemptSignalKey = Symbol('attemptSignal');
const taskKey = Symbol('task');

/** What a ctx keeps for its `signal` getter, under symbols so that handlers' `Object.keys` don't see it. */
interface ContextState {
  [stopKey]: StopToken;
  [attemptSignalKey]: AbortSignal | undefined;
  [taskKey]: NodeRunInput;
}

/**
 * Every ctx's prototype, holding the `signal` getter: the attempt's (timeout) signal when there is
 * one, else the node's, made on first read. A getter written in the ctx literal itself would turn
 * every ctx into a dictionary-mode object, ~1.3 µs each on Node 20 (BENCHMARKS.md).
 */
const contextPrototype = {
  get signal(): AbortSignal {
    const state = this as unknown as ContextState;
    return state[attemptSignalKey] ?? stopSignal(state[stopKey]);
  },
  /**
   * A slot at `host`; while it waits, the step's reason says so (not once the node was stopped). A host
   * written with a secret is known by its redacted name (`[secret:NAME].example.com`) to the limits,
   * whose names show in reasons, logs and metrics.
   */
  acquireHost(host: string, signal: AbortSignal): Promise<HostPermit> {
    const state = this as unknown as ContextState;
    const task = state[taskKey];
    const stop = state[stopKey];
    return task.run.hosts.acquire(task.run.redactor.text(host), signal, (reason) => {
      if (!stop.aborted) task.run.onHostWait(task.node, reason);
    });
  },
};

/** A handler's ctx. No named closures: tsx/esbuild's keepNames would add a `__name` call per node. */
function createContext(
  task: NodeRunInput,
  attempt: number,
  stop: StopToken,
  signal: AbortSignal | undefined,
  watch: EvaluationWatch | undefined,
): NodeContext {
  const { run, node, input } = task;
  const ctx = Object.create(contextPrototype) as NodeContext & ContextState;
  ctx.runId = run.runId;
  ctx.nodeId = node.id;
  ctx.attempt = attempt;
  ctx.input = input;
  ctx.runInput = run.runInput;
  ctx.clock = run.clock;
  ctx.log = run.log;
  ctx.evaluate = (expression) => evaluateInNode(task, ctx, watch, expression);
  ctx.allowPrivateNetwork = run.allowPrivateNetwork;
  ctx.idempotencyKey = `${run.runId}:${node.id}:${run.retries}`;
  ctx.wait = (ms) => durableWait(task, ctx, ms);
  ctx.redact = run.redactor.text;
  ctx.traceparent = task.traceparent;
  ctx[stopKey] = stop;
  ctx[attemptSignalKey] = signal;
  ctx[taskKey] = task;
  return ctx;
}

/**
 * `ctx.wait`: sleeps `ms`, its deadline reported to the run (and stored); a node resumed in another
 * process sleeps only until the deadline the first one stored.
 */
function durableWait(task: NodeRunInput, ctx: NodeContext, ms: number): Promise<void> {
  const { run, node, resume } = task;
  const now = run.clock.now();
  let wakeAt = resume?.wakeAt;
  if (wakeAt === null || wakeAt === undefined) {
    wakeAt = now + ms;
    run.onWait(node, wakeAt);
  } else if (task.resume) {
    task.resume = { ...task.resume, wakeAt: null }; // for this attempt only: a retry waits anew
  }
  return run.clock.sleep(Math.max(0, wakeAt - now), ctx.signal);
}

const parsedParams = new WeakMap<GraphNode, { params: unknown } | null>();

/** Params without any `{{ }}` template, parsed once per compiled graph; null when they have templates. */
function staticParams(node: GraphNode): unknown {
  let cached = parsedParams.get(node);
  if (cached === undefined) {
    const raw = node.definition.params ?? {};
    const templated = templateExpressions(raw).length > 0;
    const parsed = templated ? null : node.nodeType.params.safeParse(raw);
    cached = parsed?.success ? { params: parsed.data } : null;
    parsedParams.set(node, cached);
  }
  return cached?.params ?? null;
}
