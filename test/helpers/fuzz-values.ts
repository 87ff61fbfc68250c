// The values of the fuzz suite: uniform draws from a seed fast-check picks, strings and JSON (nasty,
// deep), workflow definitions (often valid, sometimes broken) and a value for any GraphQL input type,
// written as a literal or as a variable.
import fc from 'fast-check';
import { isEnumType, isInputObjectType, isListType, isNonNullType, type GraphQLInputType } from 'graphql';

/** Ids that exist (a workflow, a run) mixed with ones that do not. */
export interface IdPool {
  workflows: string[];
  runs: string[];
}

export type Draw = fc.GeneratorValue;

class Enum {
  constructor(readonly name: string) {}
}

export interface Draws {
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/**
 * Uniform draws from a seed fast-check picked (mulberry32): fast-check's own integers lean towards
 * small values, which would make the first choice of every pick and every "chance" far too frequent.
 */
export function seeded(seed: number): Draws {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { int, chance: (p) => next() < p, pick: (items) => items[int(0, items.length - 1)]! };
}

export const drawsOf = new WeakMap<Draw, Draws>();
/** The uniform draws that go with `g` (set up by fuzzCase). */
export function draws(g: Draw): Draws {
  return drawsOf.get(g)!;
}

const nasty = ['', ' ', 'a\u0000b', '\\u0000', '"', '\\', '{', '\u{1F600}', '\uD800', 'x'.repeat(300), '$input', '{{ $input }}'];

function text(g: Draw, d: Draws): string {
  return d.chance(0.3) ? d.pick(nasty) : g(fc.string, { maxLength: 12, unit: d.chance(0.2) ? 'binary' : 'grapheme-ascii' });
}

/** JSON nested `levels` deep, in arrays or objects. */
function deepJson(levels: number, objects: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = objects ? { a: value } : [value];
  return value;
}

export function json(g: Draw, d: Draws): unknown {
  const roll = d.int(0, 9);
  // Deeper values go out as RawJson (see deepVariables): JSON.stringify overflows a few thousand levels down.
  if (roll === 0) return deepJson(d.pick([63, 64, 65, 66, 100, d.int(1, 1500)]), d.chance(0.5));
  if (roll === 1) return { text: d.pick(nasty), [d.pick(nasty)]: d.pick(nasty) };
  return g(fc.jsonValue, { maxDepth: 4 });
}

const nodeTypes = ['trigger', 'delay', 'transform', 'condition', 'switch', 'merge', 'http', 'fail', 'teleport'];
const expressions = ['$input', '1 + 1', '$input.(', '"\\u0000"', 'a\u0000', '$string($input)', '$count([1..5])', ''];

function params(g: Draw, d: Draws, type: string): unknown {
  if (d.chance(0.15)) return json(g, d);
  switch (type) {
    case 'delay':
      return { ms: d.pick([0, 1, 2, -1, 1e12]) };
    case 'transform':
    case 'condition':
      return { expression: d.pick(expressions) };
    case 'switch':
      return { expression: d.pick(expressions), cases: [{ handle: 'a', value: 1 }] };
    case 'http':
      return { url: d.pick(['http://127.0.0.1:9/', 'not a url', 'http://[::1]:9/{{ $input }}']), method: d.pick(['GET', 'POST', 'BREW']) };
    case 'fail':
      return { message: text(g, d) };
    default:
      return d.chance(0.5) ? undefined : json(g, d);
  }
}

/** A workflow definition: a trigger and a few nodes in a chain, often valid, sometimes broken. */
function definition(g: Draw, d: Draws): unknown {
  const size = d.chance(0.02) ? d.int(100, 2000) : d.int(0, 5);
  const nodes: Record<string, unknown>[] = [{ id: 't', type: 'trigger' }];
  for (let i = 0; i < size; i++) {
    const type = d.chance(0.9) ? d.pick(nodeTypes.slice(1, 5)) : d.pick(nodeTypes);
    const node: Record<string, unknown> = { id: d.chance(0.05) ? d.pick(nasty) : `n${i}`, type };
    const p = params(g, d, type);
    if (p !== undefined) node.params = p;
    if (d.chance(0.1)) node.retry = { maxAttempts: d.int(-1, 3) };
    if (d.chance(0.1)) node.timeoutMs = d.pick([1, 1000, -5]);
    nodes.push(node);
  }
  const edges = nodes.slice(1).map((node, i) => {
    const edge: Record<string, unknown> = { source: i === 0 ? 't' : `n${i - 1}`, target: node.id };
    if (d.chance(0.1)) edge.sourceHandle = d.pick(['true', 'false', 'a', 'default', 'nope']);
    return edge;
  });
  if (d.chance(0.1)) edges.push({ source: `n${d.int(0, 5)}`, target: d.pick(['t', 'n0', 'ghost']) });
  return { nodes, edges, ...(d.chance(0.2) ? { settings: { maxConcurrency: d.int(-1, 4), errorStrategy: new Enum(d.pick(['FAIL_FAST', 'CONTINUE', 'SOMETIMES'])) } } : {}) };
}

/** A value of `type`: usually fitting, sometimes null, wrong or absurd. */
export function valueOf(g: Draw, d: Draws, type: GraphQLInputType, ids: IdPool, argName: string): unknown {
  if (isNonNullType(type)) return d.chance(0.03) ? null : valueOf(g, d, type.ofType, ids, argName);
  if (d.chance(0.04)) return d.pick([null, 'wrong', 3.5, [], {}, true]);
  if (isListType(type)) return Array.from({ length: d.int(0, 3) }, () => valueOf(g, d, type.ofType, ids, argName));
  if (isEnumType(type)) return new Enum(d.chance(0.9) ? d.pick(type.getValues()).name : 'NOPE');
  if (isInputObjectType(type)) {
    if (type.name === 'WorkflowDefinitionInput') return definition(g, d);
    const out: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type) || d.chance(0.5)) out[field.name] = valueOf(g, d, field.type, ids, field.name);
    }
    return out;
  }
  switch (type.name) {
    case 'Int':
      return d.pick([0, 1, 2, 5, 20, 100, 101, -1, 2 ** 31, d.int(-10, 200)]);
    case 'Float':
      return d.pick([0, 1.5, -1e308]);
    case 'Boolean':
      return d.chance(0.5);
    case 'ID':
      return d.chance(0.8) ? d.pick([...(argName === 'workflowId' || argName === 'id' ? ids.workflows : []), ...ids.runs, 'wf_nope', 'run_nope']) : text(g, d);
    case 'JSON':
      return json(g, d);
    case 'DateTime':
      return d.pick(['2024-01-01T00:00:00.000Z', 'yesterday', '-200000-01-01T00:00:00.000Z']);
    default:
      return argName === 'after' || argName === 'before'
        ? d.pick(['', 'x', Buffer.from('-200000-01-01T00:00:00.000Z|x').toString('base64url'), Buffer.from('2024-01-01T00:00:00.000Z|wf').toString('base64url')])
        : text(g, d);
  }
}

/** A value written as a GraphQL literal. */
export function literal(value: unknown): string {
  if (value instanceof Enum) return value.name;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : JSON.stringify(k)}: ${literal(v)}`)
      .join(', ')} }`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** A variable's value as JSON (enums as their names). */
export function asVariable(value: unknown): unknown {
  if (value instanceof Enum) return value.name;
  if (Array.isArray(value)) return value.map(asVariable);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asVariable(v)]));
  return value;
}
