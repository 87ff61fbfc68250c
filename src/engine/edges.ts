// Edge bookkeeping of one run: which edges are live or dead, how many inputs of each
// node settled and are live, and the branch each edge carries. Plain typed arrays, no copies.
import { rootBranchId, type Branches } from './branches.js';
import type { StepState } from './events.js';
import type { GraphNode, WorkflowGraph } from './graph.js';

// Edge states; 0, a fresh Uint8Array's value, means not decided yet.
const LIVE = 1;
const DEAD = 2;

const noNodes: GraphNode[] = [];

/** Creates the edge book of a run over its steps (read for their status, branch and chosen handle). */
export function createEdges(graph: WorkflowGraph, steps: readonly StepState[], branches: Branches) {
  const settledInputs = new Int32Array(graph.nodes.length);
  const liveInputs = new Int32Array(graph.nodes.length);
  const state = new Uint8Array(graph.edges.length);
  const branchOf: string[] = new Array(graph.edges.length);

  /** Counts one more settled input of `node`; true when that was the last and the node is undecided. */
  function inputSettled(node: GraphNode): boolean {
    const count = settledInputs[node.index]! + 1;
    settledInputs[node.index] = count;
    // A node that settled before some of its inputs (a merge that ran, then a retryRun reran one of
    // its failed inputs) is never decided twice.
    return count === node.incoming.length && steps[node.index]!.status === 'PENDING';
  }

  const liveEdges = (node: GraphNode) => node.incoming.filter((e) => state[e.index] === LIVE);

  return {
    liveInputs: (node: GraphNode) => liveInputs[node.index]!,
    liveEdges,

    /** The first dead edge into `node` (a skipped node has one). */
    firstDead: (node: GraphNode) => node.incoming.find((e) => state[e.index] === DEAD)!,

    /**
     * Marks the edges out of a settled node live (it SUCCEEDED and chose their handle) or dead, with the
     * branch each carries; returns the successors whose inputs have now all settled.
     */
    settle(node: GraphNode, step: StepState): GraphNode[] {
      const succeeded = step.status === 'SUCCEEDED';
      let liveOut = 0;
      for (const edge of node.outgoing) {
        const live = succeeded && (node.handles === null || edge.sourceHandle === step.handle);
        state[edge.index] = live ? LIVE : DEAD;
        if (live) liveOut++;
      }
      let decided: GraphNode[] | undefined;
      const branch = step.branch ?? rootBranchId;
      for (const edge of node.outgoing) {
        const live = state[edge.index] === LIVE;
        branchOf[edge.index] = live ? branches.edgeBranch(branch, edge.target.id, liveOut) : branch;
        if (live) liveInputs[edge.target.index]!++;
        if (inputSettled(edge.target)) (decided ??= []).push(edge.target);
      }
      return decided ?? noNodes;
    },

    /** The branch a node about to run continues: its single input's, or the common prefix of its live inputs'. */
    inputBranch(node: GraphNode): string {
      const first = node.incoming[0];
      if (!first) return branches.edgeBranch(rootBranchId, node.id, graph.triggers.length);
      if (node.incoming.length === 1) return branchOf[first.index]!;
      return branches.join(liveEdges(node).map((e) => branchOf[e.index]!));
    },

    /** The branch a node that never runs names: the common prefix of its settled inputs' branches. */
    settledBranch: (node: GraphNode) => branches.join(node.incoming.flatMap((e) => branchOf[e.index] ?? [])),
  };
}

export type Edges = ReturnType<typeof createEdges>;
