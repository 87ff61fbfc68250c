// The engine's RunStore on the database, with group commit: while one write is in flight, the commits
// of every run queue up, and the next write takes them all in one transaction.
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { Database } from './client.js';
import type { RunCommit } from './run-commit.js';
import { batchRows, writeBatchRows } from './write-commits.js';

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
   * If a batch fails, its commits are retried run by run, each run in a transaction of its own, so
   * only the commits of the run at fault reject (with the database error as `cause`).
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

/** Raised for a commit whose write failed; `cause` holds the driver's error (a PostgresError, say). */
export class RunCommitError extends Error {
  override name = 'RunCommitError';
  constructor(runId: string, error: unknown) {
    // drizzle's DrizzleQueryError carries every parameter in its message: a whole batch of rows.
    const cause = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
    super(`persisting run ${runId} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

// Captured at load: a test faking timers must not stall the store.
const defer = setImmediate;
const later = setTimeout;

/** Creates the database-backed RunStore of `database` (structurally the engine's `RunStore`). */
export function createRunStore(database: Database, options: RunStoreOptions = {}): DbRunStore {
  const maxChars = options.maxStatementChars ?? 8 * 1024 * 1024;
  const gatherMs = options.gatherMs ?? 0;
  const counters = { commits: 0, transactions: 0, failedTransactions: 0 };
  let queue: Pending[] = [];
  let writing = 0;
  let flushing: Promise<void> | null = null;

  /** Writes `batch` in one transaction; returns the error, or null once committed. */
  async function write(batch: readonly Pending[]): Promise<{ error: unknown } | null> {
    const started = performance.now();
    const commits = batch.map((p) => p.commit);
    try {
      await writeBatchRows(database.db, batchRows(commits), maxChars);
    } catch (error) {
      counters.failedTransactions++;
      return { error };
    }
    counters.transactions++;
    notify({ commits, durationMs: performance.now() - started });
    return null;
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

  async function writeBatch(batch: readonly Pending[]): Promise<void> {
    const failed = await write(batch);
    if (!failed) return resolveAll(batch);
    const runs = groupByRun(batch);
    if (runs.length === 1) return rejectAll(batch, failed.error);
    // One run's bad data (a \u0000 in an output, say) must not fail the runs that shared its batch:
    // write each run alone, so that only the one at fault rejects.
    for (const run of runs) {
      const runFailed = await write(run);
      if (runFailed) rejectAll(run, runFailed.error);
      else resolveAll(run);
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

function resolveAll(batch: readonly Pending[]): void {
  for (const p of batch) p.resolve();
}

function rejectAll(batch: readonly Pending[], cause: unknown): void {
  for (const p of batch) p.reject(new RunCommitError(p.commit.runId, cause));
}
