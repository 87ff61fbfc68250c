// The event loop keeps turning while a run's nodes settle without any I/O: timers fire mid-run, and
// work held for a later turn runs in order.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileWorkflow, createEngine, createMemoryStore, createNodeRegistry, type NodeType } from '../../src/engine/index.js';
import { withinTurn } from '../../src/engine/turn-budget.js';

describe('the turn budget', () => {
  it('lets a timer set when a 10,000-node fan-out of I/O-free nodes starts fire before the run ends', async () => {
    let ran = 0;
    const instant: NodeType = {
      type: 'instant',
      description: 'settles at once, without I/O',
      params: z.object({}),
      run: async () => ({ output: ++ran }),
    };
    const n = 10_000;
    const engine = createEngine({ store: createMemoryStore(), registry: createNodeRegistry([instant]) });
    const ids = Array.from({ length: n }, (_, i) => `n${i}`);
    const graph = compileWorkflow(
      {
        nodes: [{ id: 't', type: 'trigger' }, ...ids.map((id) => ({ id, type: 'instant' }))],
        edges: ids.map((target) => ({ source: 't', target })),
        settings: { maxConcurrency: 100 },
      },
      engine.registry,
    );
    const handle = engine.startRun({ runId: 'r', graph, input: null });
    const ranWhenTimerFired = new Promise<number>((resolve) => setTimeout(() => resolve(ran), 0));
    expect((await handle.done).status).toBe('SUCCEEDED');
    expect(ran).toBe(n);
    // Without turns the whole run settled inside one drain of the microtask queue, before any timer.
    expect(await ranWhenTimerFired).toBeLessThan(n);
  }, 120_000);

  it('runs work held for later turns in the order it came, after work that did not wait', async () => {
    const order: number[] = [];
    let calling = true;
    let later = 0;
    const spin = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    await new Promise((resolve) => setImmediate(resolve)); // a fresh turn: nothing counted against it yet
    const all: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      all.push(
        new Promise<void>((resolve) =>
          withinTurn(() => {
            order.push(i);
            if (!calling) later++;
            spin(1);
            resolve();
          }),
        ),
      );
    }
    calling = false;
    await Promise.all(all);
    expect(later).toBeGreaterThan(0);
    expect(later).toBeLessThan(200);
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
