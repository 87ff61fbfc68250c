// Live groups against per-subscriber execution: random runEvents selections (aliases, __typename, an
// @include on a variable, afterSeq as a variable, a literal or absent) watched live by a server that
// groups subscribers, then replayed by one that executes per subscriber (graphql-ws's own path) over
// the same database: every subscription receives the same payloads, and subscribers that differ only
// in afterSeq share one group.
import fc from 'fast-check';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { createNodeRegistry } from '../../src/engine/index.js';
import { buildServer, type BraidServer, type ServerDeps } from '../../src/server.js';
import { createControlledNodes } from '../helpers/controlled-nodes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { postGraphql } from '../helpers/graphql-post.js';
import { quietLogger } from '../helpers/quiet-logger.js';

const adminToken = 'live-groups-admin-token-0123456789';
const nodes = createControlledNodes();
const registry = createNodeRegistry(nodes.types);
const config = loadConfig({ ADMIN_TOKEN: adminToken, PORT: '0', SECRETS_KEY: Buffer.alloc(32, 7).toString('base64') });
let database: TestDatabase;
let key: string;
let workflowId: string;

interface Running {
  server: BraidServer;
  url: string;
  clients: Client[];
}

async function start(liveDelivery: ServerDeps['liveDelivery']): Promise<Running> {
  const server = buildServer({ config, database, registry, liveDelivery, logger: quietLogger() });
  const { port } = await server.start(0, '127.0.0.1');
  return { server, url: `http://127.0.0.1:${port}/graphql`, clients: [] };
}

async function stop(running: Running): Promise<void> {
  await Promise.all(running.clients.map((client) => client.dispose()));
  await running.server.stop();
}

beforeAll(async () => {
  database = await createTestDatabase();
  const setup = await start('grouped');
  try {
    const made = await postGraphql(setup.url, adminToken,
      'mutation { createOrganization(name: "live") { ... on CreateOrganizationPayload { apiKey } } }');
    key = made.data!.createOrganization.apiKey as string;
    // gate (held by the test) → a, and b (failed by the test) → c (skipped): every field of an event gets a value.
    const definition = {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'gate', type: 'task' },
        { id: 'a', type: 'transform', params: { expression: '1' } },
        { id: 'b', type: 'task' },
        { id: 'c', type: 'transform', params: { expression: '2' } },
      ],
      edges: [
        { source: 'start', target: 'gate' }, { source: 'gate', target: 'a' }, { source: 'gate', target: 'b' }, { source: 'b', target: 'c' },
      ],
    };
    const created = await postGraphql(setup.url, key,
      'mutation($d: WorkflowDefinitionInput!) { createWorkflow(input: { name: "live", definition: $d }) { ... on Workflow { id } } }',
      { d: definition });
    workflowId = created.data!.createWorkflow.id as string;
  } finally {
    await stop(setup);
  }
});

afterAll(async () => {
  await database?.close();
});

const eventFields = ['seq', 'runId', 'type', 'at', 'nodeId', 'branch', 'status', 'attempt', 'error', 'reason'] as const;

const documentArbitrary = fc.record({
  fields: fc.shuffledSubarray([...eventFields], { minLength: 1 }),
  aliased: fc.array(fc.boolean(), { minLength: eventFields.length, maxLength: eventFields.length }),
  typename: fc.boolean(),
  /** Index of a field under `@include(if: $flag)`, or none. */
  included: fc.option(fc.nat(eventFields.length - 1), { nil: undefined }),
  afterSeq: fc.constantFrom('variable', 'literal', 'none'),
});
type DocumentShape = (typeof documentArbitrary extends fc.Arbitrary<infer V> ? V : never) & { id: number };

const subscriptionArbitrary = fc.record({ document: fc.nat(), afterSeq: fc.nat(2), flag: fc.boolean() });

