// A hand-made context for calling a node type's handler directly (the http node's suites): real
// clock, no input, private networks allowed unless said otherwise.
import { systemClock } from '../../src/engine/clock.js';
import type { NodeContext } from '../../src/engine/nodes/node-type.js';

export function nodeContext(allowPrivateNetwork = true): NodeContext {
  const signal = new AbortController().signal;
  return {
    runId: 'run-1',
    nodeId: 'node',
    attempt: 1,
    input: null,
    runInput: null,
    signal,
    clock: systemClock,
    log: () => undefined,
    evaluate: async () => null,
    allowPrivateNetwork,
    idempotencyKey: 'run-1:node:0',
    wait: (ms) => systemClock.sleep(ms, signal),
    redact: (text) => text,
  };
}
