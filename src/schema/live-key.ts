// The key of a live group: subscribers share one execution per event when they sent the same document
// and operation name with the same variables — a variable used only as the root field's `afterSeq`
// aside (it says where a subscriber starts, not what it sees) — as the same organization and role.
import { Kind, print, visit, type GraphQLResolveInfo } from 'graphql';
import type { Context } from './context.js';
import type { OperationArgs } from './live-render.js';

/** Names of variables the operation uses only as the subscription field's `afterSeq`. */
function startOnlyVariables(info: GraphQLResolveInfo): Set<string> {
  const starts = new Map<string, number>();
  for (const field of info.fieldNodes) {
    for (const argument of field.arguments ?? []) {
      if (argument.name.value === 'afterSeq' && argument.value.kind === Kind.VARIABLE) {
        const name = argument.value.name.value;
        starts.set(name, (starts.get(name) ?? 0) + 1);
      }
    }
  }
  if (starts.size === 0) return new Set();
  const uses = new Map<string, number>();
  const count = {
    Variable(node: { name: { value: string } }) {
      uses.set(node.name.value, (uses.get(node.name.value) ?? 0) + 1);
    },
  };
  visit(info.operation.selectionSet, count);
  for (const directive of info.operation.directives ?? []) visit(directive, count);
  for (const fragment of Object.values(info.fragments)) visit(fragment, count);
  return new Set([...starts].filter(([name, n]) => uses.get(name) === n).map(([name]) => name));
}

export function groupKey(field: string, topic: string, context: Context, args: OperationArgs, info: GraphQLResolveInfo): string {
  const aside = startOnlyVariables(info);
  const variables = Object.entries(args.variableValues ?? {}).filter(([name]) => !aside.has(name));
  const text = args.document.loc?.source.body ?? print(args.document);
  return JSON.stringify([
    field, topic, context.auth?.organizationId ?? null, context.auth?.role ?? null, context.adminToken,
    args.operationName ?? null, variables, text,
  ]);
}
