// runEvents fills a gap in the live feed from the store: an event lost between the database and this
// process's pubsub (a missed notification, a failed read) still reaches the subscriber, in seq order.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEventRow } from '../../src/db/schema.js';
import { contiguous, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  key = (await t.createOrganization()).adminKey;
});

afterAll(async () => {
  await t?.close();
});

it('a live event that never reaches the pubsub is read from the store when the next one arrives', async () => {
  const workflowId = await createWorkflow(t, key, {
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'a', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.a` } },
      { id: 'b', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.b` } },
    ],
    edges: [
      { source: 't', target: 'a' },
      { source: 'a', target: 'b' },
    ],
  });
  const runId = await startRun(t, key, workflowId);
  const feed = watchRun(t, t.wsClient(key), runId);
  // Live from here on: node a's request is held until the test releases it.
  await feed.until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'a');
  await t.slow.waitForRequest((r) => r.tag === `${runId}.a`);

  // The pubsub loses node a's success (and only it); everything is stored as usual.
  const events = t.server.services.pubsub.events;
  const publish = events.publish;
  const lost: number[] = [];
  events.publish = (topic: string, event: RunEventRow) => {
    if (topic === runId && event.type === 'NODE_SUCCEEDED' && event.nodeId === 'a') lost.push(event.seq);
    else publish(topic, event);
  };
  try {
    t.slow.release(`${runId}.a`);
    await t.slow.waitForRequest((r) => r.tag === `${runId}.b`);
    t.slow.release(`${runId}.b`);
    const received = await feed.done;
    expect(lost).toHaveLength(1);
    expect(received.at(-1)?.type).toBe('RUN_SUCCEEDED');
    expect(contiguous(received)).toBe(true);
    expect(received.find((e) => e.seq === lost[0])).toMatchObject({ type: 'NODE_SUCCEEDED', nodeId: 'a' });
  } finally {
    events.publish = publish;
  }
});
