// Which runs this process takes: the unfinished runs nobody holds, claimed in batches up to the
// process's capacity in the fair-share order and within the run limits (db/queries/fair-queue.ts) — at
// start (in the background, after listen), when woken (a NOTIFY, a slot that freed) and on a timer, so
// a run whose owner died is taken over within RUN_LEASE_MS + ~1 s, and one a limit held back starts
// within a second of a slot freeing even when no wake reached this process.
import type { Database } from '../db/client.js';
import { claimRuns } from '../db/queries/leases.js';
import type { RunRow } from '../db/schema.js';
import type { Log } from '../engine/index.js';

export interface Dispatcher {
  /** Starts claiming: a first sweep now (resolved once it handed its runs over), then on `wake` and every `pollMs`. */
  start(): Promise<void>;
  /** Claims soon (coalesced): new runs were queued, or a slot freed. */
  wake(): void;
  /**
   * Claims `sweepGapMs` after the last sweep ended (coalesced): for the frequent wakes (each run a limit
   * may hold, each end of one), so that a stream of them leaves the process time between claims.
   */
  wakeSoon(): void;
  /** Stops claiming; resolves once a claim in progress handed its runs over. */
  stop(): Promise<void>;
  /**
   * Runs may wait that this process could claim: its last sweep ran out of room (free() was 0, or a
   * batch came back full). New runs then queue behind them instead of starting at once.
   */
  readonly backlogged: boolean;
  /** The last claim saw waiting runs that a run limit holds back. */
  readonly limitsHolding: boolean;
  /** Whether `run`'s organization or workflow held runs back at the last claim: its ending frees a slot they wait for. */
  holdsBack(run: { organizationId: string; workflowId: string }): boolean;
}

const batchSize = 200;
/** While a limit holds runs back, a sweep at least this often (also without other processes). */
const heldPollMs = 1000;
/** wakeSoon's gap between the end of a sweep and the start of the next. */
const sweepGapMs = 20;

export function createDispatcher(options: {
  database: Database;
  owner: string;
  leaseMs: number;
  /** How many more runs this process may take now (0: none, e.g. while it sheds load or drains). */
  free(): number;
  /** Takes claimed runs over (their rows as claimed, with the new epoch). */
  take(runs: RunRow[]): Promise<void>;
  /** Poll for orphaned runs this often; 0: never (a database no other process uses). */
  pollMs: number;
  /**
   * With `pollMs` 0, how often to sweep while a limit holds runs back (default 1000: a slot freed where no
   * wake reached is filled within a second). Tests set it far above their patience to prove a wake.
   */
  heldPollMs?: number;
  /**
   * Every other owner is dead at start (PGlite after a restart): the first sweep gives up their leases,
   * so their runs are taken at once, and those a limit holds back wait like any other.
   */
  takeAllAtStart: boolean;
  /** Before each timed sweep: frees the runs a hung owner still locks (see endExpiredOwnersSessions). */
  beforePoll?: () => Promise<unknown>;
  log: Log;
}): Dispatcher {
  const shared = options.database.driver === 'postgres';
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let first = options.takeAllAtStart;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let backlogged = false;
  let lastSweepEnd = -Infinity;
  let soon: NodeJS.Timeout | undefined;
  /** wakeSoon was called during a sweep: wait the gap from its end. */
  let soonAfter = false;
  let heldBy = { organizations: new Set<string>(), workflows: new Set<string>() };
  const holding = () => heldBy.organizations.size > 0 || heldBy.workflows.size > 0;

  async function sweep(): Promise<void> {
    if (polling && options.beforePoll) await options.beforePoll();
    polling = false;
    do {
      again = false;
      for (;;) {
        if (stopped) return;
        const limit = Math.min(batchSize, options.free());
        if (limit <= 0) {
          backlogged = true;
          break;
        }
        const claim = await claimRuns(options.database.db, {
          owner: options.owner,
          leaseMs: options.leaseMs,
          limit,
          othersDead: first,
          shared,
        });
        if (claim.busy) {
          // Another process is claiming: look again once it is done.
          setTimeout(wake, 10 + Math.random() * 40).unref();
          return;
        }
        heldBy = { organizations: new Set(claim.heldBy.organizations), workflows: new Set(claim.heldBy.workflows) };
        first = false;
        if (claim.runs.length > 0) await options.take(claim.runs);
        if (claim.runs.length < limit) {
          backlogged = false;
          break;
        }
        backlogged = true;
      }
    } while (again && !stopped);
  }

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = sweep()
      .catch((error: unknown) => options.log('claiming runs failed', { error: String(error) }))
      .finally(() => {
        running = undefined;
        lastSweepEnd = performance.now();
        if (soonAfter) {
          soonAfter = false;
          wakeSoon();
        }
      });
  }

  function wakeSoon(): void {
    if (stopped || soon) return;
    if (running) {
      soonAfter = true;
      return;
    }
    const wait = lastSweepEnd + sweepGapMs - performance.now();
    if (wait <= 0) return wake();
    soon = setTimeout(() => {
      soon = undefined;
      wake();
    }, wait);
    soon.unref();
  }

  return {
    start() {
      wake();
      const started = running ?? Promise.resolve();
      timer = setInterval(() => {
        if (options.pollMs > 0) polling = true;
        if (options.pollMs > 0 || holding()) wake();
      }, options.pollMs > 0 ? options.pollMs : (options.heldPollMs ?? heldPollMs));
      timer.unref();
      return started;
    },
    wake,
    wakeSoon,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(soon);
      await running;
    },
    get backlogged() {
      return backlogged;
    },
    get limitsHolding() {
      return holding();
    },
    holdsBack: (run) => heldBy.organizations.has(run.organizationId) || heldBy.workflows.has(run.workflowId),
  };
}
