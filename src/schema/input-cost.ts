// The cost of what an operation's root fields take as input (definitions, run inputs): each field with
// an argument of an input-object or JSON type costs a base plus a share of the size of those arguments,
// variables included, so aliasing one big variable many times costs as much as sending it many times.
import {
  getNamedType,
  isInputObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** What one field taking input costs before its size. */
export const inputBaseCost = 10;
/** JSON values (objects, arrays, scalars) per cost point; strings and keys count a value per 100 characters. */
export const valuesPerCostPoint = 20;
export const charactersPerValue = 100;

/** A size in JSON values: `values` plus one per `charactersPerValue` characters of strings and keys. */
interface Size {
  values: number;
  characters: number;
}

/**
 * The input cost of the operation that `operationName` picks (or the only one), with `variables` as
 * sent: the sum over its root fields (through fragments) that take an input object or JSON of
 * `inputBaseCost + ceil(size / valuesPerCostPoint)`. 0 when there is no such operation.
 */
export function inputCostOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: unknown,
): number {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const vars = typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : {};

  // Fragments may be spread many times: each one's cost is counted once, then reused.
  const memo = new Map<string, number>();
  const costOfSet = (set: SelectionSetNode, seen: Set<string>): number => {
    let total = 0;
    const stack: SelectionSetNode[] = [set];
    while (stack.length > 0) {
      for (const selection of stack.pop()!.selections) {
        if (selection.kind === Kind.FIELD) total += fieldCost(root, selection, vars);
        else if (selection.kind === Kind.INLINE_FRAGMENT) stack.push(selection.selectionSet);
        else total += fragmentCost(selection.name.value, seen);
      }
    }
    return total;
  };
  // Root-level fragments nest at most a few levels (the depth limit runs first), so this recursion is shallow;
  // `seen` stops a cycle all the same.
  const fragmentCost = (name: string, seen: Set<string>): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || seen.has(name)) return 0;
    const cost = costOfSet(fragment.selectionSet, new Set(seen).add(name));
    memo.set(name, cost);
    return cost;
  };
  return costOfSet(operation.selectionSet, new Set());
}

function fieldCost(
  root: GraphQLObjectType,
  field: { name: { value: string }; arguments?: readonly { name: { value: string }; value: ValueNode }[] | undefined },
  variables: Record<string, unknown>,
): number {
  const definition = root.getFields()[field.name.value];
  if (!definition) return 0;
  const size: Size = { values: 0, characters: 0 };
  let takesInput = false;
  for (const argument of field.arguments ?? []) {
    const type = definition.args.find((a) => a.name === argument.name.value)?.type;
    const named = type && getNamedType(type);
    if (!named || !(isInputObjectType(named) || named.name === 'JSON')) continue;
    takesInput = true;
    addValueSize(argument.value, variables, size);
  }
  if (!takesInput) return 0;
  const values = size.values + Math.floor(size.characters / charactersPerValue);
  return inputBaseCost + Math.ceil(values / valuesPerCostPoint);
}

/** Adds the size of a literal, following variables into their values. */
function addValueSize(value: ValueNode, variables: Record<string, unknown>, size: Size): void {
  const stack: ValueNode[] = [value];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.kind === Kind.VARIABLE) {
      addJsonSize(variables[node.name.value], size);
      continue;
    }
    size.values++;
    if (node.kind === Kind.LIST) {
      for (const item of node.values) stack.push(item);
    } else if (node.kind === Kind.OBJECT) {
      for (const field of node.fields) {
        size.characters += field.name.value.length;
        stack.push(field.value);
      }
    } else if (node.kind === Kind.STRING || node.kind === Kind.ENUM) {
      // As in a variable, where an enum value is a string: characters count, numbers do not.
      size.characters += node.value.length;
    }
  }
}

/** Adds the size of a JSON value as sent. */
function addJsonSize(value: unknown, size: Size): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined) continue;
    size.values++;
    if (typeof item === 'string') size.characters += item.length;
    else if (Array.isArray(item)) {
      for (const child of item) stack.push(child);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        size.characters += key.length;
        stack.push(child);
      }
    }
  }
}
