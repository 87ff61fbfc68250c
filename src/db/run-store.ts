// The engine's RunStore on the database, with group commit: while one write is in flight, the commits
// of every run queue up, and the next write takes them all in one transaction. Writes are fenced by
// each run's lease epoch, retried while the connection is lost, and announced to other processes.
import type { Database } from './client.js';
import { isTransientDbError } from './db-errors.js';
import type { RunCommit } from './run-commit.js';
import { RunCommitError, LeaseLostError, writeBatchTransaction } from './write-commits.js';

export { LeaseLostError, RunCommitError } from './write-commits.js';

/** A transaction that committed, as told to `onCommitted`. */
export interface CommittedBatch {
  /** The commits it held, in call order. */
  commits: readonly RunCommit[];
  durationMs: number;
}

export interface RunStoreOptions {
  /** Called after each transaction commits, before its commits' promises resolve. Must not throw. */
  onCommitted?: (batch: CommittedBatch) => void;
  /** JSON per statement before a table's rows are split over several statements (default 8 MiB). */
  maxStatementChars?: number;
  /**
   * How long the first commit of a batch waits for others, in ms. 0 (the default) waits for the end of
   * the current event-loop turn only.
   */
  gatherMs?: number;
  /**
   * The lease epoch this process holds on a run, or undefined to write it unfenced. A commit of a run
   * whose stored epoch differs writes nothing and rejects with LeaseLostError.
   */
  epochOf?: (runId: string) => number | undefined;
  /** NOTIFY this channel in each transaction with what it stored (run ids, seqs, new statuses). */
  notify?: { channel: string; sender: string };
  /** How long a batch keeps being retried while the database is unreachable (default 30 s). */
  retryForMs?: number;
}

/** Counters since the store was created. */
export interface RunStoreStats {
  commits: number;
  /** Transactions that committed. */
  transactions: number;
  /** Transactions that rolled back. */
  failedTransactions: number;
  /** Commits waiting or being written. */
  pending: number;
}

export interface DbRunStore {
  /**
   * Persists `commit`; resolves once the transaction holding it committed. Commits resolve in call
   * order. Never waits for another write to begin: it queues behind the write in flight.
   * A lost connection is retried with backoff for `retryForMs`. If a batch fails otherwise, its
   * commits are retried run by run, so only the commits of the run at fault reject (RunCommitError,
   * with the database error as `cause`); a run whose lease moved on rejects with LeaseLostError.
   */
  commit(commit: RunCommit): Promise<void>;
  /** Resolves when every commit made so far has settled. */
  drain(): Promise<void>;
  stats(): RunStoreStats;
}

interface Pending {
  commit: RunCommit;
  resolve: () => void;
  reject: (error: Error) => void;
}

// Captured at load: a test faking timers must not stall the store.
const defer = setImmediate;
const later = setTimeout;
const sleep = (ms: number) => new Promise<void>((resolve) => later(resolve, ms));

/** Creates the database-backed RunStore of `database` (structurally the engine's `RunStore`). */
export function createRunStore(database: Database, options: RunStoreOptions = {}): DbRunStore {
  const maxChars = options.maxStatementChars ?? 8 * 1024 * 1024;
  const gatherMs = options.gatherMs ?? 0;
  const retryForMs = options.retryForMs ?? 30_000;
  const counters = { commits: 0, transactions: 0, failedTransactions: 0 };
  let queue: Pending[] = [];
  let writing = 0;
  let flushing: Promise<void> | null = null;

  /** Writes `batch` in one transaction, retrying lost connections; returns the error, or the runs fenced off. */
  async function write(batch: readonly Pending[]): Promise<{ error: unknown } | { lost: ReadonlySet<string> }> {
    const commits = batch.map((p) => p.commit);
    const giveUpAt = performance.now() + retryForMs;
    for (let backoff = 50; ; backoff = Math.min(backoff * 2, 2000)) {
      const started = performance.now();
      try {
        const lost = await writeBatchTransaction(database, commits, { maxChars, epochOf: options.epochOf, notify: options.notify });
        counters.transactions++;
        notify({ commits, durationMs: performance.now() - started });
        return { lost };
      } catch (error) {
        counters.failedTransactions++;
        if (!isTransientDbError(error) || performance.now() + backoff > giveUpAt) return { error };
        await sleep(backoff);
      }
    }
  }

  function notify(batch: CommittedBatch): void {
    try {
      options.onCommitted?.(batch);
    } catch (error) {
      // The data is committed either way; a throwing hook is a bug, surfaced as an uncaught error.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  function settle(batch: readonly Pending[], result: { lost: ReadonlySet<string> }): void {
    for (const p of batch) {
      if (result.lost.has(p.commit.runId)) p.reject(new LeaseLostError(p.commit.runId));
      else p.resolve();
    }
  }

  async function writeBatch(batch: readonly Pending[]): Promise<void> {
    const result = await write(batch);
    if ('lost' in result) return settle(batch, result);
    const runs = groupByRun(batch);
    if (runs.length === 1 || isTransientDbError(result.error)) return rejectAll(batch, result.error);
    // One run's bad data must not fail the runs that shared its batch: write each run alone, so that
    // only the one at fault rejects.
    for (const run of runs) {
      const alone = await write(run);
      if ('lost' in alone) settle(run, alone);
      else rejectAll(run, alone.error);
    }
  }

  async function flush(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        writing = batch.length;
        await writeBatch(batch);
        writing = 0;
      }
    } finally {
      flushing = null;
    }
  }

  return {
    commit(commit) {
      counters.commits++;
      return new Promise<void>((resolve, reject) => {
        queue.push({ commit, resolve, reject });
        // Wait for the rest of this turn of the event loop, so commits made together go together.
        flushing ??= new Promise<void>((started) => (gatherMs > 0 ? later(started, gatherMs) : defer(started))).then(flush);
      });
    },
    async drain() {
      while (flushing) await flushing;
    },
    stats: () => ({ ...counters, pending: queue.length + writing }),
  };
}

/** The batch split by run, each run's commits in call order, runs in order of first appearance. */
function groupByRun(batch: readonly Pending[]): Pending[][] {
  const runs = new Map<string, Pending[]>();
  for (const p of batch) {
    const run = runs.get(p.commit.runId);
    if (run) run.push(p);
    else runs.set(p.commit.runId, [p]);
  }
  return [...runs.values()];
}

function rejectAll(batch: readonly Pending[], cause: unknown): void {
  for (const p of batch) p.reject(new RunCommitError(p.commit.runId, cause));
}
