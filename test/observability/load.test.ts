// The load monitor on readings the test chooses: it starts shedding after two windows past a threshold,
// ends after three windows under 80% of it (no flapping in between), and the process sampler reads the
// delay histogram's p99 and how late the window itself ended, with an injected histogram, clock and heap.
import { describe, expect, it } from 'vitest';
import { createLoadMonitor, createLoadSwitch, createProcessSampler, loadStartGate, type DelayHistogram, type LoadReadings } from '../../src/observability/load.js';

/** A sampler that hands out the readings the test queued, one per window. */
function queuedReadings() {
  const queue: LoadReadings[] = [];
  return {
    sampler: {
      read: () => {
        const next = queue.shift();
        if (!next) throw new Error('no reading queued');
        return next;
      },
      close: () => {},
    },
    push: (...readings: Partial<LoadReadings>[]) => queue.push(...readings.map((r) => ({ eventLoopDelayMs: 5, heapFraction: 0.1, ...r }))),
  };
}

/** Checks once per queued reading and says after each whether the monitor sheds load. */
function shedsAfterEach(monitor: { check(): void; shedding(): string | null }, windows: number): boolean[] {
  return Array.from({ length: windows }, () => {
    monitor.check();
    return monitor.shedding() !== null;
  });
}

describe('createLoadMonitor', () => {
  it('sheds once the event-loop delay stays over its threshold for two windows, not for a single slow one', () => {
    const { sampler, push } = queuedReadings();
    const monitor = createLoadMonitor({ eventLoopDelayMs: 200, heapFraction: 0.85, sampler });
    push({ eventLoopDelayMs: 500 }, { eventLoopDelayMs: 10 }, { eventLoopDelayMs: 250 }, { eventLoopDelayMs: 300 });
    expect(shedsAfterEach(monitor, 4)).toEqual([false, false, false, true]);
    expect(monitor.shedding()).toBe('event-loop delay 300 ms is over 200 ms');
    expect(monitor.readings()).toEqual({ eventLoopDelayMs: 300, heapFraction: 0.1 });
  });

  it('a delay at the threshold itself is not over it', () => {
    const { sampler, push } = queuedReadings();
    const monitor = createLoadMonitor({ eventLoopDelayMs: 200, heapFraction: 0.85, sampler });
    push({ eventLoopDelayMs: 200 }, { eventLoopDelayMs: 200 }, { eventLoopDelayMs: 199 });
    expect(shedsAfterEach(monitor, 3)).toEqual([false, false, false]);
  });

  it('ends only after three windows in a row under 80% of the threshold (hysteresis)', () => {
    const { sampler, push } = queuedReadings();
    const monitor = createLoadMonitor({ eventLoopDelayMs: 200, heapFraction: 0.85, sampler });
    push({ eventLoopDelayMs: 300 }, { eventLoopDelayMs: 300 });
    // Under the threshold but over 160 ms keeps it shedding; a calm run broken by a slow window starts over.
    push({ eventLoopDelayMs: 190 }, { eventLoopDelayMs: 100 }, { eventLoopDelayMs: 100 }, { eventLoopDelayMs: 170 });
    push({ eventLoopDelayMs: 100 }, { eventLoopDelayMs: 100 }, { eventLoopDelayMs: 100 });
    expect(shedsAfterEach(monitor, 9)).toEqual([false, true, true, true, true, true, true, true, false]);
  });

  it('tells listeners once when shedding starts and once when it ends', () => {
    const { sampler, push } = queuedReadings();
    const monitor = createLoadMonitor({ eventLoopDelayMs: 200, heapFraction: 0.85, sampler });
    const heard: (string | null)[] = [];
    monitor.onChange((reason) => heard.push(reason));
    push(...Array.from({ length: 4 }, () => ({ eventLoopDelayMs: 400 })), ...Array.from({ length: 4 }, () => ({})));
    shedsAfterEach(monitor, 8);
    expect(heard).toEqual(['event-loop delay 400 ms is over 200 ms', null]);
  });

  it('sheds on the heap past its fraction of the limit', () => {
    const { sampler, push } = queuedReadings();
    const monitor = createLoadMonitor({ eventLoopDelayMs: 200, heapFraction: 0.85, sampler });
    push({ heapFraction: 0.9 }, { heapFraction: 0.92 }, { heapFraction: 0.7 }, { heapFraction: 0.6 }, { heapFraction: 0.6 }, { heapFraction: 0.6 });
    expect(shedsAfterEach(monitor, 6)).toEqual([false, true, true, true, true, false]);
    push({ heapFraction: 0.9 }, { heapFraction: 0.9 });
    shedsAfterEach(monitor, 2);
    expect(monitor.shedding()).toBe('heap 90% of its limit is over 85%');
  });

  it('0 turns a threshold off', () => {
    const { sampler, push } = queuedReadings();
    const monitor = createLoadMonitor({ eventLoopDelayMs: 0, heapFraction: 0, sampler });
    push(...Array.from({ length: 5 }, () => ({ eventLoopDelayMs: 10_000, heapFraction: 0.99 })));
    expect(shedsAfterEach(monitor, 5)).toEqual([false, false, false, false, false]);
  });
});

