// The execution rules (settle, skip, cancel, fail fast) as plain bookkeeping: which nodes run, skip or get cancelled next.
// No XState, no timers: the run actor feeds it settlements and carries out what it returns. A scheduler
// starts fresh, or from a run's stored rows (`restore`) to go on where another process stopped.
import { createBranches } from './branches.js';
import { createEdges } from './edges.js';
import type { RunCommit, RunEventType, RunState, StepState } from './events.js';
import { settledStepStatuses } from './events.js';
import type { GraphNode, WorkflowGraph } from './graph.js';
import type { RunGate } from './node-gates.js';
import { createRunLog } from './run-log.js';
import { freshStep, type NodeOutcome, type RestoredRun } from './scheduler-states.js';
import { createStartQueue } from './start-queue.js';

export type { NodeOutcome, RestoredRun } from './scheduler-states.js';

const noNodes: GraphNode[] = [];

/** Creates the bookkeeping of one run. Every method returns what the run actor must do next. */
export function createScheduler(options: {
  runId: string;
  graph: WorkflowGraph;
  input: unknown;
  now: () => number;
  restored?: RestoredRun | undefined;
  /** Consulted before each node start (organization limit, load shedding); none: only maxConcurrency. */
  gate?: RunGate | undefined;
}) {
  const { runId, graph, restored, gate } = options;
  const { nodes, settings } = graph;
  const stored = restored ? new Map(restored.steps.map((s) => [s.nodeId, s])) : undefined;
  const steps: StepState[] = nodes.map((node) => {
    const step = stored?.get(node.id);
    return step ? { ...step } : freshStep(node);
  });
  /** `$nodes`: node id → output of every node that finished. */
  const outputs: Record<string, unknown> = {};
  let running = 0;
  let settled = 0;
  let draining = false;
  /** While the stored state is taken back: nodes entering a branch may be listed on it already. */
  let restoring = false;
  let failedWithFail: GraphNode | null = null;
  const run: RunState = restored
    ? { ...restored.run }
    : { status: 'QUEUED', startedAt: null, finishedAt: null, output: null, error: null, deadlineAt: null };

  const log = createRunLog({ runId, steps, now: options.now, lastSeq: restored?.lastSeq ?? 0 });
  const { now } = log;
  const branches = createBranches({
    now,
    event(type, branch) {
      log.event(type, branch.id, branch.status, null);
    },
    changed: log.branchChanged,
  });
  const emitStep = (type: RunEventType, node: GraphNode) => log.stepEvent(type, node.index);
  const queue = createStartQueue(steps, gate, log.touchStep);
  const edges = createEdges(graph, steps, branches);

  /** Decides a node whose inputs all settled: ready, or skipped (and its successors after it). */
  function decide(first: GraphNode): void {
    // Skips cascade through a stack, made only when a skip reaches a node whose inputs all settled.
    let pending: GraphNode[] | undefined;
    for (let node: GraphNode | undefined = first; node; node = pending?.pop()) {
      const live = edges.liveInputs(node);
      const needsAll = node.definition.type === 'merge' && (node.definition.params?.mode ?? 'ANY') === 'ALL';
      if (live > 0 && (!needsAll || live === node.incoming.length)) {
        enqueue(node);
        continue;
      }
      const step = steps[node.index]!;
      step.status = 'SKIPPED';
      step.reason = skipReason(node, needsAll);
      step.branch = edges.settledBranch(node);
      step.finishedAt = now();
      settled++;
      emitStep('NODE_SKIPPED', node);
      for (const next of edges.settle(node, step)) (pending ??= []).push(next);
    }
  }

  function skipReason(node: GraphNode, needsAll: boolean): string {
    const source = steps[edges.firstDead(node).source.index]!;
    const prefix = needsAll && edges.liveInputs(node) > 0 ? `merge "${node.id}" needs every input: ` : '';
    if (source.status === 'SUCCEEDED') return `${prefix}${source.nodeType} "${source.nodeId}" chose "${source.handle}"`;
    const how = source.status === 'FAILED' ? 'failed' : source.status === 'SKIPPED' ? 'was skipped' : 'was cancelled';
    return `${prefix}upstream "${source.nodeId}" ${how}`;
  }

  function enqueue(node: GraphNode): void {
    const step = steps[node.index]!;
    step.branch = edges.inputBranch(node);
    branches.enter(step.branch, node.id, restoring);
    queue.push(node);
  }

  /** `$input`: the run input for a trigger, the single input as is, else live inputs by source id. */
  function inputOf(node: GraphNode): unknown {
    const first = node.incoming[0];
    if (!first) return options.input;
    if (node.incoming.length === 1 && node.definition.type !== 'merge') return outputs[first.source.id];
    const byId: Record<string, unknown> = {};
    for (const edge of edges.liveEdges(node)) byId[edge.source.id] = outputs[edge.source.id];
    return byId;
  }

  /** Starts queued nodes up to maxConcurrency and as far as the gate lets them (none while draining); returns them. */
  function pump(): GraphNode[] {
    if (draining) {
      gate?.spare();
      return noNodes;
    }
    const launches: GraphNode[] = [];
    while (running < settings.maxConcurrency) {
      const node = queue.next();
      if (node === undefined) break;
      const step = steps[node.index]!;
      step.status = 'RUNNING';
      step.attempt = 1;
      step.startedAt = now();
      step.input = inputOf(node);
      step.reason = null;
      running++;
      emitStep('NODE_STARTED', node);
      launches.push(node);
    }
    gate?.spare();
    return launches;
  }

  /** Ends the run; `reason` (a cancel's or a timeout's) goes on its final event. */
  function finishRun(status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', error: string | null, reason: string | null = null): void {
    gate?.close();
    branches.finishAll();
    run.status = status;
    run.error = error;
    run.finishedAt = now();
    const sinks: Record<string, unknown> = {};
    for (const node of nodes) {
      if (node.outgoing.length === 0 && steps[node.index]!.status === 'SUCCEEDED') sinks[node.id] = outputs[node.id];
    }
    run.output = sinks;
    log.runChanged();
    log.event(status === 'SUCCEEDED' ? 'RUN_SUCCEEDED' : status === 'FAILED' ? 'RUN_FAILED' : 'RUN_CANCELLED', null, status, error, reason);
  }

  /** Ends the run once every node settled. */
  function finishIfSettled(): void {
    if (settled !== nodes.length) return;
    const failed = failedWithFail;
    finishRun(failed ? 'FAILED' : 'SUCCEEDED', failed ? `node "${failed.id}" failed: ${steps[failed.index]!.error}` : null);
  }

  /** Marks every unsettled node CANCELLED; returns the nodes that were running, to abort. */
  function cancelAll(reason: string): GraphNode[] {
    const aborted: GraphNode[] = [];
    for (const node of nodes) {
      const step = steps[node.index]!;
      if (step.status !== 'PENDING' && step.status !== 'RUNNING') continue;
      if (step.status === 'RUNNING') aborted.push(node);
      // A node that ran or waited in the queue had entered its branch; one that never did names the
      // branch its settled inputs point to.
      if (step.branch !== null) branches.leave(step.branch, 'CANCELLED');
      else step.branch = edges.settledBranch(node);
      step.status = 'CANCELLED';
      step.reason = reason;
      step.finishedAt = now();
      step.retryAt = step.wakeAt = null;
      settled++;
      emitStep('NODE_CANCELLED', node);
    }
    running = 0;
    queue.clear();
    return aborted;
  }

  /**
   * Rebuilds the bookkeeping from the stored steps: settled nodes count at their successors, RUNNING
   * ones run again (returned), PENDING ones whose inputs all settled are decided again.
   */
  function restore(from: RestoredRun): GraphNode[] {
    const active: GraphNode[] = [];
    const decided: GraphNode[] = [];
    const triggers: GraphNode[] = [];
    for (const node of nodes) {
      const step = steps[node.index]!;
      if (!settledStepStatuses.has(step.status)) continue;
      settled++;
      if (step.status === 'SUCCEEDED') outputs[node.id] = step.output;
      if (step.status === 'FAILED' && node.definition.onError === 'FAIL') failedWithFail ??= node;
    }
    for (const node of nodes) {
      const step = steps[node.index]!;
      if (settledStepStatuses.has(step.status)) decided.push(...edges.settle(node, step));
      else if (step.status === 'RUNNING') active.push(node);
      else if (node.incoming.length === 0) triggers.push(node);
    }
    restoring = true;
    branches.restore(from.branches, steps);
    for (const node of active) {
      const step = steps[node.index]!;
      branches.enter((step.branch ??= edges.inputBranch(node)), node.id, true);
      step.reason = null; // a wait it reported in the process that ran it before
      running++;
      gate?.force();
    }
    run.status = 'RUNNING';
    run.finishedAt = null;
    if (run.deadlineAt === null && settings.timeoutMs !== undefined) run.deadlineAt = new Date(options.now() + settings.timeoutMs);
    log.runChanged();
    if (from.event) log.event(from.event, null, 'RUNNING', null);
    for (const node of triggers) enqueue(node);
    for (const node of decided) decide(node);
    restoring = false;
    const launches = [...active, ...pump()];
    branches.finishIdle();
    finishIfSettled();
    return launches;
  }

  const isOpen = () => run.status === 'RUNNING';

  return {
    steps,
    run,
    outputs,
    get finished() {
      return run.status === 'SUCCEEDED' || run.status === 'FAILED' || run.status === 'CANCELLED';
    },
    /** Draining and no node running: the run can be left as stored, to go on elsewhere. */
    get idle() {
      return draining && running === 0;
    },

    /** Starts the run: every trigger at once; or, restored, every node that was running. */
    start(): GraphNode[] {
      if (restored) return restore(restored);
      run.status = 'RUNNING';
      run.startedAt = now();
      if (settings.timeoutMs !== undefined) run.deadlineAt = new Date(run.startedAt.getTime() + settings.timeoutMs);
      log.runChanged();
      for (let i = 0; i < steps.length; i++) log.touchStep(i);
      log.event('RUN_STARTED', null, 'RUNNING', null);
      for (const trigger of graph.triggers) enqueue(trigger);
      return pump();
    },

    /** A node actor finished; returns the nodes to start and those to abort. */
    settle(node: GraphNode, outcome: NodeOutcome): { launches: GraphNode[]; aborts: GraphNode[] } {
      const step = steps[node.index]!;
      if (!isOpen() || step.status !== 'RUNNING') return { launches: [], aborts: [] };
      running--;
      gate?.give();
      settled++;
      step.finishedAt = now();
      step.retryAt = step.wakeAt = null;
      if (outcome.status === 'SUCCEEDED') {
        step.status = 'SUCCEEDED';
        step.output = outcome.output;
        step.error = null;
        step.handle = outcome.handle ?? null;
        outputs[node.id] = outcome.output;
        emitStep('NODE_SUCCEEDED', node);
      } else {
        step.status = 'FAILED';
        step.error = outcome.error;
        emitStep('NODE_FAILED', node);
        if (node.definition.onError === 'FAIL') {
          failedWithFail ??= node;
          if (settings.errorStrategy === 'FAIL_FAST') {
            branches.leave(step.branch!, 'FAILED');
            const aborts = cancelAll(`cancelled: node "${node.id}" failed`);
            run.error = `node "${node.id}" failed: ${outcome.error}`;
            finishRun('FAILED', run.error);
            return { launches: [], aborts };
          }
        }
      }
      for (const ready of edges.settle(node, step)) decide(ready);
      branches.leave(step.branch!, step.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
      const launches = pump();
      branches.finishIdle();
      finishIfSettled();
      return { launches, aborts: noNodes };
    },

    /** A node's attempt failed and attempt `failedAttempt + 1` starts at `retryAt`. */
    retrying(node: GraphNode, failedAttempt: number, error: string, retryAt: number): void {
      const step = steps[node.index]!;
      if (!isOpen() || step.status !== 'RUNNING') return;
      step.attempt = failedAttempt;
      step.error = error;
      emitStep('NODE_RETRYING', node);
      step.attempt = failedAttempt + 1;
      step.retryAt = new Date(retryAt);
      step.wakeAt = null;
    },

    /** A node started a durable wait until `wakeAt` (stored, so that a resumed node keeps it). */
    waiting(node: GraphNode, wakeAt: number): void {
      const step = steps[node.index]!;
      if (!isOpen() || step.status !== 'RUNNING') return;
      step.wakeAt = new Date(wakeAt);
      log.touchStep(node.index);
    },

    /** Starts what the gate now lets start (the run was woken: a slot freed, a hold ended); returns it. */
    pump(): GraphNode[] {
      return isOpen() ? pump() : noNodes;
    },

    /** A running node waits for its HTTP host (`reason`), or stopped waiting (null): its step says so. */
    noteWait(node: GraphNode, reason: string | null): void {
      const step = steps[node.index]!;
      if (!isOpen() || step.status !== 'RUNNING' || step.reason === reason) return;
      step.reason = reason;
      log.touchStep(node.index);
    },

    /** Starts no more nodes: the process is shutting down and leaves the rest to another. */
    drain(): void {
      draining = true;
    },

    /** Ends the run early: `cancelRun` (CANCELLED) or a run timeout (FAILED). Returns the nodes to abort. */
    stop(status: 'CANCELLED' | 'FAILED', reason: string): GraphNode[] {
      if (!isOpen()) return [];
      const aborts = cancelAll(`cancelled: ${reason}`);
      // A cancelled run says why too: `Run.error` and its final event's error and reason.
      finishRun(status, reason, reason);
      return aborts;
    },

    /** What changed since the last call, as one commit for the store; null when nothing did. */
    takeCommit: (): RunCommit | null => log.take(run),
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
