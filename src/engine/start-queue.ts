// A run's ready nodes in the order they became ready, handed out one start at a time through the
// run's gate (organization limit, load shedding). Nodes the gate holds stay PENDING with its reason.
import type { StepState } from './events.js';
import type { GraphNode } from './graph.js';
import type { RunGate } from './node-gates.js';

/** Creates the start queue of one run over its live steps; `touch` marks a step changed (for the next commit). */
export function createStartQueue(steps: StepState[], gate: RunGate | undefined, touch: (index: number) => void) {
  const queue: GraphNode[] = [];
  let head = 0;
  /** The reason the gate last gave, and how far into the queue the PENDING steps carry it. */
  let heldReason: string | null = null;
  let marked = 0;

  /** Writes the gate's reason on every queued PENDING step once (amortized: each step is visited once per reason). */
  function hold(reason: string): void {
    if (reason !== heldReason) {
      heldReason = reason;
      marked = head;
    }
    for (let i = Math.max(marked, head); i < queue.length; i++) {
      const step = steps[queue[i]!.index]!;
      if (step.status === 'PENDING' && step.reason !== reason) {
        step.reason = reason;
        touch(queue[i]!.index);
      }
    }
    marked = queue.length;
  }

  return {
    push(node: GraphNode): void {
      queue.push(node);
    },

    /** The next PENDING node allowed to start, its gate slot taken; undefined when none is (now). */
    next(): GraphNode | undefined {
      for (; head < queue.length; head++) {
        const node = queue[head]!;
        if (steps[node.index]!.status !== 'PENDING') continue;
        if (gate !== undefined) {
          const reason = gate.take();
          if (reason !== null) {
            hold(reason);
            return undefined;
          }
        }
        head++;
        return node;
      }
      queue.length = head = marked = 0;
      return undefined;
    },

    clear(): void {
      queue.length = head = marked = 0;
    },
  };
}
