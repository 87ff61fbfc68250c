// cancelRun stops the engine, not only the rows: the running node's request is aborted at the target,
// and the nodes after it never send theirs (CONTRACT §3.8).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CancelRun, GetRun, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;

beforeAll(async () => {
  // A lease that is not renewed during the test: a run finalized under an engine still driving it is
  // noticed at the next renewal (the epoch moved on), and that must not be what stops it here.
  t = await startTestServer({ runLeaseMs: 3_600_000 });
  key = (await t.createOrganization()).adminKey;
});

afterAll(async () => {
  await t?.close();
});

const held = (tag: string) => `${t.slow.url}/hold?tag={{ $run.id }}.${tag}`;

it('aborts the in-flight request of a cancelled run; its next nodes send nothing', async () => {
  const workflowId = await createWorkflow(t, key, {
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'a', type: 'http', params: { url: held('a') } },
      { id: 'b', type: 'http', params: { url: held('b') } },
      { id: 'c', type: 'http', params: { url: held('c') } },
    ],
    edges: [
      { source: 't', target: 'a' },
      { source: 'a', target: 'b' },
      { source: 'a', target: 'c' },
    ],
  });
  const runId = await startRun(t, key, workflowId);
  const inFlight = await t.slow.waitForRequest((r) => r.tag === `${runId}.a`);
  const feed = watchRun(t, t.wsClient(key), runId);

  const cancelled = await t.request(CancelRun, { id: runId }, key);
  expect(cancelled.data?.cancelRun).toMatchObject({ __typename: 'Run', status: 'CANCELLED' });
  // The target sees the connection of node a's request closed before any answer.
  await expect.poll(() => inFlight.aborted, { timeout: 10_000 }).toBe(true);
  expect(inFlight.status).toBeNull();

  // Were node a still running somewhere, its answer would now let b and c start.
  t.slow.release(`${runId}.a`);
  const events = await feed.done;
  // The run and its final event say why.
  expect(events.at(-1)).toMatchObject({ type: 'RUN_CANCELLED', error: 'cancelled by request', reason: 'cancelled by request' });
  expect(events.filter((e) => e.type === 'NODE_STARTED').map((e) => e.nodeId)).toEqual(['t', 'a']);

  // Another run through the same engine and target, to its end: by then a live b or c would have called.
  const after = await startRun(t, key, workflowId);
  await t.slow.waitForRequest((r) => r.tag === `${after}.a`);
  t.slow.release(`${after}.a`);
  await t.slow.waitForRequest((r) => r.tag === `${after}.b`);
  t.slow.release(`${after}.b`);
  t.slow.release(`${after}.c`);
  expect((await watchRun(t, t.wsClient(key), after).done).at(-1)?.type).toBe('RUN_SUCCEEDED');

  expect(t.slow.requests.filter((r) => r.tag.startsWith(`${runId}.`)).map((r) => r.tag)).toEqual([`${runId}.a`]);
  const read = await t.request(GetRun, { id: runId }, key);
  expect(read.data?.run).toMatchObject({ status: 'CANCELLED', error: 'cancelled by request' });
  expect(Object.fromEntries(read.data!.run!.steps.map((s) => [s.nodeId, s.status]))).toEqual({
    t: 'SUCCEEDED',
    a: 'CANCELLED',
    b: 'CANCELLED',
    c: 'CANCELLED',
  });
});
