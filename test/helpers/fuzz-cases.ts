// fast-check arbitraries of what a client may send: documents generated from the schema (with
// arguments, variables, aliases, directives, fragments, random definitions and inputs), the same
// documents broken (cut, spliced, salted), deep, wide and huge ones, malformed bodies (values from
// fuzz-values.ts); and the checks every answer must pass (below 500, every error with a code, none internal).
import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInterfaceType,
  isNonNullType,
  isScalarType,
  isUnionType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { asVariable, draws, drawsOf, json, literal, seeded, valueOf, type Draw, type Draws, type IdPool } from './fuzz-values.js';
import { RawJson, type Answer, type Transport } from './transports.js';

export type { IdPool };

/** One generated request. `body` (HTTP only) replaces the JSON body built from query and variables. */
export interface FuzzCase {
  kind: string;
  transport: Transport;
  query: string;
  variables?: unknown;
  body?: string;
}

interface DocumentState {
  g: Draw;
  d: Draws;
  ids: IdPool;
  schema: GraphQLSchema;
  variables: Record<string, unknown>;
  definitions: string[];
  fragments: string[];
  maxDepth: number;
  aliases: number;
}

function argumentsOf(state: DocumentState, field: GraphQLField<unknown, unknown>): string {
  const parts: string[] = [];
  for (const arg of field.args) {
    if (!isNonNullType(arg.type) && !state.d.chance(0.4)) continue;
    const value = valueOf(state.g, state.d, arg.type, state.ids, arg.name);
    if (state.d.chance(0.5)) {
      const name = `v${state.definitions.length}`;
      state.definitions.push(`$${name}: ${state.d.chance(0.95) ? String(arg.type) : 'Int'}`);
      state.variables[name] = asVariable(value);
      parts.push(`${arg.name}: $${name}`);
    } else parts.push(`${arg.name}: ${literal(value)}`);
  }
  return parts.length > 0 ? `(${parts.join(', ')})` : '';
}

function directives(state: DocumentState): string {
  if (!state.d.chance(0.1)) return '';
  return Array.from({ length: state.d.int(1, 3) }, () => `@${state.d.pick(['include', 'skip'])}(if: ${state.d.chance(0.5)})`).join(' ');
}

/** A selection set on `type`, `depth` levels down. */
function selectionOn(state: DocumentState, type: GraphQLCompositeType, depth: number): string {
  const { d } = state;
  const parts: string[] = ['__typename'];
  if (isUnionType(type) || isInterfaceType(type)) {
    const members = isUnionType(type) ? type.getTypes() : state.schema.getPossibleTypes(type);
    for (let i = d.int(1, 2); i > 0 && members.length > 0; i--) {
      const member = d.pick(members);
      parts.push(`... on ${member.name} { ${selectionOn(state, member, depth + 1)} }`);
    }
    if (isInterfaceType(type)) parts.push(fieldsOf(state, type, depth));
    return parts.join(' ');
  }
  parts.push(fieldsOf(state, type, depth));
  if (d.chance(0.05)) {
    // The slot is taken first, so that fragments made while filling this one get other names.
    const index = state.fragments.push('') - 1;
    const name = `F${index}`;
    state.fragments[index] = `fragment ${name} on ${type.name} { __typename ${fieldsOf(state, type, depth + 1)} }`;
    parts.push(`...${name}`);
  }
  return parts.join(' ');
}

function fieldsOf(state: DocumentState, type: GraphQLCompositeType, depth: number): string {
  if (isUnionType(type)) return '';
  const { d } = state;
  const fields = Object.values(type.getFields());
  const parts: string[] = [];
  for (let i = d.int(1, 4); i > 0; i--) {
    const field = d.pick(fields);
    const named = getNamedType(field.type);
    const alias = d.chance(0.15) ? `a${state.aliases++}: ` : '';
    const head = `${alias}${field.name}${argumentsOf(state, field)} ${directives(state)}`;
    if (isCompositeType(named)) {
      parts.push(depth >= state.maxDepth ? `${head} { __typename }` : `${head} { ${selectionOn(state, named, depth + 1)} }`);
    } else if (isScalarType(named) || isEnumType(named)) parts.push(head);
  }
  return parts.join(' ');
}

