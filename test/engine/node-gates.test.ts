// The engine's node-start gates: an organization's maxRunningNodes bounds the nodes RUNNING at once
// across its runs (the others wait PENDING with a reason, first come first served, and start as slots
// free or the limit changes), other organizations are not counted with it, and a start gate (load
// shedding) holds every new start until its promise resolves.
import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  compileWorkflow,
  createEngine,
  createMemoryStore,
  createNodeRegistry,
  type NodeType,
  type RunningNodeLimits,
  type StartGate,
} from '../../src/engine/index.js';
import { createControlledNodes } from '../helpers/controlled-nodes.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { createManualClock } from '../helpers/manual-clock.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(check: () => boolean): Promise<void> {
  for (let turn = 0; !check(); turn++) {
    if (turn > 10_000) throw new Error('condition never held');
    await flush();
  }
}

/** Limits the test sets, told to the engine as a store of organizations would. */
function testLimits(initial: Record<string, number | null | undefined>) {
  const values = new Map(Object.entries(initial));
  let listener: ((organizationId: string) => void) | undefined;
  const limits: RunningNodeLimits = {
    limitOf: (id) => (values.has(id) ? values.get(id) : null),
    onChange: (each) => (listener = each),
  };
  return {
    limits,
    set(id: string, value: number | null) {
      values.set(id, value);
      listener?.(id);
    },
  };
}

const fanOut = (prefix: string, count: number) => ({
  nodes: [
    { id: 'start', type: 'trigger' },
    ...Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, type: 'task' })),
  ],
  edges: Array.from({ length: count }, (_, i) => ({ source: 'start', target: `${prefix}${i}` })),
});

function setup(options: { limits?: RunningNodeLimits; startGate?: StartGate }) {
  const nodes = createControlledNodes();
  const store = createMemoryStore();
  const engine = createEngine({
    store,
    registry: createNodeRegistry(nodes.types),
    clock: createManualClock(),
    ...(options.limits ? { runningNodeLimits: options.limits } : {}),
    ...(options.startGate ? { startGate: options.startGate } : {}),
  });
  const start = (runId: string, organizationId: string, prefix: string, count: number) =>
    engine.startRun({ runId, organizationId, graph: compileWorkflow(fanOut(prefix, count), engine.registry), input: null });
  const step = (runId: string, nodeId: string) => store.get(runId)?.steps.get(nodeId);
  return { nodes, store, engine, start, step };
}

describe('maxRunningNodes', () => {
  it('bounds the nodes running at once across the runs of an organization; the others wait PENDING with a reason', async () => {
    const { limits } = testLimits({ acme: 2 });
    const { nodes, start, step } = setup({ limits });
    const first = start('r1', 'acme', 'a', 3);
    await until(() => nodes.running === 2);
    const second = start('r2', 'acme', 'b', 3);
    const other = start('r3', 'globex', 'c', 3);
    await until(() => step('r2', 'start')?.reason != null && step('r1', 'a2')?.reason != null && nodes.running === 5);
    // acme's two slots went to its first run; globex, with no limit, runs all three.
    expect(['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2'].filter(nodes.isRunning)).toEqual(['a0', 'a1', 'c0', 'c1', 'c2']);
    // A trigger is a node too: r2 has not started at all.
    for (const [runId, nodeId] of [['r1', 'a2'], ['r2', 'start']] as const) {
      expect(step(runId, nodeId)).toMatchObject({ status: 'PENDING', reason: 'organization limit of 2 running nodes' });
    }
    // Slots go in the order runs asked for them: r1's last node first, then r2's.
    nodes.succeed('a0');
    await until(() => nodes.isRunning('a2'));
    expect(step('r1', 'a2')).toMatchObject({ status: 'RUNNING', reason: null });
    nodes.succeed('a1');
    await until(() => nodes.isRunning('b0'));
    expect(['a2', 'b0', 'b1', 'b2'].filter(nodes.isRunning)).toEqual(['a2', 'b0']);
    for (const id of ['c0', 'c1', 'c2']) nodes.succeed(id);
    expect((await other.done).status).toBe('SUCCEEDED');
    nodes.succeed('a2');
    nodes.succeed('b0');
    await until(() => nodes.isRunning('b2'));
    expect(['b1', 'b2'].filter(nodes.isRunning)).toEqual(['b1', 'b2']);
    nodes.succeed('b1');
    nodes.succeed('b2');
    expect((await first.done).status).toBe('SUCCEEDED');
    expect((await second.done).status).toBe('SUCCEEDED');
  });

  it('follows a limit that changes, and frees the slots of a cancelled run', async () => {
    const control = testLimits({ acme: 1 });
    const { nodes, engine, start, step } = setup({ limits: control.limits });
    const first = start('r1', 'acme', 'a', 3);
    await until(() => nodes.running === 1);
    const second = start('r2', 'acme', 'b', 1);
    await until(() => nodes.running === 1 && step('r2', 'start')?.reason != null);
    expect(step('r2', 'start')).toMatchObject({ status: 'PENDING', reason: 'organization limit of 1 running node' });
    control.set('acme', 3);
    await until(() => nodes.running === 3);
    expect(['a0', 'a1', 'a2', 'b0'].filter(nodes.isRunning)).toHaveLength(3);
    control.set('acme', 1);
    engine.cancelRun('r1');
    expect((await first.done).status).toBe('CANCELLED');
    // One slot again, and r1's are all free: whatever of r2 was waiting runs now, alone.
    await until(() => nodes.isRunning('b0'));
    expect(nodes.running).toBe(1);
    nodes.succeed('b0');
    expect((await second.done).status).toBe('SUCCEEDED');
  });

  it('waits until the limit is known', async () => {
    const control = testLimits({ acme: undefined });
    const { nodes, start, step } = setup({ limits: control.limits });
    const run = start('r1', 'acme', 'a', 2);
    await until(() => step('r1', 'start')?.reason != null);
    expect(nodes.running).toBe(0);
    expect(step('r1', 'start')).toMatchObject({ status: 'PENDING', reason: "reading the organization's limits" });
    control.set('acme', 1);
    await until(() => nodes.running === 1);
    nodes.succeed('a0');
    await until(() => nodes.isRunning('a1'));
    nodes.succeed('a1');
    expect((await run.done).status).toBe('SUCCEEDED');
  });
});

