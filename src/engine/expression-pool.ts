// The worker threads expressions run in (piscina), where they can be stopped: each thread's heap is
// capped (EXPRESSION_MEMORY_MB) and a task past its time is aborted, which terminates its thread; a
// thread that died (terminated, out of memory) is replaced and the others go on.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ExpressionLimitError } from './expression-limits.js';
import type { ExpressionAnswer, ExpressionTask } from './expression-worker.mjs';

export interface ExpressionPoolOptions {
  /** Heap of each thread (old generation), in MB. */
  memoryMb: number;
  /** Threads; one per core, at least 2, when unset. */
  workers?: number | undefined;
  /**
   * Told of a thread's failure that no task is waiting for (e.g. it ran out of memory while being
   * terminated for its time): the thread is replaced, nothing else happens.
   */
  onError?: ((error: unknown) => void) | undefined;
}

export interface ExpressionPool {
  /**
   * Runs one task. Rejects with `signal.reason` when the signal aborts first (the thread running the
   * task is terminated), with an ExpressionLimitError('memory') when the thread ran out of heap.
   */
  run(task: ExpressionTask, signal: AbortSignal): Promise<ExpressionAnswer>;
  /** The live threads (for tests and diagnostics). */
  readonly threads: number;
  /** Terminates every thread; tasks still queued or running reject, and so does every later `run`. Idempotent. */
  close(): Promise<void>;
}

// Plain JavaScript next to this file, whether this file runs as TypeScript (tsx, vitest) or compiled.
const workerFile = fileURLToPath(new URL('./expression-worker.cjs', import.meta.url));

/** A pool with all its threads started (they load jsonata once; a cold thread costs tens of ms). */
export function createExpressionPool(options: ExpressionPoolOptions): ExpressionPool {
  const threads = options.workers ?? Math.max(2, availableParallelism());
  const piscina = new Piscina<ExpressionTask, ExpressionAnswer>({
    filename: workerFile,
    // The thread needs none of this process's flags (a TypeScript loader would cost it seconds).
    execArgv: [],
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    // Lower priority than the main thread (Linux, through piscina's @napi-rs/nice): a thread burning
    // CPU until its limit never takes a core the event loop needs to answer /health and other runs.
    niceIncrement: 10,
    resourceLimits: { maxOldGenerationSizeMb: options.memoryMb },
  });
  // Unhandled, piscina's 'error' event would throw and end the process.
  piscina.on('error', (error: unknown) => options.onError?.(error));
  let closing: Promise<void> | undefined;
  return {
    async run(task, signal) {
      if (closing) throw new Error('the expression pool is closed');
      try {
        return await piscina.run(task, { signal });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
          const detail = `exceeded the memory limit of ${options.memoryMb} MB (EXPRESSION_MEMORY_MB)`;
          throw new ExpressionLimitError('memory', detail);
        }
        throw error;
      }
    },
    get threads() {
      return piscina.threads.length;
    },
    close: () => (closing ??= piscina.destroy()),
  };
}