/** A document generated from the schema, with its variables. */
function schemaDocument(g: Draw, schema: GraphQLSchema, ids: IdPool): { query: string; variables: Record<string, unknown>; operation: string } {
  const d = draws(g);
  const roll = d.int(0, 99);
  const operation = roll < 55 ? 'query' : roll < 93 ? 'mutation' : 'subscription';
  const root = operation === 'query' ? schema.getQueryType()! : operation === 'mutation' ? schema.getMutationType()! : schema.getSubscriptionType()!;
  const state: DocumentState = { g, d, ids, schema, variables: {}, definitions: [], fragments: [], maxDepth: d.int(1, 14), aliases: 0 };
  const fields = Object.values(root.getFields()).filter((f) => f.name !== 'revokeApiKey');
  const parts: string[] = [];
  const count = operation === 'subscription' ? 1 : d.int(1, 3);
  for (let i = 0; i < count; i++) {
    const field = d.pick(fields);
    const named = getNamedType(field.type);
    const alias = count > 1 || d.chance(0.2) ? `r${i}: ` : '';
    const selection = isCompositeType(named) ? ` { ${selectionOn(state, named, 1)} }` : '';
    parts.push(`${alias}${field.name}${argumentsOf(state, field)} ${directives(state)}${selection}`);
  }
  const head = state.definitions.length > 0 ? `(${state.definitions.join(', ')})` : '';
  const query = `${operation} Fuzz${head} { ${parts.join(' ')} } ${state.fragments.join(' ')}`;
  return { query, variables: state.variables, operation };
}

const salt = ['{', '}', '[', ']', '(', ')', '"', '"""', '\\', '$', '@', '...', ':', '!', '#', '\u0000', '\uD800', 'on', 'fragment', ' '];

/** `query` cut, spliced or salted a few times. */
function broken(g: Draw, query: string): string {
  const d = draws(g);
  let out = query;
  for (let i = d.int(1, 3); i > 0; i--) {
    const at = d.int(0, out.length);
    const roll = d.int(0, 3);
    if (roll === 0) out = out.slice(0, at);
    else if (roll === 1) out = out.slice(0, at) + out.slice(Math.min(out.length, at + d.int(1, 20)));
    else if (roll === 2) out = out.slice(0, at) + d.pick(salt).repeat(d.int(1, 5)) + out.slice(at);
    else out = out.slice(0, at) + out.slice(d.int(0, out.length)).slice(0, 200) + out.slice(at);
  }
  return out;
}

/** Documents past or near a limit: deep, wide, aliased, many tokens or directives, long fragment chains. */
function extreme(g: Draw): string {
  const d = draws(g);
  const n = d.pick([10, 29, 30, 31, 50, 51, 199, 200, 201, d.int(1, 6000)]);
  switch (d.int(0, 9)) {
    case 0:
      return `{ ${'workflows { edges { node { '.repeat(Math.ceil(n / 3))}id${' } } }'.repeat(Math.ceil(n / 3))} }`;
    case 1:
      return `{ validateWorkflow(definition: { nodes: [{ id: "t", type: "trigger", params: ${'['.repeat(n)}${']'.repeat(n)} }], edges: [] }) { valid } }`;
    case 2:
      return `{ ${Array.from({ length: Math.min(n, 3000) }, (_, i) => `a${i}: nodeTypes { type }`).join(' ')} }`;
    case 3:
      return `{ nodeTypes { ${'type @include(if: true) '.repeat(Math.min(n, 3000))} } }`;
    case 4:
    {
      const length = Math.min(n, 2000);
      const chain = Array.from({ length }, (_, i) => `fragment F${i} on Query { ${i === length - 1 ? '__typename' : `...F${i + 1}`} }`);
      return `{ ...F0 } ${chain.join(' ')}`;
    }
    case 5:
      return `{ ${'workflows { edges { cursor } } '.repeat(Math.min(n, 2000))}}`;
    case 6:
      return `query(${Array.from({ length: Math.min(n, 2500) }, (_, i) => `$v${i}: Int`).join(', ')}) { __typename }`;
    case 7:
      return `{ ${'{'.repeat(n)} }`;
    case 8:
      return `query($v: ${'['.repeat(n)}Int${']'.repeat(n)}) { __typename }`;
    default:
      return `{ nodeTypes { type } } ${'# comment\n'.repeat(n)}`;
  }
}

