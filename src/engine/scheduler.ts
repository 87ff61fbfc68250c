// The settlement rules of CONTRACT §3 as plain bookkeeping: which nodes run, skip or get cancelled next.
// No XState, no timers: the run actor feeds it settlements and carries out what it returns.
import { createBranches, rootBranchId } from './branches.js';
import type { RunCommit, RunEventType, RunState, StepState } from './events.js';
import type { GraphNode, WorkflowGraph } from './graph.js';
import { createRunLog } from './run-log.js';

/** How a node actor ended. */
export type NodeOutcome =
  | { status: 'SUCCEEDED'; output: unknown; handle?: string | undefined }
  | { status: 'FAILED'; error: string };

const noNodes: GraphNode[] = [];

// Edge states; 0, a fresh Uint8Array's value, means not decided yet.
const LIVE = 1;
const DEAD = 2;

/** Creates the bookkeeping of one run. Every method returns what the run actor must do next. */
export function createScheduler(options: { runId: string; graph: WorkflowGraph; input: unknown; now: () => number }) {
  const { runId, graph } = options;
  const { nodes, edges, settings } = graph;
  const steps: StepState[] = nodes.map((node) => ({
    nodeId: node.id,
    nodeType: node.definition.type,
    status: 'PENDING',
    attempt: 0,
    branch: null,
    startedAt: null,
    finishedAt: null,
    input: null,
    output: null,
    error: null,
    reason: null,
  }));
  const settledInputs = new Int32Array(nodes.length);
  const liveInputs = new Int32Array(nodes.length);
  const edgeState = new Uint8Array(edges.length);
  const edgeBranch: string[] = new Array(edges.length);
  /** `$nodes`: node id → output of every node that finished. */
  const outputs: Record<string, unknown> = {};
  const chosenHandles: (string | undefined)[] = new Array(nodes.length);
  const queue: GraphNode[] = [];
  let queueHead = 0;
  let running = 0;
  let settled = 0;
  let failedWithFail: GraphNode | null = null;
  const run: RunState = { status: 'QUEUED', startedAt: null, finishedAt: null, output: null, error: null };

  const log = createRunLog({ runId, steps, now: options.now });
  const { now } = log;
  const branches = createBranches({
    now,
    event(type, branch) {
      log.event(type, branch.id, branch.status, null);
    },
    changed: log.branchChanged,
  });
  const emitStep = (type: RunEventType, node: GraphNode) => log.stepEvent(type, node.index);

  /** Counts one more settled input of `node`; true when that was the last. */
  function inputSettled(node: GraphNode): boolean {
    const count = settledInputs[node.index]! + 1;
    settledInputs[node.index] = count;
    return count === node.incoming.length;
  }

  /** Decides a node whose inputs all settled: ready, or skipped (and its successors after it). */
  function decide(first: GraphNode): void {
    // Skips cascade through a stack, made only when a skip reaches a node whose inputs all settled.
    let pending: GraphNode[] | undefined;
    for (let node: GraphNode | undefined = first; node; node = pending?.pop()) {
      const live = liveInputs[node.index]!;
      const needsAll = node.definition.type === 'merge' && (node.definition.params?.mode ?? 'ANY') === 'ALL';
      if (live > 0 && (!needsAll || live === node.incoming.length)) {
        enqueue(node);
        continue;
      }
      const step = steps[node.index]!;
      step.status = 'SKIPPED';
      step.reason = skipReason(node, needsAll);
      step.branch = branches.join(node.incoming.map((e) => edgeBranch[e.index]!));
      step.finishedAt = now();
      settled++;
      emitStep('NODE_SKIPPED', node);
      for (const edge of node.outgoing) {
        edgeState[edge.index] = DEAD;
        edgeBranch[edge.index] = step.branch;
        if (inputSettled(edge.target)) (pending ??= []).push(edge.target);
      }
    }
  }

  function skipReason(node: GraphNode, needsAll: boolean): string {
    const dead = node.incoming.find((e) => edgeState[e.index] === DEAD)!;
    const source = steps[dead.source.index]!;
    const prefix = needsAll && liveInputs[node.index]! > 0 ? `merge "${node.id}" needs every input: ` : '';
    if (source.status === 'SUCCEEDED') {
      return `${prefix}${source.nodeType} "${source.nodeId}" chose "${chosenHandles[dead.source.index]}"`;
    }
    const how = source.status === 'FAILED' ? 'failed' : source.status === 'SKIPPED' ? 'was skipped' : 'was cancelled';
    return `${prefix}upstream "${source.nodeId}" ${how}`;
  }
  function enqueue(node: GraphNode): void {
    const step = steps[node.index]!;
    const first = node.incoming[0];
    if (!first) step.branch = branches.edgeBranch(rootBranchId, node.id, graph.triggers.length);
    else if (node.incoming.length === 1) step.branch = edgeBranch[first.index]!;
    else step.branch = branches.join(liveEdges(node).map((e) => edgeBranch[e.index]!));
    branches.enter(step.branch, node.id);
    queue.push(node);
  }

  const liveEdges = (node: GraphNode) => node.incoming.filter((e) => edgeState[e.index] === LIVE);

  /** `$input`: the run input for a trigger, the single input as is, else live inputs by source id. */
  function inputOf(node: GraphNode): unknown {
    const first = node.incoming[0];
    if (!first) return options.input;
    if (node.incoming.length === 1 && node.definition.type !== 'merge') return outputs[first.source.id];
    const byId: Record<string, unknown> = {};
    for (const edge of liveEdges(node)) byId[edge.source.id] = outputs[edge.source.id];
    return byId;
  }

  /** Starts queued nodes up to maxConcurrency; returns them (each step's `input` is its `$input`). */
  function pump(): GraphNode[] {
    const launches: GraphNode[] = [];
    while (running < settings.maxConcurrency && queueHead < queue.length) {
      const node = queue[queueHead++]!;
      const step = steps[node.index]!;
      if (step.status !== 'PENDING') continue;
      step.status = 'RUNNING';
      step.attempt = 1;
      step.startedAt = now();
      step.input = inputOf(node);
      running++;
      emitStep('NODE_STARTED', node);
      launches.push(node);
    }
    if (queueHead === queue.length) queue.length = queueHead = 0;
    return launches;
  }

  function finishRun(status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', error: string | null): void {
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
    log.event(status === 'SUCCEEDED' ? 'RUN_SUCCEEDED' : status === 'FAILED' ? 'RUN_FAILED' : 'RUN_CANCELLED', null, status, error);
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
      else step.branch = branches.join(node.incoming.flatMap((e) => edgeBranch[e.index] ?? []));
      step.status = 'CANCELLED';
      step.reason = reason;
      step.finishedAt = now();
      settled++;
      emitStep('NODE_CANCELLED', node);
    }
    running = 0;
    queue.length = queueHead = 0;
    return aborted;
  }

  const isOpen = () => run.status === 'RUNNING';

  return {
    steps,
    run,
    outputs,
    get finished() {
      return run.status === 'SUCCEEDED' || run.status === 'FAILED' || run.status === 'CANCELLED';
    },

    /** Starts the run: every trigger at once. */
    start(): GraphNode[] {
      run.status = 'RUNNING';
      run.startedAt = now();
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
      settled++;
      step.finishedAt = now();
      if (outcome.status === 'SUCCEEDED') {
        step.status = 'SUCCEEDED';
        step.output = outcome.output;
        step.error = null;
        outputs[node.id] = outcome.output;
        chosenHandles[node.index] = outcome.handle;
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
      const succeeded = outcome.status === 'SUCCEEDED';
      let liveOut = 0;
      for (const edge of node.outgoing) {
        const live = succeeded && (node.handles === null || edge.sourceHandle === outcome.handle);
        edgeState[edge.index] = live ? LIVE : DEAD;
        if (live) liveOut++;
      }
      for (const edge of node.outgoing) {
        const live = edgeState[edge.index] === LIVE;
        edgeBranch[edge.index] = live ? branches.edgeBranch(step.branch!, edge.target.id, liveOut) : step.branch!;
        if (live) liveInputs[edge.target.index]!++;
        if (inputSettled(edge.target)) decide(edge.target);
      }
      branches.leave(step.branch!, step.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
      const launches = pump();
      branches.finishIdle();
      if (settled === nodes.length) {
        const failed = failedWithFail;
        finishRun(failed ? 'FAILED' : 'SUCCEEDED', failed ? `node "${failed.id}" failed: ${steps[failed.index]!.error}` : null);
      }
      return { launches, aborts: noNodes };
    },

    /** A node's attempt failed and another follows after a backoff. */
    retrying(node: GraphNode, failedAttempt: number, error: string): void {
      const step = steps[node.index]!;
      if (!isOpen() || step.status !== 'RUNNING') return;
      step.attempt = failedAttempt;
      step.error = error;
      emitStep('NODE_RETRYING', node);
      step.attempt = failedAttempt + 1;
    },

    /** Ends the run early: `cancelRun` (CANCELLED) or a run timeout (FAILED). Returns the nodes to abort. */
    stop(status: 'CANCELLED' | 'FAILED', reason: string): GraphNode[] {
      if (!isOpen()) return [];
      const aborts = cancelAll(`cancelled: ${reason}`);
      finishRun(status, status === 'FAILED' ? reason : null);
      return aborts;
    },

    /** What changed since the last call, as one commit for the store; null when nothing did. */
    takeCommit: (): RunCommit | null => log.take(run),
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
