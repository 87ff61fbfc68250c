// The per-window request budget of each API key (RATE_LIMIT_PER_SECOND), on rate-limiter-flexible: in
// memory on PGlite; on PostgreSQL one budget for every process, drawn from `rate_limits` in leases of
// several points so that most requests are counted without waiting for the database.
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Database } from '../db/client.js';
import { rateLimits } from '../db/schema.js';

export interface KeyBudget {
  /** Takes one point of `key`'s budget: null when granted, otherwise the ms until its window ends (≥ 1). */
  take(key: string): Promise<number | null>;
}

export interface KeyBudgetOptions {
  /** Points per window; 0 = no limit. */
  limit: number;
  /** The window, in ms (1000 for "per second"). */
  windowMs: number;
  /** PostgreSQL: the budget is shared through its `rate_limits` table. PGlite: this process only. */
  database: Database;
}

/** A lease's size: up to this many points are drawn from PostgreSQL at once (1 for limits below 40). */
export const leaseSize = (limit: number) => Math.max(1, Math.floor(limit / 20));

export function createKeyBudget(options: KeyBudgetOptions): KeyBudget {
  const { limit, windowMs, database } = options;
  if (limit === 0) return { take: () => Promise.resolve(null) };
  const memory = new RateLimiterMemory({ keyPrefix: 'rps', points: limit, duration: windowMs / 1000 });
  if (database.driver === 'pglite') {
    return { take: (key) => memory.consume(key).then(() => null, refusedFor) };
  }
  // Should PostgreSQL fail, each process keeps the limit on its own (the insurance limiter).
  const shared = new RateLimiterDrizzle({
    storeClient: database.db,
    schema: rateLimits,
    keyPrefix: 'rps',
    points: limit,
    duration: windowMs / 1000,
    clearExpiredByTimeout: false,
    insuranceLimiter: memory,
  });
  return createLeasedBudget(limit, (key, points) =>
    shared.consume(key, points).then(
      (res) => ({ granted: points, msLeft: res.msBeforeNext }),
      (res: unknown) => {
        if (!(res instanceof RateLimiterRes)) throw res;
        // Points already drawn by others this window are gone; the rest of this lease is ours.
        return { granted: Math.max(0, Math.min(points, limit - (res.consumedPoints - points))), msLeft: res.msBeforeNext };
      },
    ),
  );
}

type Draw = (key: string, points: number) => Promise<{ granted: number; msLeft: number }>;

interface Lease {
  left: number;
  /** When the window the lease was drawn in ends (Date.now() ms). */
  until: number;
  /** The last draw got fewer points than it asked for: the window's budget is spent everywhere. */
  spent: boolean;
  /** Takers waiting for the draw in flight. */
  waiting: number;
  drawing?: Promise<void> | undefined;
}

/**
 * Spends leases drawn through `draw`, one draw per key at a time, each for `leaseSize(limit)` points
 * or for as many takers as are waiting. Never more than `limit` points per window are granted in all;
 * a process may end a window holding up to `leaseSize - 1` points it did not spend (no other process
 * could use them), so a key served by P processes may be refused up to P × (leaseSize - 1) early.
 */
export function createLeasedBudget(limit: number, draw: Draw): KeyBudget {
  const size = leaseSize(limit);
  const leases = new Map<string, Lease>();

  // One loop turn first, so that every taker that is about to wait is counted in the draw.
  const drawLease = (key: string, lease: Lease) =>
    (lease.drawing ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        const wanted = Math.max(size, lease.waiting);
        return draw(key, wanted).then(({ granted, msLeft }) => {
          lease.left = granted;
          lease.spent = granted < wanted;
          lease.until = Date.now() + Math.max(1, msLeft);
        });
      })
      .finally(() => (lease.drawing = undefined)));

  return {
    async take(key) {
      let lease = leases.get(key);
      if (!lease) {
        if (leases.size >= 100_000) sweep(leases);
        leases.set(key, (lease = { left: 0, until: 0, spent: false, waiting: 0 }));
      }
      // Each turn either takes a point, refuses, or waits for a draw that grants points or spends the window.
      for (;;) {
        const now = Date.now();
        if (lease.until > now) {
          if (lease.left > 0) {
            lease.left--;
            return null;
          }
          if (lease.spent && !lease.drawing) return lease.until - now;
        }
        lease.waiting++;
        try {
          await drawLease(key, lease);
        } finally {
          lease.waiting--;
        }
      }
    },
  };
}

function sweep(leases: Map<string, Lease>): void {
  const now = Date.now();
  for (const [key, lease] of leases) if (lease.until <= now && !lease.drawing && lease.waiting === 0) leases.delete(key);
}

function refusedFor(res: unknown): number {
  if (!(res instanceof RateLimiterRes)) throw res;
  return Math.max(1, res.msBeforeNext);
}
