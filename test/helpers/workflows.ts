// A compact way to write test workflows: "t>a t>b a>j b>j", with `c:true>x` for an edge's handle.
// Node `t` (and any node named in `triggers`) is a trigger; others are `task` unless given in `nodes`.
import type { WorkflowDefinitionInput } from '../../src/engine/index.js';

type NodeInput = WorkflowDefinitionInput['nodes'][number];

export function dag(
  edgesSpec: string,
  options: {
    nodes?: Record<string, Partial<NodeInput>>;
    settings?: WorkflowDefinitionInput['settings'];
    triggers?: string[];
  } = {},
): WorkflowDefinitionInput {
  const triggers = new Set(options.triggers ?? ['t']);
  const ids: string[] = [...triggers];
  const edges = edgesSpec
    .split(/\s+/)
    .filter(Boolean)
    .map((spec) => {
      const [from, target] = spec.split('>') as [string, string];
      const [source, sourceHandle] = from.split(':') as [string, string | undefined];
      for (const id of [source, target]) if (!ids.includes(id)) ids.push(id);
      return sourceHandle ? { source, target, sourceHandle } : { source, target };
    });
  for (const id of Object.keys(options.nodes ?? {})) if (!ids.includes(id)) ids.push(id);
  const nodes = ids.map((id) => ({
    id,
    type: triggers.has(id) ? 'trigger' : 'task',
    ...options.nodes?.[id],
  }));
  return { nodes, edges, ...(options.settings ? { settings: options.settings } : {}) };
}
