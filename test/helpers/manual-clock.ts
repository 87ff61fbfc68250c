// A Clock that only moves when a test says so: sleeps wait until `advance` passes their due time.
import type { Clock } from '../../src/engine/clock.js';

export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms`, waking every sleep due by then in time order (ties: the order they
   * were started). After each wake-up it lets the woken code run (one macrotask turn), so a sleep it
   * starts that is due inside the window is woken too. Resolves once time has reached now + ms.
   */
  advance(ms: number): Promise<void>;
  /** How many sleeps are waiting. */
  pending(): number;
}

interface Sleeper {
  due: number;
  order: number;
  wake(): void;
}

/** A manual clock starting at `start` ms since the epoch. `sleep(0)` (or less) resolves at once. */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let started = 0;
  const sleepers = new Set<Sleeper>();

  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (ms <= 0) return resolve();
      const onAbort = () => {
        sleepers.delete(sleeper);
        reject(signal!.reason);
      };
      const sleeper: Sleeper = {
        due: now + ms,
        order: started++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      sleepers.add(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const nextDue = (until: number): Sleeper | undefined => {
    let next: Sleeper | undefined;
    for (const s of sleepers) {
      if (s.due <= until && (!next || s.due < next.due || (s.due === next.due && s.order < next.order))) next = s;
    }
    return next;
  };

  return {
    now: () => now,
    sleep,
    pending: () => sleepers.size,
    async advance(ms) {
      const until = now + ms;
      for (let next = nextDue(until); next; next = nextDue(until)) {
        sleepers.delete(next);
        now = Math.max(now, next.due);
        next.wake();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      now = until;
    },
  };
}
