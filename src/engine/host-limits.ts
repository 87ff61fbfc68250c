// Per-host limits on outgoing HTTP requests, for one process: at most `max` requests in flight to a
// host, adapted to its answers (AIMD: a 429 halves the host's limit, a success raises it by one), and a
// pause of every request to a host that answered 429 or 503 with Retry-After. Time comes from the clock.
import type { Clock } from './clock.js';
import type { HostAnswer, HostPermit } from './nodes/node-type.js';

export type { HostAnswer, HostPermit } from './nodes/node-type.js';

export interface HostLimitsOptions {
  /** Most requests in flight to one host (HTTP_HOST_CONCURRENCY); also where an adapted limit climbs back to. */
  max: number;
  clock: Clock;
  /** How long a host with nothing in flight, waiting or paused is remembered (its adapted limit, its pauses). */
  idleMs?: number;
  /** The longest pause one Retry-After imposes (a far date would hold the host for good). */
  maxPauseMs?: number;
}

/** Told while a request waits for its host, for its step's reason; `null` once it got its slot or gave up. */
export type HostWaitReport = (reason: string | null) => void;

/** One host as the limiter sees it now (for metrics). */
export interface HostState {
  host: string;
  limit: number;
  inFlight: number;
  waiting: number;
  /** When its pause ends (ms since the epoch), or null when it is not paused. */
  pausedUntil: number | null;
  /** How many times a Retry-After paused it since it was first seen (or last forgotten). */
  pauses: number;
}

export interface HostLimits {
  readonly max: number;
  /**
   * A slot for one request to `host` (a URL's `host`: name and port). Resolves at once when the host
   * has room and is not paused; otherwise waits its turn (first come, first served), telling `report`
   * why, and rejects with the signal's reason when `signal` aborts first. Release the permit exactly once.
   */
  acquire(host: string, signal?: AbortSignal, report?: HostWaitReport): Promise<HostPermit>;
  /** Every host remembered now; hosts idle for `idleMs` are forgotten. */
  hosts(): HostState[];
}

interface Waiter {
  resolve(permit: HostPermit): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  report: HostWaitReport | undefined;
  /** What the waiter was last told. */
  shown: 'limit' | 'paused' | null;
}

interface Host {
  name: string;
  limit: number;
  inFlight: number;
  /** In arrival order (a Set keeps insertion order and deletes an aborted waiter in O(1)). */
  waiters: Set<Waiter>;
  /** 0 when not paused. */
  pausedUntil: number;
  /** Ends the sleep until the pause's end when a later Retry-After moves it. */
  pauseTimer: AbortController | undefined;
  pauses: number;
  /** Bumped at every halving: a 429 to a request sent before the last halving does not halve again. */
  generation: number;
  lastUsed: number;
}

const defaultIdleMs = 5 * 60_000;
const defaultMaxPauseMs = 60 * 60_000;

