// Branch bookkeeping: ids are paths, forks extend them, joins take the common prefix.
import type { BranchState, BranchStatus, StepState } from './events.js';

/** A branch while the run goes on. `open` counts its own and its sub-branches' active nodes. */
interface Branch {
  state: BranchState;
  /** How many segments past the root: sub-branches finish before their parents. */
  depth: number;
  parent: Branch | null;
  open: number;
  failed: boolean;
  cancelled: boolean;
}

export const rootBranchId = 'main';

// A node id may hold '/', the path separator; escape it so distinct paths keep distinct ids.
const needsEscape = /[%/]/;
function segment(nodeId: string): string {
  return needsEscape.test(nodeId) ? nodeId.replaceAll('%', '%25').replaceAll('/', '%2F') : nodeId;
}

const innermostFirst = (a: Branch, b: Branch) => b.depth - a.depth;

/** Segments past the root: how many '/' the id holds. */
function depthOf(id: string): number {
  let depth = 0;
  for (let at = id.indexOf('/'); at !== -1; at = id.indexOf('/', at + 1)) depth++;
  return depth;
}

/** Tracks every branch of one run; emits through the callbacks when a branch starts or finishes. */
export function createBranches(hooks: {
  now(): Date;
  /** A branch started or finished: emit its event. */
  event(type: 'BRANCH_STARTED' | 'BRANCH_FINISHED', branch: BranchState): void;
  /** A branch's state changed: persist it with the step's commit. */
  changed(branch: BranchState): void;
}) {
  const byId = new Map<string, Branch>();
  const closing = new Set<Branch>();
  /** The nodeIds of long branches as sets, made when a restored run checks them: includes() would be quadratic. */
  const listed = new Map<Branch, Set<string>>();

  /** Adds `nodeId` to the branch's nodeIds unless it is there already (a restored run's nodes may be). */
  function listOnce(branch: Branch, nodeId: string): void {
    const { nodeIds } = branch.state;
    if (nodeIds.length < 16) {
      if (!nodeIds.includes(nodeId)) nodeIds.push(nodeId);
      return;
    }
    let set = listed.get(branch);
    if (!set) listed.set(branch, (set = new Set(nodeIds)));
    if (set.has(nodeId)) return;
    set.add(nodeId);
    nodeIds.push(nodeId);
  }

  /** The branch of this id, started (with its missing ancestors, outermost first) if new. */
  function ensure(id: string): Branch {
    const existing = byId.get(id);
    if (existing) return existing;
    // Segments are escaped, so the last '/' separates the parent's id.
    const cut = id.lastIndexOf('/');
    const parent = cut > 0 ? ensure(id.slice(0, cut)) : null;
    const state: BranchState = { id, status: 'RUNNING', nodeIds: [], startedAt: hooks.now(), finishedAt: null };
    const branch: Branch = { state, depth: parent ? parent.depth + 1 : 0, parent, open: 0, failed: false, cancelled: false };
    byId.set(id, branch);
    hooks.changed(state);
    hooks.event('BRANCH_STARTED', state);
    return branch;
  }

  function get(id: string): Branch {
    const branch = byId.get(id);
    if (!branch) throw new Error(`unknown branch ${id}`);
    return branch;
  }

  return {
    /** The id of the branch an edge out of `sourceBranch` starts, given how many live edges left the source. */
    edgeBranch(sourceBranch: string, targetNodeId: string, liveOutgoing: number): string {
      return liveOutgoing >= 2 ? `${sourceBranch}/${segment(targetNodeId)}` : sourceBranch;
    },

    /** The branch a node with these input branches continues: the longest common prefix. */
    join(inputs: readonly string[]): string {
      const first = inputs[0];
      if (first === undefined) return rootBranchId;
      let common = first.split('/');
      for (let i = 1; i < inputs.length && common.length > 1; i++) {
        const other = inputs[i]!.split('/');
        let n = 0;
        while (n < common.length && n < other.length && common[n] === other[n]) n++;
        common = common.slice(0, Math.max(n, 1));
      }
      return common.join('/');
    },

    /**
     * A node of this branch became active (ready or running): the branch and its ancestors stay open
     * (or open again). `mayBeListed`: the node may be in the branch's nodeIds already (a restored run).
     */
    enter(id: string, nodeId: string, mayBeListed = false): void {
      const branch = ensure(id);
      // Not reported as a change: copying a long branch's nodeIds at every step would be quadratic.
      // A branch is stored when it starts and when it finishes, with every node it had.
      // Only a restored run may enter a node its branch lists already; checking always would be quadratic.
      if (mayBeListed) listOnce(branch, nodeId);
      else {
        branch.state.nodeIds.push(nodeId);
        if (listed.size > 0) listed.get(branch)?.add(nodeId);
      }
      for (let b: Branch | null = branch; b; b = b.parent) {
        b.open++;
        if (b.state.finishedAt !== null) reopen(b);
      }
    },

    /** A node of this branch settled. Call `finishIdle` once the step has entered every newly ready node. */
    leave(id: string, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): void {
      const branch = get(id);
      if (outcome === 'FAILED') branch.failed = true;
      if (outcome === 'CANCELLED') branch.cancelled = true;
      for (let b: Branch | null = branch; b; b = b.parent) if (--b.open === 0) closing.add(b);
    },

    /** Finishes every branch left with no active node, innermost first. */
    finishIdle(): void {
      if (closing.size === 0) return;
      const idle: Branch[] = [];
      for (const b of closing) if (b.open === 0 && b.state.finishedAt === null) idle.push(b);
      closing.clear();
      if (idle.length > 1) idle.sort(innermostFirst);
      for (const branch of idle) finish(branch);
    },

    /** Finishes every branch still running (the run ended). */
    finishAll(): void {
      const open = [...byId.values()].filter((b) => b.state.finishedAt === null);
      open.sort(innermostFirst);
      for (const branch of open) finish(branch);
    },

    /**
     * Takes back the stored branches of a run that goes on. Their nodeIds gain the nodes stored on them
     * since (a row is written as of its start and finish); FAILED and CANCELLED steps mark them again.
     * Call before the active nodes `enter` again: a finished branch that gets one reopens.
     */
    restore(stored: readonly BranchState[], steps: readonly StepState[]): void {
      // Parents before their children: by depth, counted once per row (a 100,000-branch run sorts in
      // O(n log n) comparisons, which must not each split two ids).
      const depths = new Map<BranchState, number>();
      for (const row of stored) depths.set(row, depthOf(row.id));
      const sorted = [...stored].sort((a, b) => depths.get(a)! - depths.get(b)!);
      for (const row of sorted) {
        const cut = row.id.lastIndexOf('/');
        const parent = cut > 0 ? ensure(row.id.slice(0, cut)) : null;
        const state: BranchState = { ...row, nodeIds: row.nodeIds.slice() };
        byId.set(row.id, { state, depth: parent ? parent.depth + 1 : 0, parent, open: 0, failed: false, cancelled: false });
      }
      for (const step of steps) {
        const branch = step.branch === null ? undefined : byId.get(step.branch);
        if (!branch || step.status === 'PENDING' || step.status === 'SKIPPED') continue;
        listOnce(branch, step.nodeId);
        if (step.status === 'FAILED') branch.failed = true;
        if (step.status === 'CANCELLED') branch.cancelled = true;
      }
    },

    all(): BranchState[] {
      return [...byId.values()].map((b) => b.state);
    },
  };

  /** A finished branch gets an active node again (a retried run): it runs again. */
  function reopen(branch: Branch): void {
    branch.state.status = 'RUNNING';
    branch.state.finishedAt = null;
    branch.failed = branch.cancelled = false;
    hooks.changed(branch.state);
    hooks.event('BRANCH_STARTED', branch.state);
  }

  function finish(branch: Branch): void {
    const status: BranchStatus = branch.failed ? 'FAILED' : branch.cancelled ? 'CANCELLED' : 'SUCCEEDED';
    branch.state.status = status;
    branch.state.finishedAt = hooks.now();
    hooks.changed(branch.state);
    hooks.event('BRANCH_FINISHED', branch.state);
  }
}

export type Branches = ReturnType<typeof createBranches>;
