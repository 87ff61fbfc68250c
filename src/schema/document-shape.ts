// Iterative measures of a GraphQL document, taken before any recursive pass over it (graphql-js's
// parser and validation rules, graphql-armor's visitors, execution) so that a deep or wide document
// is refused as a client error instead of overflowing the stack or blocking the event loop.
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionNode, type SelectionSetNode, type ValueNode } from 'graphql';

/**
 * The deepest nesting of `{`, `[` and `(` in `source` outside strings and comments (what bounds the
 * parser's recursion); stops counting once past `stop`.
 */
export function nestingOf(source: string, stop = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '#') {
      while (i + 1 < source.length && source[i + 1] !== '\n' && source[i + 1] !== '\r') i++;
    } else if (c === '"' && source.startsWith('"""', i)) {
      i += 3;
      while (i < source.length && !source.startsWith('"""', i)) i += source.startsWith('\\"""', i) ? 4 : 1;
      i += 2;
    } else if (c === '"') {
      i++;
      while (i < source.length && source[i] !== '"' && source[i] !== '\n' && source[i] !== '\r') {
        i += source[i] === '\\' ? 2 : 1;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > max) max = depth;
      if (max > stop) return max;
    } else if (c === '}' || c === ']' || c === ')') {
      depth = Math.max(0, depth - 1);
    }
  }
  return max;
}

/** What `shapeOf` found first: a fragment spreading itself, a depth past the limit, or too many comparisons. */
export type ShapeProblem =
  | { kind: 'cycle'; fragment: string }
  | { kind: 'depth'; found: number }
  | { kind: 'comparisons'; found: number };

export interface ShapeLimits {
  maxDepth: number;
  maxComparisons: number;
}

type Selections = SelectionSetNode['selections'];

/**
 * Checks the document's shape, following fragment spreads without recursion:
 * - no fragment spreads itself (directly or through others);
 * - no operation or fragment is deeper than `maxDepth`, counted as graphql-armor's max-depth does
 *   (every field and inline fragment one level, a spread two plus its fragment; `__schema` not at all);
 * - graphql-js's OverlappingFieldsCanBeMerged rule, quadratic in the fields sharing a response name
 *   and in the fragments spread side by side, has at most about `maxComparisons` pairs to compare.
 */
export function shapeOf(document: DocumentNode, limits: ShapeLimits): ShapeProblem | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value)) {
      fragments.set(definition.name.value, definition);
    }
  }
  const order = dependencyOrder(fragments);
  if ('cycle' in order) return { kind: 'cycle', fragment: order.cycle };

  const fragmentDepth = new Map<string, number>();
  for (const name of order.names) {
    const depth = depthOf(fragments.get(name)!.selectionSet, fragmentDepth);
    if (depth > limits.maxDepth) return { kind: 'depth', found: depth };
    fragmentDepth.set(name, depth);
  }
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const depth = depthOf(definition.selectionSet, fragmentDepth);
    if (depth > limits.maxDepth) return { kind: 'depth', found: depth };
  }

  const comparisons = comparisonsOf(document);
  return comparisons > limits.maxComparisons ? { kind: 'comparisons', found: comparisons } : null;
}

/** The names of the fragments each selection set spreads, nested ones included. */
function spreadsIn(selectionSet: SelectionSetNode): string[] {
  const names: string[] = [];
  const stack: Selections[] = [selectionSet.selections];
  while (stack.length > 0) {
    for (const selection of stack.pop()!) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) names.push(selection.name.value);
      else if (selection.selectionSet) stack.push(selection.selectionSet.selections);
    }
  }
  return names;
}

/** The fragments, each after every fragment it spreads; or the first fragment found spreading itself. */
function dependencyOrder(fragments: Map<string, FragmentDefinitionNode>): { names: string[] } | { cycle: string } {
  const names: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const start of fragments.keys()) {
    if (state.has(start)) continue;
    state.set(start, 'open');
    const stack = [{ name: start, spreads: spreadsIn(fragments.get(start)!.selectionSet), next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.spreads.length) {
        const name = top.spreads[top.next++]!;
        const definition = fragments.get(name);
        if (!definition || state.get(name) === 'done') continue;
        if (state.get(name) === 'open') return { cycle: name };
        state.set(name, 'open');
        stack.push({ name, spreads: spreadsIn(definition.selectionSet), next: 0 });
      } else {
        state.set(top.name, 'done');
        names.push(top.name);
        stack.pop();
      }
    }
  }
  return { names };
}