describe('a share of the limit (several processes)', () => {
  it('starts no more than its share, says the limit in the reason, and tells the source what it needs', async () => {
    let share = 1;
    const demands: [number, boolean][] = [];
    let listener: ((id: string) => void) | undefined;
    const limits: RunningNodeLimits = {
      limitOf: () => 4,
      shareOf: () => share,
      demand: (_id, running, waiting) => demands.push([running, waiting]),
      onChange: (each) => (listener = each),
    };
    const { nodes, start, step } = setup({ limits });
    const run = start('r1', 'acme', 'a', 3);
    await until(() => nodes.running === 1 && step('r1', 'a2')?.reason != null);
    expect(step('r1', 'a2')).toMatchObject({ status: 'PENDING', reason: 'organization limit of 4 running nodes' });
    expect(demands.at(-1)).toEqual([1, true]);
    share = 3;
    listener!('acme');
    await until(() => nodes.running === 3);
    for (const id of ['a0', 'a1', 'a2']) nodes.succeed(id);
    expect((await run.done).status).toBe('SUCCEEDED');
    // Nothing waits any more and nothing runs: the share may shrink.
    expect(demands.at(-1)).toEqual([0, false]);
  });
});

describe('start gate (load shedding)', () => {
  it('holds every new node start while its promise is pending, and lets them go when it resolves', async () => {
    let hold: Deferred<void> | null = null;
    const { nodes, start, step } = setup({ startGate: () => hold?.promise ?? null });
    const run = start('r1', 'acme', 'a', 2);
    await until(() => nodes.running === 2);
    hold = deferred();
    nodes.succeed('a0');
    const next = start('r2', 'acme', 'b', 1);
    await until(() => step('r2', 'start')?.reason != null);
    expect(step('r2', 'start')).toMatchObject({ status: 'PENDING', reason: 'this server is shedding load: new node starts are delayed' });
    // A running node goes on.
    nodes.succeed('a1');
    expect((await run.done).status).toBe('SUCCEEDED');
    const released = hold;
    hold = null;
    released.resolve();
    await until(() => nodes.isRunning('b0'));
    nodes.succeed('b0');
    expect((await next.done).status).toBe('SUCCEEDED');
  });
});