/** Creates the per-host limits of one process. */
export function createHostLimits(options: HostLimitsOptions): HostLimits {
  const { max, clock } = options;
  const idleMs = options.idleMs ?? defaultIdleMs;
  const maxPauseMs = options.maxPauseMs ?? defaultMaxPauseMs;
  const hosts = new Map<string, Host>();
  let lastSweep = clock.now();

  function hostOf(name: string, now: number): Host {
    let host = hosts.get(name);
    if (host === undefined) {
      if (now - lastSweep >= Math.min(idleMs, 60_000)) sweep(now);
      host = { name, limit: max, inFlight: 0, waiters: new Set(), pausedUntil: 0, pauseTimer: undefined, pauses: 0, generation: 0, lastUsed: now };
      hosts.set(name, host);
    }
    host.lastUsed = now;
    return host;
  }

  /** Forgets hosts with nothing in flight, waiting or paused for `idleMs`: metrics keep few series. */
  function sweep(now: number): void {
    lastSweep = now;
    for (const host of hosts.values()) {
      if (host.inFlight === 0 && host.waiters.size === 0 && host.pausedUntil <= now && now - host.lastUsed >= idleMs) {
        host.pauseTimer?.abort();
        hosts.delete(host.name);
      }
    }
  }

  function paused(host: Host, now: number): boolean {
    if (host.pausedUntil === 0) return false;
    if (host.pausedUntil > now) return true;
    host.pausedUntil = 0;
    return false;
  }

  const limitReason = (host: Host) => `waiting for host ${host.name} (limit ${host.limit}, ${host.waiters.size} waiting)`;
  const pauseReason = (host: Host) => `host ${host.name} paused until ${new Date(host.pausedUntil).toISOString()} (Retry-After)`;

  function tell(waiter: Waiter, host: Host, shown: 'limit' | 'paused' | null): void {
    if (waiter.report === undefined || waiter.shown === shown) return;
    waiter.shown = shown;
    waiter.report(shown === null ? null : shown === 'limit' ? limitReason(host) : pauseReason(host));
  }

  function take(host: Host): HostPermit {
    host.inFlight++;
    const generation = host.generation;
    let released = false;
    return {
      release(answer?: HostAnswer) {
        if (released) return;
        released = true;
        host.inFlight--;
        const now = clock.now();
        host.lastUsed = now;
        if (answer !== undefined) adapt(host, generation, answer, now);
        pump(host);
      },
    };
  }

  function adapt(host: Host, generation: number, { status, retryAfterMs }: HostAnswer, now: number): void {
    if (status === 429) {
      // One halving per round of requests: those sent before the last halving saw the old limit.
      if (generation === host.generation) {
        host.limit = Math.max(1, Math.floor(host.limit / 2));
        host.generation++;
      }
    } else if (status < 500) {
      host.limit = Math.min(max, host.limit + 1);
    }
    if ((status === 429 || status === 503) && retryAfterMs !== undefined && retryAfterMs > 0) {
      pause(host, now + Math.min(retryAfterMs, maxPauseMs), now);
    }
  }

  function pause(host: Host, until: number, now: number): void {
    if (until <= host.pausedUntil) return;
    host.pausedUntil = until;
    host.pauses++;
    host.pauseTimer?.abort();
    const timer = new AbortController();
    host.pauseTimer = timer;
    // The sleep rejects only when a later pause replaced this one (or the host was forgotten).
    clock.sleep(until - now, timer.signal).then(
      () => {
        if (host.pauseTimer === timer) host.pauseTimer = undefined;
        pump(host);
      },
      () => undefined,
    );
    for (const waiter of host.waiters) tell(waiter, host, 'paused');
  }

  /** Hands free slots to the waiters in order; tells those still waiting after a pause why they wait now. */
  function pump(host: Host): void {
    if (host.waiters.size === 0 || paused(host, clock.now())) return;
    for (const waiter of host.waiters) {
      if (host.inFlight >= host.limit) break;
      host.waiters.delete(waiter);
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      tell(waiter, host, null);
      waiter.resolve(take(host));
    }
    for (const waiter of host.waiters) if (waiter.shown === 'paused') tell(waiter, host, 'limit');
  }

  return {
    max,
    acquire(name, signal, report) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const now = clock.now();
      const host = hostOf(name, now);
      if (host.waiters.size === 0 && !paused(host, now) && host.inFlight < host.limit) return Promise.resolve(take(host));
      return new Promise<HostPermit>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          signal,
          report,
          shown: null,
          onAbort: () => {
            host.waiters.delete(waiter);
            tell(waiter, host, null);
            reject(signal!.reason);
          },
        };
        host.waiters.add(waiter);
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        tell(waiter, host, paused(host, now) ? 'paused' : 'limit');
      });
    },
    hosts() {
      const now = clock.now();
      sweep(now);
      return [...hosts.values()].map((host) => ({
        host: host.name,
        limit: host.limit,
        inFlight: host.inFlight,
        waiting: host.waiters.size,
        pausedUntil: paused(host, now) ? host.pausedUntil : null,
        pauses: host.pauses,
      }));
    },
  };
}