/** graphql-armor's depth of a selection set, given the depth of every fragment it spreads. */
function depthOf(selectionSet: SelectionSetNode, fragmentDepth: Map<string, number>): number {
  let max = 0;
  const stack: { selections: Selections; depth: number }[] = [{ selections: selectionSet.selections, depth: 0 }];
  while (stack.length > 0) {
    const { selections, depth } = stack.pop()!;
    const level = depth + 1;
    for (const selection of selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const inner = fragmentDepth.get(selection.name.value);
        max = Math.max(max, inner === undefined ? level : level + 1 + inner);
      } else if (selection.kind === Kind.FIELD && selection.name.value === '__schema') {
        continue;
      } else {
        max = Math.max(max, level);
        if (selection.selectionSet) stack.push({ selections: selection.selectionSet.selections, depth: level });
      }
    }
  }
  return max;
}

/**
 * An estimate of the pairs graphql-js compares to check that fields can be merged: in each selection
 * set (inline fragments flattened into it, as the rule does), every two fields with the same response
 * name (weighted by the size of the smaller selection below them), every two fragments spread there,
 * and every field against every fragment.
 */
function comparisonsOf(document: DocumentNode): number {
  // Every selection set, parents before children; sizes (fields below, fragments not followed) children first.
  const sets: SelectionSetNode[] = [];
  for (const definition of document.definitions) {
    if ('selectionSet' in definition && definition.selectionSet) sets.push(definition.selectionSet);
  }
  for (let i = 0; i < sets.length; i++) {
    for (const selection of sets[i]!.selections) if ('selectionSet' in selection && selection.selectionSet) sets.push(selection.selectionSet);
  }
  const size = new Map<SelectionSetNode, number>();
  for (let i = sets.length - 1; i >= 0; i--) {
    let total = 0;
    for (const selection of sets[i]!.selections) {
      total += selection.kind === Kind.FIELD ? 1 : 0;
      if ('selectionSet' in selection && selection.selectionSet) total += size.get(selection.selectionSet) ?? 0;
    }
    size.set(sets[i]!, total);
  }

  let comparisons = 0;
  for (const set of sets) {
    const groups = new Map<string, { count: number; smallest: number }>();
    const spreads = new Set<string>();
    let fields = 0;
    const stack: Selections[] = [set.selections];
    while (stack.length > 0) {
      for (const selection of stack.pop()!) {
        if (selection.kind === Kind.FRAGMENT_SPREAD) spreads.add(selection.name.value);
        else if (selection.kind === Kind.INLINE_FRAGMENT) stack.push(selection.selectionSet.selections);
        else {
          fields++;
          const name = selection.alias?.value ?? selection.name.value;
          const below = selection.selectionSet ? (size.get(selection.selectionSet) ?? 0) : 0;
          const group = groups.get(name);
          if (group) {
            comparisons += group.count * (1 + Math.min(group.smallest, below));
            group.count++;
            group.smallest = Math.min(group.smallest, below);
          } else groups.set(name, { count: 1, smallest: below });
        }
      }
    }
    comparisons += (spreads.size * (spreads.size - 1)) / 2 + spreads.size * fields;
  }
  return comparisons;
}

/**
 * Whether the operation `operationName` picks is a subscription whose root selection, once @skip and
 * @include are applied with `variables`, holds no field: graphql-js's subscribe then throws a
 * TypeError (an internal error) instead of answering, so such an operation is refused before.
 */
export function subscriptionSelectsNothing(document: DocumentNode, operationName: string | null | undefined, variables: unknown): boolean {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== 'subscription') return false;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const values = typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : {};
  const flag = (node: ValueNode | undefined): boolean | undefined =>
    node?.kind === Kind.BOOLEAN ? node.value : node?.kind === Kind.VARIABLE ? values[node.name.value] === true : undefined;
  const included = (selection: SelectionNode): boolean =>
    (selection.directives ?? []).every((directive) => {
      const value = flag(directive.arguments?.find((a) => a.name.value === 'if')?.value);
      if (directive.name.value === 'skip') return value !== true;
      if (directive.name.value === 'include') return value !== false;
      return true;
    });
  const seen = new Set<string>();
  const stack: Selections[] = [operation.selectionSet.selections];
  while (stack.length > 0) {
    for (const selection of stack.pop()!) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) return false;
      if (selection.kind === Kind.INLINE_FRAGMENT) stack.push(selection.selectionSet.selections);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) stack.push(fragment.selectionSet.selections);
      }
    }
  }
  return true;
}
