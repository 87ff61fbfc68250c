// Branches taken back from stored rows: a long branch gains exactly the nodes stored on it since its row
// was written, once each, and parents are restored before their sub-branches.
import { describe, expect, it } from 'vitest';
import { createBranches } from '../../src/engine/branches.js';
import type { BranchState, StepState } from '../../src/engine/events.js';

const at = new Date(0);
const step = (nodeId: string, branch: string, status: StepState['status']) => ({ nodeId, branch, status }) as StepState;

function restored(stored: BranchState[], steps: StepState[]) {
  const events: string[] = [];
  const branches = createBranches({ now: () => at, event: (type, b) => events.push(`${type} ${b.id}`), changed: () => undefined });
  branches.restore(stored, steps);
  return { branches, events };
}

describe('branches.restore', () => {
  it('lists each node of a long branch once: the stored row\'s, then the steps stored since', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const row: BranchState = { id: 'main', status: 'RUNNING', nodeIds: ids.slice(0, 20), startedAt: at, finishedAt: null };
    const steps = [...ids.slice(0, 30).map((id) => step(id, 'main', 'SUCCEEDED')), step('n30', 'main', 'RUNNING'), step('n31', 'main', 'PENDING')];
    const { branches } = restored([row], steps);
    expect(branches.all()[0]!.nodeIds).toEqual(ids.slice(0, 31));
    // A node entered again while restoring (it was running) is not listed twice; a new one is added.
    branches.enter('main', 'n30', true);
    branches.enter('main', 'n35', true);
    branches.enter('main', 'n36');
    branches.enter('main', 'n36', true);
    expect(branches.all()[0]!.nodeIds).toEqual([...ids.slice(0, 31), 'n35', 'n36']);
  });

  it('takes parents back before their sub-branches, whatever order the rows come in, starting none anew', () => {
    const branch = (id: string): BranchState => ({ id, status: 'SUCCEEDED', nodeIds: [], startedAt: at, finishedAt: at });
    const { branches, events } = restored([branch('main/a/b'), branch('main/a'), branch('main/c'), branch('main')], []);
    expect(branches.all().map((b) => b.id)).toEqual(['main', 'main/a', 'main/c', 'main/a/b']);
    expect(events).toEqual([]);
  });
});
