// What an expression can reach, read off its syntax tree: which parts of the scope a worker needs
// (so `$nodes` is not copied whole to every evaluation), and whether its cost is provably bounded by
// the data it reads, so it may run inline on the main thread (see `bounded`).
import type jsonata from 'jsonata';

/** A syntax node as jsonata builds it (its typings list fewer kinds and fields than it has). */
interface Node {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

/** How an expression may be evaluated and what of the scope it needs. */
export interface ExpressionPlan {
  /** Node ids whose outputs `$nodes.<id>…` reads; null: it may read any (`$nodes` as a whole, `$eval`). */
  nodes: string[] | null;
  /** Whether it may read `$run`. */
  run: boolean;
  /**
   * Set when the expression is in the inline whitelist: `astSize` (its node count) and `roots`, the
   * data paths it starts from (`['input', 'a', 'b']` for `$input.a.b` or `a.b`), whose sizes bound
   * its cost; null when it must run in a worker.
   */
  inline: { astSize: number; roots: string[][]; constructsObjects: boolean } | null;
}

/** Built-ins allowed inline: each one pass over its argument, returning a scalar. */
const scalarFunctions = new Set(['exists', 'count', 'boolean', 'not', 'number', 'sum', 'max', 'min', 'average']);
const binaryOperators = new Set(['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', 'in']);
const scopeVariables = new Set(['input', 'nodes', 'run', '']);
/** Past this many syntax nodes an expression goes to a worker whatever it is. */
const MAX_INLINE_AST = 64;

export function planExpression(ast: jsonata.ExprNode): ExpressionPlan {
  const reads = { nodes: new Set<string>(), anyNode: false, run: false };
  collectReads(ast as unknown as Node, reads);
  return {
    nodes: reads.anyNode ? null : [...reads.nodes].sort(),
    run: reads.run || reads.anyNode,
    inline: inlinePlan(ast as unknown as Node),
  };
}

/** Records every `$nodes.<id>` read; anything else done with `$nodes`, or `$eval`, reads them all. */
function collectReads(root: Node, reads: { nodes: Set<string>; anyNode: boolean; run: boolean }): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const item = stack.pop();
    if (Array.isArray(item)) {
      stack.push(...item);
      continue;
    }
    if (typeof item !== 'object' || item === null) continue;
    const node = item as Node;
    if (node.type === 'path' && Array.isArray(node.steps)) {
      const [first, second] = node.steps as Node[];
      if (first?.type === 'variable' && first.value === 'nodes' && !first.predicate && !first.stages && second?.type === 'name') {
        reads.nodes.add(String(second.value));
        stack.push(...(node.steps as Node[]).slice(1), node.group, node.stages);
        continue;
      }
    }
    if (node.type === 'variable' && node.value === 'nodes') reads.anyNode = true;
    if (node.type === 'variable' && (node.value === 'eval' || node.value === 'run')) {
      if (node.value === 'eval') reads.anyNode = true;
      reads.run = true;
    }
    for (const key of Object.keys(node)) if (key !== 'type' && key !== 'value') stack.push(node[key]);
  }
}

/**
 * The inline whitelist. An expression qualifies when it is made only of literals, paths of plain
 * names (starting at `$input`, `$nodes`, `$run`, `$` or a name) filtered by predicates of the same
 * kind, arithmetic, comparisons, `and`/`or`/`in`, conditionals, array and object constructors outside
 * paths, and the scalar built-ins above — no lambdas, bindings, regexes, ranges, sorts, wildcards,
 * grouping, string building or `$eval`. Then every syntax node is evaluated at most once per value
 * in the data its paths start from (paths only descend; filters only drop), and nothing it builds is
 * larger than that data times the tree's size: the cost is at most astSize × (values reachable).
 */
function inlinePlan(ast: Node): ExpressionPlan['inline'] {
  const state = { size: 0, roots: [] as string[][], constructsObjects: false };
  if (!topLevel(ast, state) || state.size > MAX_INLINE_AST) return null;
  return { astSize: state.size, roots: state.roots, constructsObjects: state.constructsObjects };
}

interface WalkState {
  size: number;
  roots: string[][];
  constructsObjects: boolean;
}