describe('maxRunningNodes over random runs', () => {
  it('never runs more than the limit at once, ends every run, and leaks no slot', async () => {
    const graphArbitrary = fc.record({
      size: fc.integer({ min: 1, max: 7 }),
      parents: fc.array(fc.nat(), { minLength: 7, maxLength: 7 }),
      extra: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
      turns: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 7, maxLength: 7 }),
      fails: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
      errorStrategy: fc.constantFrom('FAIL_FAST' as const, 'CONTINUE' as const),
    });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 4 }), fc.array(graphArbitrary, { minLength: 1, maxLength: 4 }), async (limit, graphs) => {
        let running = 0;
        let peak = 0;
        const tick: NodeType<{ turns: number; fail: boolean }> = {
          type: 'tick',
          description: 'runs for a few turns of the event loop',
          params: z.object({ turns: z.number(), fail: z.boolean() }),
          run: async ({ turns, fail }, ctx) => {
            peak = Math.max(peak, ++running);
            // A node stopped by its run (FAIL_FAST) no longer runs, whatever its handler still does.
            let counted = true;
            const end = () => {
              if (counted) (counted = false), running--;
            };
            ctx.signal.addEventListener('abort', end, { once: true });
            try {
              for (let i = 0; i < turns; i++) await flush();
              if (fail) throw new Error('on purpose');
              return { output: null };
            } finally {
              end();
            }
          },
        };
        // A run that holds one slot throughout keeps the organization's count alive: a slot leaked by
        // the random runs would still be missing when they are over.
        const keep = deferred();
        const hold: NodeType<Record<string, never>> = {
          type: 'hold',
          description: 'holds its slot until the test lets go',
          params: z.object({}),
          run: async () => {
            await keep.promise;
            return { output: null };
          },
        };
        const { limits } = testLimits({ acme: limit });
        const engine = createEngine({ store: createMemoryStore(), registry: createNodeRegistry([tick, hold]), runningNodeLimits: limits });
        const keeperGraph = { nodes: [{ id: 't', type: 'trigger' }, { id: 'h', type: 'hold', params: {} }], edges: [{ source: 't', target: 'h' }] };
        const keeper = engine.startRun({ runId: 'keeper', organizationId: 'acme', graph: compileWorkflow(keeperGraph, engine.registry), input: null });
        const capacity = limit - 1;
        const definition = (g: (typeof graphs)[number]) => ({
          nodes: [
            { id: 't', type: 'trigger' },
            ...Array.from({ length: g.size }, (_, i) => ({ id: `n${i}`, type: 'tick', params: { turns: g.turns[i]!, fail: g.fails[i]! && i % 3 === 2 } })),
          ],
          edges: [
            ...Array.from({ length: g.size }, (_, i) => ({ source: i === 0 ? 't' : `n${g.parents[i]! % i}`, target: `n${i}` })),
            ...g.extra
              .map(([a, b]) => [Math.min(a % g.size, b % g.size), Math.max(a % g.size, b % g.size)] as const)
              .filter(([a, b]) => a !== b && b !== 0 && a !== g.parents[b]! % b)
              .filter(([a, b], i, all) => all.findIndex(([x, y]) => x === a && y === b) === i)
              .map(([a, b]) => ({ source: `n${a}`, target: `n${b}` })),
          ],
          settings: { errorStrategy: g.errorStrategy },
        });
        const runs = graphs.map((g, i) =>
          engine.startRun({ runId: `r${i}`, organizationId: 'acme', graph: compileWorkflow(definition(g), engine.registry), input: null }),
        );
        const ends = await Promise.all(runs.map((run) => run.done));
        expect(ends.every((end) => end.status === 'SUCCEEDED' || end.status === 'FAILED')).toBe(true);
        expect(peak).toBeLessThanOrEqual(capacity);
        // Every slot came back: a run of `capacity` nodes side by side still runs them all at once.
        peak = 0;
        const wide = {
          nodes: [{ id: 't', type: 'trigger' }, ...Array.from({ length: capacity }, (_, i) => ({ id: `w${i}`, type: 'tick', params: { turns: 2, fail: false } }))],
          edges: Array.from({ length: capacity }, (_, i) => ({ source: 't', target: `w${i}` })),
        };
        const after = engine.startRun({ runId: 'after', organizationId: 'acme', graph: compileWorkflow(wide, engine.registry), input: null });
        const finished = await Promise.race([after.done, new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000))]);
        expect(finished?.status, 'a run of the organization never got its slots').toBe('SUCCEEDED');
        expect(peak).toBe(capacity);
        keep.resolve();
        expect((await keeper.done).status).toBe('SUCCEEDED');
      }),
      { numRuns: 150 },
    );
  });
});