/** The query, variables and (for the test's own grouping check) the group it should join. */
function operation(shape: DocumentShape, runId: string, afterSeq: number, flag: boolean) {
  const usesFlag = shape.included !== undefined && shape.included < shape.fields.length;
  const selection = shape.fields
    .map((field, i) => `${shape.aliased[i] ? `f${i}: ` : ''}${field}${usesFlag && i === shape.included ? ' @include(if: $flag)' : ''}`)
    .join(' ');
  const definitions = ['$runId: ID!', ...(shape.afterSeq === 'variable' ? ['$after: Int'] : []), ...(usesFlag ? ['$flag: Boolean!'] : [])];
  const after = shape.afterSeq === 'variable' ? ', afterSeq: $after' : shape.afterSeq === 'literal' ? `, afterSeq: ${afterSeq}` : '';
  const query = `subscription Watch(${definitions.join(', ')}) { runEvents(runId: $runId${after}) { ${shape.typename ? '__typename ' : ''}${selection} } }`;
  const variables = { runId, ...(shape.afterSeq === 'variable' ? { after: afterSeq } : {}), ...(usesFlag ? { flag } : {}) };
  const group = JSON.stringify([shape.id, shape.afterSeq === 'literal' ? afterSeq : null, usesFlag ? flag : null]);
  return { query, variables, group };
}

/** Subscribes; resolves `first` at the first payload and `done` with every payload at completion. */
function watch(running: Running, query: string, variables: Record<string, unknown>) {
  const client = createClient({ url: running.url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
  running.clients.push(client);
  const payloads: unknown[] = [];
  let onFirst!: () => void;
  const first = new Promise<void>((resolve) => (onFirst = resolve));
  const done = new Promise<unknown[]>((resolve, reject) =>
    client.subscribe({ query, variables }, {
      next: (payload) => {
        payloads.push(payload);
        onFirst();
      },
      error: (error) => reject(new Error(JSON.stringify(error))),
      complete: () => resolve(payloads),
    }),
  );
  return { first, done };
}

it('sends each subscriber what per-subscriber execution sends, one execution per group', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(documentArbitrary, { minLength: 1, maxLength: 3 }),
      fc.array(subscriptionArbitrary, { minLength: 2, maxLength: 8 }),
      async (documents, subscriptions) => {
        const shapes = documents.map((document, id) => ({ ...document, id }));
        const grouped = await start('grouped');
        let runId: string;
        let live: unknown[][];
        let reference: unknown[];
        const operations: ReturnType<typeof operation>[] = [];
        try {
          const started = await postGraphql(grouped.url, key, 'mutation($w: ID!) { startRun(workflowId: $w) { ... on Run { id } } }', { w: workflowId });
          runId = started.data!.startRun.id as string;
          await nodes.started('gate');
          for (const s of subscriptions) operations.push(operation(shapes[s.document % shapes.length]!, runId, s.afterSeq, s.flag));
          const watched = operations.map((o) => watch(grouped, o.query, o.variables));
          const all = watch(grouped, 'subscription($r: ID!) { runEvents(runId: $r) { seq type } }', { r: runId });
          watched.push(all);
          // A first payload (replayed: the run waits at the gate) means the subscriber joined its group.
          await Promise.all(watched.map((w) => w.first));
          expect(grouped.server.services.pubsub.events.subscriberCount(runId)).toBe(new Set(operations.map((o) => o.group)).size + 1);
          nodes.succeed('gate');
          await nodes.started('b');
          nodes.fail('b');
          live = await Promise.all(watched.map((w) => w.done));
          reference = live.pop()!;
        } finally {
          await stop(grouped);
        }
        // The same subscriptions, each executed on its own (the run is over: all of it is replayed).
        const single = await start('per-subscriber');
        try {
          const replayed = await Promise.all(operations.map((o) => watch(single, o.query, o.variables).done));
          // Every event once, in order, from afterSeq on, live as replayed.
          const events = reference.map((p) => (p as { data: { runEvents: { seq: number; type: string } } }).data.runEvents);
          expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
          expect(events.at(-1)?.type).toBe('RUN_FAILED');
          expect(live.map((payloads) => payloads.length)).toEqual(operations.map((o) => events.length - afterSeqOf(o)));
          expect(live).toEqual(replayed);
        } finally {
          await stop(single);
        }
      },
    ),
    { numRuns: 5 },
  );
});

const afterSeqOf = (o: ReturnType<typeof operation>) =>
  'after' in o.variables ? (o.variables.after as number) : Number(/afterSeq: (\d+)/.exec(o.query)?.[1] ?? 0);
