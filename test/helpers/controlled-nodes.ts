// Node types whose every attempt waits until the test settles it: `task` (no handles) and `choice`
// (handles named in its params). The test sees who runs, with which input and signal, and when.
import { z } from 'zod';
import type { NodeContext, NodeResult, NodeType } from '../../src/engine/index.js';
import { deferred, type Deferred } from './deferred.js';

interface Attempt {
  nodeId: string;
  attempt: number;
  input: unknown;
  signal: AbortSignal;
  result: Deferred<NodeResult>;
}

/** Creates the controlled node types and the handle to drive them. */
export function createControlledNodes() {
  const current = new Map<string, Attempt>();
  const waiting = new Map<string, Deferred<Attempt>>();
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;

  async function run(ctx: NodeContext): Promise<NodeResult> {
    const attempt: Attempt = { nodeId: ctx.nodeId, attempt: ctx.attempt, input: ctx.input, signal: ctx.signal, result: deferred() };
    current.set(ctx.nodeId, attempt);
    log.push(`start ${ctx.nodeId}`);
    running++;
    maxRunning = Math.max(maxRunning, running);
    ctx.signal.addEventListener('abort', () => attempt.result.reject(ctx.signal.reason), { once: true });
    waiting.get(ctx.nodeId)?.resolve(attempt);
    waiting.delete(ctx.nodeId);
    try {
      return await attempt.result.promise;
    } finally {
      running--;
      log.push(`end ${ctx.nodeId}`);
    }
  }

  const task: NodeType<Record<string, unknown>> = {
    type: 'task',
    description: 'waits until the test settles it',
    params: z.record(z.string(), z.unknown()),
    run: (_params, ctx) => run(ctx),
  };
  const choice: NodeType<{ handles: string[] }> = {
    type: 'choice',
    description: 'waits until the test settles it with a handle',
    params: z.object({ handles: z.array(z.string()).min(1) }),
    handles: (params) => params.handles,
    run: (_params, ctx) => run(ctx),
  };

  function attemptOf(nodeId: string): Attempt {
    const attempt = current.get(nodeId);
    if (!attempt) throw new Error(`node ${nodeId} has not started`);
    return attempt;
  }

  return {
    types: [task, choice],
    log,
    /** The most nodes that were running at the same moment. */
    get maxRunning() {
      return maxRunning;
    },
    get running() {
      return running;
    },
    isRunning: (nodeId: string) => current.has(nodeId) && log.lastIndexOf(`end ${nodeId}`) < log.lastIndexOf(`start ${nodeId}`),
    /** Resolves when the node's next attempt has started (at once if one is running and unsettled). */
    started(nodeId: string): Promise<Attempt> {
      const existing = current.get(nodeId);
      if (existing && log.lastIndexOf(`end ${nodeId}`) < log.lastIndexOf(`start ${nodeId}`)) return Promise.resolve(existing);
      let wait = waiting.get(nodeId);
      if (!wait) waiting.set(nodeId, (wait = deferred<Attempt>()));
      return wait.promise;
    },
    attempt: attemptOf,
    succeed(nodeId: string, output: unknown = `${nodeId} done`, handle?: string): void {
      attemptOf(nodeId).result.resolve({ output, ...(handle === undefined ? {} : { handle }) });
    },
    /** Fails the node's attempt with `thrown` as given (undefined included), or "<id> broke". */
    fail(nodeId: string, ...thrown: [unknown?]): void {
      attemptOf(nodeId).result.reject(thrown.length ? thrown[0] : new Error(`${nodeId} broke`));
    },
  };
}

export type ControlledNodes = ReturnType<typeof createControlledNodes>;
