// Load shedding: whether the process is overloaded (event-loop delay or heap past its threshold) and
// should stop taking new work until it recovers — with hysteresis, so that it does not flap.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from './logger.js';

/** One look at the process's load. */
export interface LoadReadings {
  /** How late the event loop ran its timers over the last window (p99), in ms. */
  eventLoopDelayMs: number;
  /** Heap used as a fraction of V8's heap limit. */
  heapFraction: number;
}

/** Whether the process sheds load now. The server takes one in; tests drive their own. */
export interface LoadSignal {
  /** Why the process sheds load now (e.g. `event-loop delay 340 ms is over 200 ms`), or null. */
  shedding(): string | null;
  /** Calls `listener` when shedding starts (with its reason) and when it ends (null); returns the unsubscribe. */
  onChange(listener: (reason: string | null) => void): () => void;
  /** The latest readings (for /metrics); null before the first. */
  readings(): LoadReadings | null;
}

/** A signal set by hand: the monitor's state, and what tests inject to shed load at will. */
export interface LoadSwitch extends LoadSignal {
  /** Starts (a reason) or ends (null) shedding; listeners hear only changes between the two. */
  set(reason: string | null, readings?: LoadReadings): void;
}

export function createLoadSwitch(): LoadSwitch {
  let reason: string | null = null;
  let last: LoadReadings | null = null;
  const listeners = new Set<(reason: string | null) => void>();
  return {
    shedding: () => reason,
    readings: () => last,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next, readings) {
      if (readings) last = readings;
      const changed = (reason === null) !== (next === null);
      reason = next;
      if (changed) for (const listener of [...listeners]) listener(next);
    },
  };
}

/** Where readings come from: the real process (`createProcessSampler`), or a test's numbers. */
export interface LoadSampler {
  /** The readings since the previous call. */
  read(): LoadReadings;
  close(): void;
}

/** The parts of perf_hooks' event-loop delay histogram the sampler uses (values in ns). */
export interface DelayHistogram {
  percentile(percentile: number): number;
  readonly count: number;
  reset(): void;
  disable(): unknown;
}

/**
 * Reads this process: the p99 of perf_hooks' event-loop delay histogram over the window (less its
 * sampling interval, which it counts in), or how late the window itself ended if that is more — the
 * histogram misses a stall right after its reset — and heap used over `heap_size_limit`.
 */
export function createProcessSampler(
  options: {
    windowMs: number;
    resolutionMs?: number;
    histogram?: DelayHistogram;
    now?: () => number;
    heap?: () => { used: number; limit: number };
  },
): LoadSampler {
  const resolutionMs = options.resolutionMs ?? 20;
  const now = options.now ?? (() => performance.now());
  const heap =
    options.heap ??
    (() => {
      const stats = getHeapStatistics();
      return { used: stats.used_heap_size, limit: stats.heap_size_limit };
    });
  const histogram = options.histogram ?? enabledHistogram(resolutionMs);
  let windowStart = now();
  return {
    read() {
      const at = now();
      const late = Math.max(0, at - windowStart - options.windowMs);
      windowStart = at;
      const p99 = histogram.count > 0 ? Math.max(0, histogram.percentile(99) / 1e6 - resolutionMs) : 0;
      histogram.reset();
      const { used, limit } = heap();
      return { eventLoopDelayMs: Math.max(p99, late), heapFraction: limit > 0 ? used / limit : 0 };
    },
    close: () => void histogram.disable(),
  };
}

function enabledHistogram(resolutionMs: number): DelayHistogram {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return histogram;
}

export interface LoadThresholds {
  /** Event-loop delay in ms past which the process sheds load; 0: never for delay. */
  eventLoopDelayMs: number;
  /** Heap used, as a fraction of the heap limit, past which it sheds load; 0: never for memory. */
  heapFraction: number;
}

/** A load monitor: a signal that `check()` moves, every `windowMs` once started. */
export interface LoadMonitor extends LoadSignal {
  /** Takes readings and decides (the timer calls it; tests call it themselves). */
  check(): void;
  start(): void;
  stop(): void;
}

/** Windows in a row past a threshold before shedding starts. */
const overWindows = 2;
/** Windows in a row with every reading under `recoverRatio` of its threshold before shedding ends. */
const calmWindows = 3;
const recoverRatio = 0.8;

/**
 * Sheds load once a reading stays past its threshold for 2 windows in a row, and stops once every
 * reading stays under 80% of its threshold for 3 windows in a row (a window is 1 s by default).
 */
export function createLoadMonitor(
  options: LoadThresholds & { windowMs?: number; sampler?: LoadSampler },
): LoadMonitor {
  const windowMs = options.windowMs ?? 1000;
  const state = createLoadSwitch();
  let sampler = options.sampler;
  let timer: NodeJS.Timeout | undefined;
  let over = 0;
  let calm = 0;

  /** The first reading past its threshold, as a reason; null when none is. */
  function overload(readings: LoadReadings, ratio: number): string | null {
    const delay = options.eventLoopDelayMs;
    if (delay > 0 && readings.eventLoopDelayMs > delay * ratio) {
      return `event-loop delay ${Math.round(readings.eventLoopDelayMs)} ms is over ${Math.round(delay * ratio)} ms`;
    }
    const heap = options.heapFraction;
    if (heap > 0 && readings.heapFraction > heap * ratio) {
      return `heap ${percent(readings.heapFraction)} of its limit is over ${percent(heap * ratio)}`;
    }
    return null;
  }

  function check(): void {
    sampler ??= createProcessSampler({ windowMs });
    const readings = sampler.read();
    const reason = overload(readings, 1);
    if (state.shedding() === null) {
      over = reason === null ? 0 : over + 1;
      state.set(over >= overWindows ? reason : null, readings);
      if (over >= overWindows) calm = 0;
      return;
    }
    calm = overload(readings, recoverRatio) === null ? calm + 1 : 0;
    if (calm >= calmWindows) {
      over = 0;
      state.set(null, readings);
    } else state.set(reason ?? state.shedding(), readings);
  }

  return {
    shedding: state.shedding,
    onChange: state.onChange,
    readings: state.readings,
    check,
    start() {
      if (timer) return;
      sampler ??= createProcessSampler({ windowMs });
      timer = setInterval(check, windowMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      sampler?.close();
      sampler = options.sampler;
    },
  };
}

const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;

/**
 * The engine's gate on node starts: null while the process takes work, else — the same promise for as
 * long as shedding lasts — a promise that resolves when it ends.
 */
export function loadStartGate(load: LoadSignal): () => Promise<void> | null {
  let hold: Promise<void> | undefined;
  return () => {
    if (load.shedding() === null) return null;
    hold ??= new Promise<void>((resolve) => {
      const off = load.onChange((reason) => {
        if (reason !== null) return;
        off();
        hold = undefined;
        resolve();
      });
    });
    return hold;
  };
}

/** Logs one warn line when shedding starts and one info line when it ends; returns the unsubscribe. */
export function logLoadChanges(load: LoadSignal, logger: Logger): () => void {
  return load.onChange((reason) => {
    const readings = load.readings();
    if (reason !== null) logger.warn({ reason, ...readings }, 'shedding load: taking no new runs and delaying node starts');
    else logger.info({ ...readings }, 'load shedding ended: taking runs again');
  });
}
