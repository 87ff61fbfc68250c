// Property-based: on random DAGs with random choices and failures, the engine agrees with a small
// reference interpreter, settles every node exactly once, and never starts a node early.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/index.js';
import { startTestRun } from '../helpers/engine-harness.js';
import { drive, planArbitrary, reference, settledTypes, toDefinition, type Plan } from '../helpers/random-plans.js';

function assertStartsAfterPredecessors(plan: Plan, events: RunEvent[]): void {
  const settledAt = new Map(events.filter((e) => settledTypes.has(e.type)).map((e) => [e.nodeId!, e.seq]));
  for (const start of events.filter((e) => e.type === 'NODE_STARTED')) {
    const target = plan.nodes.findIndex((n) => n.id === start.nodeId);
    for (const edge of plan.edges.filter((e) => e.target === target)) {
      expect(settledAt.get(plan.nodes[edge.source]!.id)).toBeLessThan(start.seq);
    }
  }
}

describe('random DAGs', () => {
  it('agree with the reference interpreter (500 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary, async (plan) => {
        const run = startTestRun(toDefinition(plan));
        await drive(plan, run);
        const final = await run.done;
        const events = run.events();
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        for (const node of plan.nodes) {
          expect(events.filter((e) => e.nodeId === node.id && settledTypes.has(e.type))).toHaveLength(1);
          expect(events.filter((e) => e.nodeId === node.id && e.type === 'NODE_STARTED').length).toBeLessThanOrEqual(1);
        }
        assertStartsAfterPredecessors(plan, events);
        expect(run.nodes.maxRunning).toBeLessThanOrEqual(plan.maxConcurrency);

        const expected = reference(plan);
        const actual = run.statuses();
        expect(final.status).toBe(expected.failed ? 'FAILED' : 'SUCCEEDED');
        if (plan.errorStrategy === 'CONTINUE' || !expected.failed) {
          expect(actual).toEqual(expected.statuses);
        } else {
          // Fail-fast cuts the run short: every node is what the reference says, or CANCELLED.
          for (const [id, status] of Object.entries(actual)) {
            if (status !== 'CANCELLED') expect(status).toBe(expected.statuses[id]);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