/** A whole HTTP body that is not a proper GraphQL request. */
function malformedBody(g: Draw): string {
  const d = draws(g);
  return d.pick([
    '',
    '{',
    'null',
    '[]',
    '[{"query":"{ __typename }"}]',
    '{"query": 1}',
    '{"query": null}',
    '{"query": "{ __typename }", "variables": "x"}',
    '{"query": "{ __typename }", "variables": [1]}',
    '{"query": "{ __typename }", "operationName": 5}',
    '{"query": "{ __typename }", "extensions": "x"}',
    `{"query": "{ __typename }", "variables": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    JSON.stringify({ query: g(fc.string, { maxLength: 40, unit: 'binary' }) }),
  ]);
}

/** Variables nested far too deep to build as values, written as JSON text, with a document that takes them. */
function deepVariables(g: Draw, ids: IdPool): Omit<FuzzCase, 'transport'> {
  const d = draws(g);
  const levels = d.pick([65, 5_000, 20_000, d.int(1, 60_000)]);
  const [open, close] = d.chance(0.5) ? ['[', ']'] : ['{"a":', '}'];
  const deep = `${open.repeat(levels)}1${close.repeat(levels)}`;
  const query = d.pick([
    `mutation($input: JSON) { startRun(workflowId: ${JSON.stringify(d.pick(ids.workflows))}, input: $input) { __typename ... on ValidationError { issues { path } } } }`,
    'query($input: JSON) { validateWorkflow(definition: { nodes: [{ id: "t", type: "trigger", params: $input }], edges: [] }) { valid } }',
    'query($input: WorkflowDefinitionInput!) { validateWorkflow(definition: $input) { valid } }',
    '{ __typename }',
  ]);
  return { kind: 'deep-variables', query, variables: new RawJson(`{"input":${deep}}`) };
}

/** Any generated case, with a transport fit for it (no GET for long documents or raw bodies). */
export function fuzzCase(schema: GraphQLSchema, ids: IdPool, transports: readonly Transport[]): fc.Arbitrary<FuzzCase> {
  return fc.tuple(fc.gen(), fc.noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 }))).map(([g, seed]) => {
    drawsOf.set(g, seeded(seed));
    const d = draws(g);
    const roll = d.int(0, 99);
    let result: Omit<FuzzCase, 'transport'>;
    if (roll < 55) {
      const { query, variables } = schemaDocument(g, schema, ids);
      result = { kind: 'schema', query, variables };
    } else if (roll < 75) {
      const { query, variables } = schemaDocument(g, schema, ids);
      result = { kind: 'broken', query: broken(g, query), variables };
    } else if (roll < 88) {
      result = { kind: 'extreme', query: extreme(g) };
    } else if (roll < 90) {
      result = deepVariables(g, ids);
    } else if (roll < 96) {
      const { query } = schemaDocument(g, schema, ids);
      result = { kind: 'random-variables', query, variables: d.chance(0.5) ? json(g, d) : { v0: json(g, d), v1: json(g, d) } };
    } else {
      result = { kind: 'malformed', query: '', body: malformedBody(g) };
    }
    let transport = d.pick(transports);
    const variables = result.variables instanceof RawJson ? result.variables.text : JSON.stringify(result.variables ?? null);
    const long = 3 * (result.query.length + variables.length) > 6000;
    if (transport === 'get' && (long || result.body !== undefined)) transport = 'post';
    if (result.body !== undefined) transport = 'post';
    // graphql-ws clients refuse (and servers close the socket on) a subscribe message whose variables are not an object.
    const objectVariables =
      result.variables instanceof RawJson
        ? result.variables.text.startsWith('{')
        : result.variables === undefined || (typeof result.variables === 'object' && result.variables !== null && !Array.isArray(result.variables));
    if (transport === 'ws' && !objectVariables) transport = 'post';
    return { ...result, transport };
  });
}

/**
 * What is wrong with an answer, or null: a 5xx; an HTTP body that is not a GraphQL answer (except a
 * 4xx without one, as node:http sends for an oversized URL); an error without extensions.code, or one
 * masked as internal; a graphql-ws operation ended by anything but next/error/complete.
 */
export function problemWith(answer: Answer): string | null {
  if (answer.status !== null && answer.status >= 500) return `HTTP ${answer.status}`;
  if (answer.raw !== undefined) {
    if (answer.status !== null && answer.status >= 400 && answer.status < 500) return null;
    return `not a GraphQL answer: ${answer.raw.slice(0, 200)}`;
  }
  for (const error of answer.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code !== 'string') return `an error without extensions.code: ${JSON.stringify(error)}`;
    if (code === 'INTERNAL_SERVER_ERROR' || error.message === 'Unexpected error.') return `an internal error: ${JSON.stringify(error)}`;
    if (JSON.stringify(error).includes('    at ')) return `a stack trace: ${JSON.stringify(error)}`;
  }
  return null;
}

/**
 * How many rows a mutation's answer may stand for: each top-level value not of an error type; and when
 * execution began but an error nulled `data` (a sibling field refused FORBIDDEN, say), every root field
 * (at most 3 in generated documents) may have written before it.
 */
export function possibleWrites(answer: Answer): number {
  if (answer.errors?.some((error) => error.path !== undefined)) return 3;
  const data = answer.data;
  if (data === null || typeof data !== 'object') return 0;
  let count = 0;
  for (const value of Object.values(data)) {
    if (value === null || typeof value !== 'object') continue;
    const typename = (value as { __typename?: unknown }).__typename;
    if (typeof typename !== 'string' || !/Error$/.test(typename)) count++;
  }
  return count;
}
