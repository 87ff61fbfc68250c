// Builders of RunCommit parts for the db tests: small valid events, steps, branches and run states.
import type { RunCommit } from '../../src/engine/events.js';

const at = new Date('2026-01-02T03:04:05.678Z');

export function event(runId: string, seq: number, overrides: Partial<RunCommit['events'][number]> = {}) {
  return {
    seq, runId, type: 'NODE_STARTED' as const, at, nodeId: `n${seq}`, branch: '0',
    status: 'RUNNING', attempt: 1, error: null, reason: null, ...overrides,
  };
}

export function step(nodeId: string, overrides: Partial<RunCommit['steps'][number]> = {}): RunCommit['steps'][number] {
  return {
    nodeId, nodeType: 'task', status: 'PENDING', attempt: 1, branch: '0', startedAt: null, finishedAt: null,
    input: undefined, output: undefined, error: null, reason: null, handle: null, retryAt: null, wakeAt: null,
    ...overrides,
  };
}

export function commit(runId: string, parts: Partial<Omit<RunCommit, 'runId'>> = {}): RunCommit {
  return { runId, events: [], steps: [], branches: [], run: null, ...parts };
}