/** Keys a node of each kind may carry; anything else (focus, index, group, tuple, keepArray…) disqualifies. */
const allowedKeys: Record<string, ReadonlySet<string>> = {
  string: new Set(['type', 'value', 'position']),
  number: new Set(['type', 'value', 'position']),
  value: new Set(['type', 'value', 'position']),
  name: new Set(['type', 'value', 'position', 'stages']),
  variable: new Set(['type', 'value', 'position', 'predicate', 'stages']),
  path: new Set(['type', 'steps']),
  binary: new Set(['type', 'value', 'position', 'lhs', 'rhs']),
  unary: new Set(['type', 'value', 'position', 'expression', 'expressions', 'lhs']),
  condition: new Set(['type', 'position', 'condition', 'then', 'else']),
  function: new Set(['type', 'value', 'position', 'arguments', 'procedure']),
};

function shapeOk(node: Node): boolean {
  const allowed = allowedKeys[node.type];
  return allowed !== undefined && Object.keys(node).every((key) => allowed.has(key) || node[key] === undefined);
}

/** An expression evaluated once against the whole scope (not per item of a path). */
function topLevel(node: Node, state: WalkState): boolean {
  if (++state.size > MAX_INLINE_AST || !shapeOk(node)) return false;
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value':
      return true;
    case 'variable':
    case 'name':
    case 'path':
      return path(node, state, true);
    case 'unary':
      if (node.value === '-') return topLevel(node.expression as Node, state);
      if (node.value === '[') return ((node.expressions ?? []) as Node[]).every((item) => topLevel(item, state));
      if (node.value === '{') {
        state.constructsObjects = true;
        return (node.lhs as [Node, Node][]).every(([key, value]) => topLevel(key, state) && topLevel(value, state));
      }
      return false;
    default:
      return operation(node, state, (child) => topLevel(child, state));
  }
}

/** Binary operators, conditionals and scalar built-ins, whose operands are checked by `child`. */
function operation(node: Node, state: WalkState, child: (node: Node) => boolean): boolean {
  switch (node.type) {
    case 'binary':
      return binaryOperators.has(String(node.value)) && child(node.lhs as Node) && child(node.rhs as Node);
    case 'condition':
      return child(node.condition as Node) && child(node.then as Node) && (node.else === undefined || child(node.else as Node));
    case 'function': {
      const procedure = node.procedure as Node;
      if (node.value !== '(' || procedure.type !== 'variable' || !scalarFunctions.has(String(procedure.value))) return false;
      state.size++;
      return (node.arguments as Node[]).every(child);
    }
    default:
      return false;
  }
}

/**
 * A path (or a lone variable or name). At the top level it starts from a scope variable or the input
 * and its leading names are recorded as a root; inside a predicate it must be relative (names, `$`).
 */
function path(node: Node, state: WalkState, top: boolean): boolean {
  const steps = node.type === 'path' ? (node.steps as Node[]) : [node];
  const root: string[] = [];
  let open = true; // still reading the root's leading names
  for (const [index, step] of steps.entries()) {
    if (index > 0 && ++state.size > MAX_INLINE_AST) return false;
    if (!shapeOk(step)) return false;
    if (step.type === 'variable') {
      const name = String(step.value);
      // A variable only first: later steps are evaluated per item, and a scope variable there would
      // re-read the whole scope for every item.
      if (index > 0 || !scopeVariables.has(name) || (!top && name !== '')) return false;
      root.push(name === '' ? 'input' : name);
    } else if (step.type === 'name') {
      if (index === 0) root.push('input');
      if (open) root.push(String(step.value));
    } else {
      return false;
    }
    const filters = [...((step.predicate ?? []) as Node[]), ...((step.stages ?? []) as Node[])];
    if (filters.length > 0) open = false;
    for (const filter of filters) {
      if (filter.type !== 'filter' || !predicate(filter.expr as Node, state)) return false;
    }
  }
  if (top) state.roots.push(root);
  return true;
}

/** A filter's expression, evaluated per item: literals, relative paths, operators, scalar built-ins. */
function predicate(node: Node, state: WalkState): boolean {
  if (++state.size > MAX_INLINE_AST || !shapeOk(node)) return false;
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value':
      return true;
    case 'variable':
    case 'name':
    case 'path':
      return path(node, state, false);
    case 'unary':
      return node.value === '-' && predicate(node.expression as Node, state);
    default:
      return operation(node, state, (child) => predicate(child, state));
  }
}
