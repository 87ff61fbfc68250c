// Which runs this process takes: the unfinished runs nobody holds, claimed in batches up to the
// process's capacity — at start (in the background, after listen), when woken (a NOTIFY, a slot that
// freed) and on a timer, so a run whose owner died is taken over within RUN_LEASE_MS + ~1 s.
import type { Database } from '../db/client.js';
import { claimRuns } from '../db/queries/leases.js';
import type { RunRow } from '../db/schema.js';
import type { Log } from '../engine/index.js';

export interface Dispatcher {
  /** Starts claiming: a first sweep now (resolved once it handed its runs over), then on `wake` and every `pollMs`. */
  start(): Promise<void>;
  /** Claims soon (coalesced): new runs were queued, or a slot freed. */
  wake(): void;
  /** Stops claiming; resolves once a claim in progress handed its runs over. */
  stop(): Promise<void>;
}

const batchSize = 200;

export function createDispatcher(options: {
  database: Database;
  owner: string;
  leaseMs: number;
  /** How many more runs this process may take now. */
  free(): number;
  /** Takes claimed runs over (their rows as claimed, with the new epoch). */
  take(runs: RunRow[]): Promise<void>;
  /** Poll for orphaned runs this often; 0: never (a database no other process uses). */
  pollMs: number;
  /** The first sweep takes every unfinished run, whatever its lease says (PGlite after a restart). */
  takeAllAtStart: boolean;
  /** Before each timed sweep: frees the runs a hung owner still locks (see endExpiredOwnersSessions). */
  beforePoll?: () => Promise<unknown>;
  log: Log;
}): Dispatcher {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let first = options.takeAllAtStart;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  async function sweep(): Promise<void> {
    if (polling && options.beforePoll) await options.beforePoll();
    polling = false;
    do {
      again = false;
      for (;;) {
        const limit = Math.min(batchSize, options.free());
        if (stopped || limit <= 0) break;
        const claimed = await claimRuns(options.database.db, { owner: options.owner, leaseMs: options.leaseMs, limit, all: first });
        if (claimed.length > 0) await options.take(claimed);
        if (claimed.length < limit) break;
      }
      first = false;
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
      .finally(() => (running = undefined));
  }

  return {
    start() {
      wake();
      const first = running ?? Promise.resolve();
      if (options.pollMs > 0) {
        timer = setInterval(() => {
          polling = true;
          wake();
        }, options.pollMs);
        timer.unref();
      }
      return first;
    },
    wake,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
