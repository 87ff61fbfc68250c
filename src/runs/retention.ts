// Retention: finished runs older than RUN_RETENTION_HOURS (by finishedAt) are deleted in the background,
// in small batches with pauses between them so that live runs' commits keep the database, at start and
// on an interval (sooner while a backlog remains). Then the database is tidied (see db/maintenance.ts).
import type { Database } from '../db/client.js';
import { analyzeRuns, tidyAfterDeletion } from '../db/maintenance.js';
import { deleteFinishedRuns, trySweepLock, type RetentionCutoffs } from '../db/queries/retention.js';

const hourMs = 3_600_000;
/** startRun promises an idempotency key for at least 24 h: its run is kept that long after it finished. */
export const idempotencyKeptMs = 24 * hourMs;

export interface SweepResult {
  deleted: number;
  /** Statements that deleted at least one run. */
  batches: number;
  /** The sweep stopped at its batch budget (or was stopped) with runs left to delete. */
  backlog: boolean;
  /** Another process holds the sweep lock (PostgreSQL): this one did nothing. */
  skipped: boolean;
}

export interface RetentionLog {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
}

export interface RetentionOptions {
  database: Database;
  /** RUN_RETENTION_HOURS; 0 keeps every run (nothing is ever swept). */
  hours: number;
  log: RetentionLog;
  /** Milliseconds since the epoch; tests move it. Default Date.now. */
  now?: () => number;
  /** Runs deleted by one statement (default 500). */
  batchSize?: number;
  /** Least pause between two statements (default 20 ms); the pause is at least as long as the statement took. */
  pauseMs?: number;
  /** Most statements per sweep (default 200); past it the next sweep comes after `backlogIntervalMs`. */
  maxBatches?: number;
  /** Between sweeps (default 10 min). */
  intervalMs?: number;
  /** Between sweeps while a backlog remains (default 5 s). */
  backlogIntervalMs?: number;
  /** A sweep that deleted at least this many runs tidies the database afterwards (default 1000). */
  tidyAfter?: number;
  /** Told after every statement that deleted runs (metrics; tests may hold the sweep by returning a promise). */
  onDeleted?(count: number): void | Promise<void>;
}

export interface Retention {
  /** Sweeps now, then on the interval. No-op when hours is 0. */
  start(): void;
  /** One sweep now (or the one under way); resolves with what it did. */
  sweep(): Promise<SweepResult>;
  /** No more statements: waits for the one under way (and its tidying), stops the interval. Idempotent. */
  stop(): Promise<void>;
}

export function createRetention(options: RetentionOptions): Retention {
  const { database, hours, log } = options;
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 500;
  const pauseMs = options.pauseMs ?? 20;
  const maxBatches = options.maxBatches ?? 200;
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  const backlogIntervalMs = options.backlogIntervalMs ?? 5000;
  const tidyAfter = options.tidyAfter ?? 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<SweepResult> | undefined;
  /** Ends the pause between statements at once when stopping. */
  let wake: (() => void) | undefined;

  const cutoffs = (): RetentionCutoffs => {
    const at = now();
    // Clamped to 1970: a retention of centuries keeps everything, and ISO years stay positive for the database.
    const before = Math.max(0, at - hours * hourMs);
    return { before: new Date(before), keyedBefore: new Date(Math.max(0, Math.min(before, at - idempotencyKeptMs))) };
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const pending = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(pending);
        resolve();
      };
    }).finally(() => (wake = undefined));

  async function sweepOnce(): Promise<SweepResult> {
    const result: SweepResult = { deleted: 0, batches: 0, backlog: false, skipped: false };
    if (hours === 0 || stopped) return result;
    const unlock = await trySweepLock(database);
    if (!unlock) return { ...result, skipped: true };
    const t0 = performance.now();
    try {
      for (;;) {
        const started = performance.now();
        const deleted = await deleteFinishedRuns(database.db, cutoffs(), batchSize);
        const took = performance.now() - started;
        if (deleted > 0) {
          result.deleted += deleted;
          result.batches++;
          await options.onDeleted?.(deleted);
        }
        if (deleted < batchSize) break;
        if (stopped || result.batches >= maxBatches) {
          result.backlog = true;
          break;
        }
        // The database is free at least half the time: live runs' commits go between our statements.
        await pause(Math.max(pauseMs, took));
      }
    } finally {
      await unlock();
    }
    // A stopping process leaves the tidying to the next sweep: it would hold the shutdown up.
    if (!stopped) {
      if (result.deleted >= tidyAfter) await tidyAfterDeletion(database, () => pause(pauseMs));
      // The stored-runs estimate and the planner see the deletion (PGlite's growth: keepStatistics).
      else if (result.deleted > 0) await analyzeRuns(database);
    }
    if (result.deleted > 0) {
      log.info(
        { deleted: result.deleted, batches: result.batches, backlog: result.backlog, ms: Math.round(performance.now() - t0), retentionHours: hours },
        `retention: deleted ${result.deleted} finished run(s) older than ${hours} h`,
      );
    }
    return result;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
    timer.unref();
  }

  async function run(): Promise<void> {
    let next = intervalMs;
    try {
      if ((await sweep()).backlog) next = backlogIntervalMs;
    } catch (error) {
      log.warn({ error: String(error) }, 'retention: sweep failed; trying again at the next interval');
    }
    schedule(next);
  }

  function sweep(): Promise<SweepResult> {
    return (current ??= sweepOnce().finally(() => (current = undefined)));
  }

  return {
    start() {
      if (hours === 0 || stopped || timer) return;
      schedule(0);
    },
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await current?.catch(() => undefined);
    },
  };
}
