// The leases this process holds: the epoch of each run it drives (which fences its writes), renewed
// every third of RUN_LEASE_MS in one statement; a run missing from the renewal was lost.
import type { Database } from '../db/client.js';
import { releaseLeases, renewLeases } from '../db/queries/leases.js';
import type { Log } from '../engine/index.js';

export interface Leases {
  readonly owner: string;
  /** The epoch held on `runId`, or undefined: what the run store fences commits with. */
  epochOf(runId: string): number | undefined;
  /**
   * Whether the lease on `runId` surely still holds by this process's own clock: it was taken or
   * renewed less than a lease ago (less a margin). A process paused past its lease (SIGSTOP, a long
   * GC) finds it false on waking, before it could start anything another process now drives.
   */
  holds(runId: string): boolean;
  hold(runId: string, epoch: number): void;
  forget(runId: string): void;
  /** Renews every lease now (also done every third of the lease by `start`). */
  renew(): Promise<void>;
  start(): void;
  /** Stops renewing and releases every lease still held, so another process may take the runs at once. */
  release(): Promise<void>;
}

export interface LeaseEvents {
  /** Another process took the run over (or it was settled elsewhere): stop driving it, write nothing. */
  lost(runId: string): void;
  /** cancelRun reached the database for a run this process drives. */
  cancelRequested(runId: string, reason: string): void;
}

export function createLeases(options: {
  database: Database;
  owner: string;
  leaseMs: number;
  events: LeaseEvents;
  log: Log;
}): Leases {
  const { database, owner, leaseMs, events } = options;
  const held = new Map<string, number>();
  /** When each run was claimed, by the monotonic clock: a lease taken after the last renewal counts from there. */
  const heldSince = new Map<string, number>();
  const margin = Math.min(1000, leaseMs / 5);
  let timer: NodeJS.Timeout | undefined;
  let lastRenewed = performance.now();
  let renewing: Promise<void> | undefined;

  async function renewNow(): Promise<void> {
    const snapshot = [...held].map(([id, epoch]) => ({ id, epoch }));
    const started = performance.now();
    let rows: Awaited<ReturnType<typeof renewLeases>>;
    try {
      rows = await renewLeases(database.db, owner, leaseMs, snapshot);
    } catch (error) {
      options.log('lease renewal failed', { error: String(error) });
      // Past the lease, another process may have taken the runs: stop them rather than run them twice.
      if (performance.now() - lastRenewed > leaseMs) for (const { id } of snapshot) events.lost(id);
      return;
    }
    lastRenewed = started;
    const still = new Map(rows.map((row) => [row.id, row.cancelRequested]));
    for (const { id, epoch } of snapshot) {
      if (held.get(id) !== epoch) continue; // ended or re-held meanwhile
      if (!still.has(id)) events.lost(id);
      else {
        const reason = still.get(id);
        if (reason) events.cancelRequested(id, reason);
      }
    }
  }

  return {
    owner,
    epochOf: (runId) => held.get(runId),
    holds(runId) {
      const since = heldSince.get(runId);
      return since !== undefined && performance.now() - Math.max(since, lastRenewed) < leaseMs - margin;
    },
    hold(runId, epoch) {
      held.set(runId, epoch);
      heldSince.set(runId, performance.now());
    },
    forget(runId) {
      held.delete(runId);
      heldSince.delete(runId);
    },
    renew: () => (renewing ??= renewNow().finally(() => (renewing = undefined))),
    start() {
      timer ??= setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
      timer.unref();
    },
    async release() {
      clearInterval(timer);
      await renewing;
      const all = [...held].map(([id, epoch]) => ({ id, epoch }));
      held.clear();
      heldSince.clear();
      await releaseLeases(database.db, owner, all);
    },
  };
}
