// The built-in node types and the registry an engine is given.
import { conditionNodeType } from './condition.js';
import { delayNodeType } from './delay.js';
import { failNodeType } from './fail.js';
import { httpNodeType } from './http.js';
import { mergeNodeType } from './merge.js';
import type { NodeRegistry, NodeType } from './node-type.js';
import { switchNodeType } from './switch.js';
import { transformNodeType } from './transform.js';
import { triggerNodeType } from './trigger.js';

export type { NodeContext, NodeRegistry, NodeResult, NodeType, Log } from './node-type.js';

const builtins: NodeType[] = [
  triggerNodeType,
  httpNodeType,
  conditionNodeType,
  switchNodeType,
  mergeNodeType,
  delayNodeType,
  transformNodeType,
  failNodeType,
];

/** Every built-in node type by type name, in catalog order. */
export const builtinNodeTypes: NodeRegistry = new Map(builtins.map((nodeType) => [nodeType.type, nodeType]));

/**
 * The built-ins plus `extra`. An extra type with a built-in's name replaces it (tests swap in their
 * own `http`); two extras with one name are a programming error and throw.
 */
export function createNodeRegistry(extra: NodeType[] = []): NodeRegistry {
  const registry = new Map(builtinNodeTypes);
  const seen = new Set<string>();
  for (const nodeType of extra) {
    if (seen.has(nodeType.type)) throw new Error(`node type "${nodeType.type}" is registered twice`);
    seen.add(nodeType.type);
    registry.set(nodeType.type, nodeType);
  }
  return registry;
}
