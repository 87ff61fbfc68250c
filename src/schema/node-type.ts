// NodeType: the catalog of node types a definition may use, with each one's params as JSON Schema.
import { z } from 'zod';
import type { NodeType } from '../engine/index.js';
import { builder } from './builder.js';

interface CatalogEntry {
  type: string;
  description: string;
  paramsSchema: unknown;
  handles: readonly string[] | null;
  dynamicHandles: boolean;
}

const catalogs = new WeakMap<object, CatalogEntry[]>();

/** The catalog of a registry, computed once per registry. */
function catalog(registry: ReadonlyMap<string, NodeType>): CatalogEntry[] {
  let entries = catalogs.get(registry);
  if (!entries) {
    entries = [...registry.values()].map(describe);
    catalogs.set(registry, entries);
  }
  return entries;
}

function describe(nodeType: NodeType): CatalogEntry {
  let paramsSchema: unknown;
  try {
    paramsSchema = z.toJSONSchema(nodeType.params, { io: 'input', unrepresentable: 'any' });
  } catch (error) {
    paramsSchema = { description: `not expressible as JSON Schema: ${error instanceof Error ? error.message : error}` };
  }
  // Handles may depend on params (switch: one per case): probe with no case and with one.
  const probe = (cases: string[]) => {
    try {
      const defaults = nodeType.params.safeParse({});
      const base = defaults.success && typeof defaults.data === 'object' && defaults.data !== null ? defaults.data : {};
      return nodeType.handles ? [...nodeType.handles({ ...base, cases })] : null;
    } catch {
      return null;
    }
  };
  const handles = probe([]);
  const withCase = probe(['\u0000case']);
  return {
    type: nodeType.type,
    description: nodeType.description,
    paramsSchema,
    handles,
    dynamicHandles: JSON.stringify(handles) !== JSON.stringify(withCase),
  };
}

const NodeTypeRef = builder.objectRef<CatalogEntry>('NodeType').implement({
  description: 'A node type a workflow definition may use.',
  fields: (t) => ({
    type: t.exposeString('type'),
    description: t.exposeString('description'),
    paramsSchema: t.field({
      type: 'JSON',
      description: "JSON Schema of the node's params (as written in a definition).",
      resolve: (entry) => entry.paramsSchema,
    }),
    handles: t.field({
      type: ['String'],
      nullable: true,
      description:
        'The handles its outgoing edges name (sourceHandle), or null when edges name none. ' +
        'When dynamicHandles is true, the params add more (switch: one per case, besides "default").',
      resolve: (entry) => entry.handles,
    }),
    dynamicHandles: t.exposeBoolean('dynamicHandles'),
  }),
});

builder.queryField('nodeTypes', (t) =>
  t.field({
    type: [NodeTypeRef],
    authScopes: { viewer: true },
    resolve: (_root, _args, context) => catalog(context.services.registry),
  }),
);
