// A subscriber that stops reading while a long run streams: the server keeps running, drops it once
// its queue passes the bound (it gets 'subscriber too slow' when it reads again), and every other
// client gets every event.
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from '../gql/index.js';
import { GetRun, contiguous, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const maxQueue = 100;
const chainLength = 250;

let t: TestServer;
let key: string;

beforeAll(async () => {
  t = await startTestServer({ subscriberMaxQueue: maxQueue });
  key = (await t.createOrganization()).adminKey;
});

afterAll(async () => {
  await t?.close();
});

const Health = graphql(`
  query Health {
    nodeTypes { type }
  }
`);

/** A graphql-transport-ws client on a raw socket, so that the test can stop reading from it. */
async function rawSubscriber(query: string, variables: Record<string, unknown>) {
  const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  const waiters: { predicate: (m: (typeof messages)[number]) => boolean; resolve: (m: (typeof messages)[number]) => void }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as (typeof messages)[number];
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const next = (predicate: (m: (typeof messages)[number]) => boolean) =>
    new Promise<(typeof messages)[number]>((resolve) => {
      const found = messages.find(predicate);
      if (found) resolve(found);
      else waiters.push({ predicate, resolve });
    });
  await once(socket, 'open');
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  await next((m) => m.type === 'connection_ack');
  socket.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query, variables } }));
  return { socket, messages, next };
}

it('drops a stalled subscriber with an error; the server and other clients go on', async () => {
  // A chain of short delays: many small commits over about a second, each a few events.
  // The run's big input stops at `strip`, so that the steps stay small.
  const nodes = [
    { id: 't', type: 'trigger' },
    { id: 'strip', type: 'transform', params: { expression: '"small"' } },
    ...Array.from({ length: chainLength }, (_, i) => ({ id: `n${i}`, type: 'delay', params: { ms: 1 } })),
  ];
  const edges = nodes.slice(1).map((node, i) => ({ source: nodes[i]!.id, target: node.id }));
  const workflowId = await createWorkflow(t, key, { nodes, edges });
  // A 100 KB input, read ten times per event by the stalled subscriber: ~1 MB a message fills the
  // socket buffers after a few events, and then the server can send it nothing more.
  const runId = await startRun(t, key, workflowId, { input: { blob: 'x'.repeat(100_000) } });
  const heavy = Array.from({ length: 10 }, (_, i) => `i${i}: input`).join(' ');
  const stalled = await rawSubscriber(
    `subscription ($runId: ID!) { runEvents(runId: $runId) { seq run { ${heavy} } } }`,
    { runId },
  );
  await stalled.next((m) => m.type === 'next');
  stalled.socket.pause();
  // The seq whose publication dropped the stalled subscriber: the pubsub's count moves on that call.
  const pubsub = t.server.services.pubsub.events;
  const publish = pubsub.publish;
  let droppedAt: number | null = null;
  pubsub.publish = (topic, event) => {
    const before = pubsub.droppedCount();
    publish(topic, event);
    if (topic === runId && droppedAt === null && pubsub.droppedCount() > before) droppedAt = event.seq;
  };

  const good = watchRun(t, t.wsClient(key), runId);
  const events = await good.done;
  expect(events.at(-1)?.type).toBe('RUN_SUCCEEDED');
  expect(contiguous(events)).toBe(true);
  expect(events.length).toBeGreaterThan(2 * chainLength);
  expect(events.length).toBeGreaterThan(maxQueue);
  // Only the stalled subscriber was dropped.
  expect(t.server.services.pubsub.events.droppedCount()).toBe(1);

  // The server is fine: queries, health, runs.
  expect((await t.request(Health, {}, key)).data?.nodeTypes.length).toBeGreaterThan(0);
  expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  expect((await t.request(GetRun, { id: runId }, key)).data?.run?.status).toBe('SUCCEEDED');

  // Reading again, the stalled subscriber gets what was on its way, then the error.
  stalled.socket.resume();
  const error = await stalled.next((m) => m.type === 'error' || m.type === 'complete');
  expect(error).toMatchObject({
    id: 's1',
    type: 'error',
    payload: [{ message: expect.stringContaining(`subscriber too slow: more than ${maxQueue} events queued`), extensions: { code: 'SUBSCRIBER_TOO_SLOW' } }],
  });
  pubsub.publish = publish;
  const received = stalled.messages.filter((m) => m.type === 'next');
  expect(received.length).toBeLessThan(events.length);
  const lastReceived = Math.max(...received.map((m) => (m.payload as { data: { runEvents: { seq: number } } }).data.runEvents.seq));
  // Dropped once maxQueue events waited for it past what the sockets took: not before (events the
  // replay already sent do not count), and not at twice the bound (a few more are in flight between
  // the pubsub and the socket).
  expect(droppedAt).not.toBeNull();
  const waiting = droppedAt! - lastReceived - 1;
  expect(waiting).toBeGreaterThanOrEqual(maxQueue);
  expect(waiting).toBeLessThan(maxQueue * 1.5);
  stalled.socket.terminate();
});