describe('createProcessSampler', () => {
  function fakeHistogram(p99Ns: number[]): DelayHistogram & { resets: number } {
    const h = {
      resets: 0,
      count: 50,
      percentile: (percentile: number) => (percentile === 99 ? p99Ns[0]! : 0),
      reset: () => {
        h.resets++;
        p99Ns.shift();
      },
      disable: () => false,
    };
    return h;
  }

  it("reads the window's p99 less the sampling interval, or how late the window ended if that is more", () => {
    let now = 0;
    const histogram = fakeHistogram([30e6, 250e6, 20e6]);
    const sampler = createProcessSampler({ windowMs: 1000, resolutionMs: 20, histogram, now: () => now, heap: () => ({ used: 3, limit: 4 }) });
    now = 1000;
    expect(sampler.read()).toEqual({ eventLoopDelayMs: 10, heapFraction: 0.75 });
    now = 2000;
    expect(sampler.read().eventLoopDelayMs).toBe(230);
    // A stall the histogram missed (right after its reset) still shows: the window ended 400 ms late.
    now = 3400;
    expect(sampler.read().eventLoopDelayMs).toBe(400);
    expect(histogram.resets).toBe(3);
  });

  it('reads the real process without an injected histogram', async () => {
    const sampler = createProcessSampler({ windowMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const readings = sampler.read();
    sampler.close();
    expect(readings.heapFraction).toBeGreaterThan(0);
    expect(readings.heapFraction).toBeLessThan(1);
    expect(readings.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
  });
});

describe('createLoadSwitch', () => {
  it('tells listeners only when shedding starts or ends, not when its reason changes', () => {
    const load = createLoadSwitch();
    const heard: (string | null)[] = [];
    const off = load.onChange((reason) => heard.push(reason));
    load.set('a');
    load.set('b');
    load.set(null);
    load.set(null);
    off();
    load.set('c');
    expect(heard).toEqual(['a', null]);
    expect(load.shedding()).toBe('c');
  });
});

describe('loadStartGate', () => {
  it('lets nodes start while calm; while shedding hands out one promise that resolves when shedding ends', async () => {
    const load = createLoadSwitch();
    const gate = loadStartGate(load);
    expect(gate()).toBeNull();
    load.set('overloaded');
    const hold = gate();
    expect(hold).not.toBeNull();
    expect(gate()).toBe(hold);
    let released = false;
    void hold!.then(() => (released = true));
    load.set('still overloaded');
    await Promise.resolve();
    expect(released).toBe(false);
    load.set(null);
    await hold;
    expect(released).toBe(true);
    expect(gate()).toBeNull();
    load.set('again');
    const next = gate();
    expect(next).not.toBe(hold);
    expect(next).not.toBeNull();
  });
});
