// Which steps a retryRun runs again: the FAILED and CANCELLED ones, and the SKIPPED ones that were
// skipped only because of them. SUCCEEDED steps, and steps skipped by a condition's choice, stay.
import type { StepStatus } from './events.js';
import type { WorkflowGraph } from './graph.js';

/**
 * The node ids to reset to PENDING, given each node's stored status (a node without a step is
 * PENDING already). A SKIPPED node stays skipped only if every one of its inputs stays settled: then
 * nothing that reruns can change its decision.
 */
export function stepsToRetry(graph: WorkflowGraph, statusOf: (nodeId: string) => StepStatus | undefined): string[] {
  const reset = new Uint8Array(graph.nodes.length);
  const waiting = new Int32Array(graph.nodes.length);
  const order = graph.nodes.filter((node) => node.incoming.length === 0);
  for (const node of graph.nodes) waiting[node.index] = node.incoming.length;
  // Kahn's order, so each node is looked at after all its inputs.
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!;
    const status = statusOf(node.id);
    const inputReset = node.incoming.some((edge) => reset[edge.source.index] === 1);
    if (status === 'FAILED' || status === 'CANCELLED' || status === 'RUNNING' || (status === 'SKIPPED' && inputReset)) {
      reset[node.index] = 1;
    }
    for (const edge of node.outgoing) if (--waiting[edge.target.index]! === 0) order.push(edge.target);
  }
  return graph.nodes.filter((node) => reset[node.index] === 1).map((node) => node.id);
}
