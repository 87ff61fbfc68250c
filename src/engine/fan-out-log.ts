// The engine's leveled log lines where a node's successors start: debug `Node <id> has <n> outgoing
// edge(s)` and, when two or more run side by side, info `Executing <n> parallel branches from node <id>`.
import type { StepState } from './events.js';
import type { GraphNode } from './graph.js';

/** A leveled logger (pino's shape): the engine asks before it builds a line. */
export interface LeveledLogger {
  isLevelEnabled(level: 'debug' | 'info'): boolean;
  debug(data: object, message: string): void;
  info(data: object, message: string): void;
}

/**
 * Logs the live outgoing edges of `node` once its step settled SUCCEEDED (nothing otherwise). With info off (so debug too) it costs
 * one level check and allocates nothing: at 10,000 nodes a run this runs 10,000 times.
 */
export function logFanOut(logger: LeveledLogger, runId: string, node: GraphNode, step: StepState): void {
  if (node.outgoing.length === 0 || step.status !== 'SUCCEEDED' || !logger.isLevelEnabled('info')) return;
  let edges = 0;
  for (const edge of node.outgoing) if (node.handles === null || edge.sourceHandle === step.handle) edges++;
  if (edges > 0 && logger.isLevelEnabled('debug')) logger.debug({ runId, nodeId: node.id, edges }, `Node ${node.id} has ${edges} outgoing edge(s)`);
  if (edges > 1) logger.info({ runId, nodeId: node.id, branches: edges }, `Executing ${edges} parallel branches from node ${node.id}`);
}
