// Per-host HTTP limits on the manual clock: at most HTTP_HOST_CONCURRENCY in flight per host, first come
// first served, 429s halving the limit (once per round) and successes raising it, a Retry-After pausing
// the host until then, and a wait that a signal ends. Then through the engine: a node waiting for its
// host is RUNNING with a reason, the wait counts toward its timeoutMs, and cancelRun ends it.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  compileWorkflow,
  createEngine,
  createHostLimits,
  createMemoryStore,
  createNodeRegistry,
  type HostLimits,
  type NodeType,
} from '../../src/engine/index.js';
import type { HostPermit } from '../../src/engine/nodes/node-type.js';
import { createManualClock, type ManualClock } from '../helpers/manual-clock.js';

const host = 'api.example.com';

/** Acquires a slot and records when it came and what the waiter was told. */
function request(limits: HostLimits, signal?: AbortSignal) {
  const told: (string | null)[] = [];
  let permit: HostPermit | undefined;
  let failure: unknown;
  const promise = limits.acquire(host, signal, (reason) => told.push(reason)).then(
    (granted) => (permit = granted),
    (error: unknown) => (failure = error),
  );
  return {
    told,
    promise,
    get permit() {
      return permit;
    },
    get failure() {
      return failure;
    },
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const state = (limits: HostLimits) => limits.hosts().find((h) => h.host === host);

/** `count` requests that each get a slot at once and are answered `status`, one after the other. */
async function answerInTurn(limits: HostLimits, count: number, status: number): Promise<void> {
  for (let i = 0; i < count; i++) (await limits.acquire(host)).release({ status });
}

describe('per-host limits', () => {
  it('lets at most `max` requests be in flight to a host; the next waits its turn and is told why', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1));
    const limits = createHostLimits({ max: 2, clock });
    const first = request(limits);
    const second = request(limits);
    const third = request(limits);
    const fourth = request(limits);
    await flush();
    expect([first.permit, second.permit].every(Boolean)).toBe(true);
    expect(third.permit).toBeUndefined();
    expect(fourth.permit).toBeUndefined();
    expect(third.told).toEqual([`waiting for host ${host} (limit 2, 1 waiting)`]);
    expect(fourth.told).toEqual([`waiting for host ${host} (limit 2, 2 waiting)`]);
    expect(state(limits)).toMatchObject({ limit: 2, inFlight: 2, waiting: 2 });
    // Another host is not held up by this one.
    expect(await limits.acquire('other.example.com')).toBeDefined();

    first.permit!.release({ status: 200 });
    await flush();
    expect(third.permit).toBeDefined();
    expect(third.told).toEqual([`waiting for host ${host} (limit 2, 1 waiting)`, null]);
    expect(fourth.permit).toBeUndefined();
    expect(state(limits)).toMatchObject({ inFlight: 2, waiting: 1 });
    second.permit!.release();
    await flush();
    expect(fourth.permit).toBeDefined();
  });

  it('halves the limit at each 429 (not below 1) and raises it by one at each success, up to `max`', async () => {
    const clock = createManualClock();
    const limits = createHostLimits({ max: 8, clock });
    const limitsSeen: number[] = [];
    for (let i = 0; i < 5; i++) {
      await answerInTurn(limits, 1, 429);
      limitsSeen.push(state(limits)!.limit);
    }
    expect(limitsSeen).toEqual([4, 2, 1, 1, 1]);
    // With a limit of 1, a second request waits while the first is in flight.
    const inFlight = await limits.acquire(host);
    const next = request(limits);
    await flush();
    expect(next.permit).toBeUndefined();
    inFlight.release({ status: 200 });
    await flush();
    expect(next.permit).toBeDefined();
    next.permit!.release({ status: 404 }); // an answer that is not about load counts as a success
    expect(state(limits)!.limit).toBe(3);
    await answerInTurn(limits, 10, 200);
    expect(state(limits)!.limit).toBe(8);
    // A 5xx or no answer at all changes nothing.
    await answerInTurn(limits, 1, 429);
    await answerInTurn(limits, 1, 500);
    (await limits.acquire(host)).release();
    expect(state(limits)!.limit).toBe(4);
  });

  it('halves once for the 429s of one round: requests sent before a halving do not halve again', async () => {
    const limits = createHostLimits({ max: 8, clock: createManualClock() });
    const round = await Promise.all(Array.from({ length: 8 }, () => limits.acquire(host)));
    for (const permit of round) permit.release({ status: 429 });
    expect(state(limits)!.limit).toBe(4);
    const next = await Promise.all(Array.from({ length: 4 }, () => limits.acquire(host)));
    for (const permit of next) permit.release({ status: 429 });
    expect(state(limits)!.limit).toBe(2);
  });

  it('pauses every request to a host that answered 429 or 503 with Retry-After, until then', async () => {
    const start = Date.UTC(2026, 0, 1, 12);
    const clock = createManualClock(start);
    const limits = createHostLimits({ max: 4, clock });
    const alongside = await limits.acquire(host);
    (await limits.acquire(host)).release({ status: 429, retryAfterMs: 1000 });
    expect(state(limits)).toMatchObject({ pausedUntil: start + 1000, pauses: 1 });
    const paused = request(limits);
    await flush();
    expect(paused.told).toEqual([`host ${host} paused until 2026-01-01T12:00:01.000Z (Retry-After)`]);
    // A request in flight when the pause began finishes; its slot goes to nobody before the pause ends.
    alongside.release({ status: 200 });
    await clock.advance(999);
    expect(paused.permit).toBeUndefined();
    await clock.advance(1);
    expect(paused.permit).toBeDefined();
    expect(paused.told.at(-1)).toBeNull();
    expect(state(limits)).toMatchObject({ pausedUntil: null, pauses: 1 });

    // A 503 pauses too, without halving or raising the limit.
    const before = state(limits)!.limit;
    paused.permit!.release({ status: 503, retryAfterMs: 500 });
    expect(state(limits)).toMatchObject({ limit: before, pausedUntil: start + 1500, pauses: 2 });
  });

  it('tells a request waiting for a slot when a pause begins, and lets it go when the pause ends', async () => {
    const start = Date.UTC(2026, 0, 1);
    const clock = createManualClock(start);
    const limits = createHostLimits({ max: 1, clock });
    const a = await limits.acquire(host);
    const waiter = request(limits);
    await flush();
    expect(waiter.told).toEqual([`waiting for host ${host} (limit 1, 1 waiting)`]);
    a.release({ status: 503, retryAfterMs: 2000 });
    expect(waiter.told.at(-1)).toBe(`host ${host} paused until 2026-01-01T00:00:02.000Z (Retry-After)`);
    await clock.advance(1999);
    expect(waiter.permit).toBeUndefined();
    await clock.advance(1);
    expect(waiter.permit).toBeDefined();
    expect(state(limits)!.limit).toBe(1);
  });

  it('ends a wait when its signal aborts, and the slot goes to the next in line', async () => {
    const limits = createHostLimits({ max: 1, clock: createManualClock() });
    const busy = await limits.acquire(host);
    const controller = new AbortController();
    const gaveUp = request(limits, controller.signal);
    const next = request(limits);
    await flush();
    controller.abort(new Error('cancelled'));
    await flush();
    expect((gaveUp.failure as Error).message).toBe('cancelled');
    expect(gaveUp.told.at(-1)).toBeNull();
    expect(state(limits)).toMatchObject({ inFlight: 1, waiting: 1 });
    busy.release({ status: 200 });
    await flush();
    expect(next.permit).toBeDefined();
    expect(gaveUp.permit).toBeUndefined();
    // An aborted signal gets no slot at all.
    await expect(limits.acquire(host, AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
  });

  it('forgets a host left idle, so metrics list only hosts in use', async () => {
    const clock = createManualClock();
    const limits = createHostLimits({ max: 4, clock, idleMs: 60_000 });
    (await limits.acquire(host)).release({ status: 429 });
    const held = await limits.acquire('busy.example.com');
    expect(limits.hosts().map((h) => h.host).sort()).toEqual([host, 'busy.example.com'].sort());
    await clock.advance(60_000);
    expect(limits.hosts().map((h) => h.host)).toEqual(['busy.example.com']);
    held.release();
    // Seen again, it starts over from the full limit.
    (await limits.acquire(host)).release();
    expect(state(limits)!.limit).toBe(4);
  });
});

/** A node type that takes a slot at `params.host` and holds it until the test releases it (or the node is stopped). */
function hostedNodes() {
  const held: { nodeId: string; done(): void }[] = [];
  const type: NodeType<{ host: string }> = {
    type: 'hosted',
    description: 'takes a slot at its host and holds it until the test says',
    params: z.object({ host: z.string() }),
    run: async (params, ctx) => {
      const permit = await ctx.acquireHost!(params.host, ctx.signal);
      try {
        await new Promise<void>((resolve, reject) => {
          held.push({ nodeId: ctx.nodeId, done: resolve });
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
        permit.release({ status: 200 });
        return { output: ctx.nodeId };
      } finally {
        permit.release();
      }
    },
  };
  return { type, held };
}

function engineWith(clock: ManualClock, limits: HostLimits) {
  const hosted = hostedNodes();
  const store = createMemoryStore();
  const engine = createEngine({ store, registry: createNodeRegistry([hosted.type]), clock, hostLimits: limits });
  return { engine, store, hosted };
}

const fanOut = (count: number, options: { timeoutMs?: number } = {}) => ({
  nodes: [
    { id: 'start', type: 'trigger' },
    ...Array.from({ length: count }, (_, i) => ({ id: `n${i}`, type: 'hosted', params: { host }, ...options })),
  ],
  edges: Array.from({ length: count }, (_, i) => ({ source: 'start', target: `n${i}` })),
});

/** Waits until `check` passes, turning the event loop (commits are stored asynchronously). */
async function until(check: () => boolean): Promise<void> {
  for (let turn = 0; !check(); turn++) {
    if (turn > 10_000) throw new Error('condition never held');
    await flush();
  }
}

describe('a node waiting for its host', () => {
  it('is RUNNING with a reason while it waits, and the reason is gone once it got its slot', async () => {
    const clock = createManualClock();
    const limits = createHostLimits({ max: 2, clock });
    const { engine, store, hosted } = engineWith(clock, limits);
    const graph = compileWorkflow(fanOut(3), engine.registry);
    const run = engine.startRun({ runId: 'r1', graph, input: null });
    const step = (id: string) => store.get('r1')?.steps.get(id);
    await until(() => hosted.held.length === 2 && step('n2')?.reason != null);
    expect(step('n2')).toMatchObject({ status: 'RUNNING', reason: `waiting for host ${host} (limit 2, 1 waiting)` });
    hosted.held[0]!.done();
    await until(() => hosted.held.length === 3 && step('n2')?.reason === null);
    expect(step('n2')!.status).toBe('RUNNING');
    for (const each of hosted.held.slice(1)) each.done();
    expect((await run.done).status).toBe('SUCCEEDED');
    expect([...store.get('r1')!.steps.values()].map((s) => s.reason)).toEqual([null, null, null, null]);
  });

  it('counts the wait toward the node timeoutMs, and cancelRun ends the wait without taking a slot', async () => {
    const clock = createManualClock();
    const limits = createHostLimits({ max: 1, clock });
    const { engine, store, hosted } = engineWith(clock, limits);
    const start = (runId: string, options: { timeoutMs?: number } = {}) =>
      engine.startRun({ runId, graph: compileWorkflow(fanOut(1, options), engine.registry), input: null });
    const waits = () => limits.hosts()[0]?.waiting;
    const holder = start('holder');
    await until(() => hosted.held.length === 1);

    const timed = start('timed', { timeoutMs: 500 });
    await until(() => waits() === 1 && store.get('timed')?.steps.get('n0')?.reason != null);
    await clock.advance(499);
    expect(store.get('timed')!.steps.get('n0')).toMatchObject({ status: 'RUNNING', reason: `waiting for host ${host} (limit 1, 1 waiting)` });
    await clock.advance(1);
    expect(await timed.done).toMatchObject({ status: 'FAILED' });
    expect(store.get('timed')!.steps.get('n0')).toMatchObject({ status: 'FAILED', error: 'timed out after 500 ms' });
    expect(waits()).toBe(0);

    const cancelled = start('cancelled');
    await until(() => store.get('cancelled')?.steps.get('n0')?.reason != null);
    engine.cancelRun('cancelled');
    expect((await cancelled.done).status).toBe('CANCELLED');
    expect(waits()).toBe(0);
    expect(hosted.held).toHaveLength(1);

    hosted.held[0]!.done();
    expect((await holder.done).status).toBe('SUCCEEDED');
    expect(limits.hosts()[0]).toMatchObject({ inFlight: 0, waiting: 0 });
  });
});
