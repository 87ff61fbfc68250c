// RUN_CAPACITY: a process drives at most that many runs at once; the others wait QUEUED and start as
// slots free, with no other process to take them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ runCapacity: 2 });
});
afterAll(() => t?.close());

it('runs past the capacity wait QUEUED and all finish, at most two at a time', async () => {
  const { adminKey } = await t.createOrganization();
  const workflowId = await createWorkflow(t, adminKey, {
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'a', type: 'http', params: { url: `${t.slow.url}/slow?ms=150&tag=capacity` } },
    ],
    edges: [{ source: 't', target: 'a' }],
  });
  const runIds = await Promise.all(Array.from({ length: 8 }, () => startRun(t, adminKey, workflowId)));
  const client = t.wsClient(adminKey);
  const ends = await Promise.all(runIds.map((id) => watchRun(t, client, id).done));
  expect(ends.map((events) => events.at(-1)?.type)).toEqual(runIds.map(() => 'RUN_SUCCEEDED'));
  const calls = t.slow.requests.filter((r) => r.tag === "capacity");
  expect(calls).toHaveLength(8);
  // No more than two calls were ever in flight together.
  const overlaps = calls.map((call) => calls.filter((other) => other.startedAt <= call.startedAt && (other.endedAt ?? Infinity) > call.startedAt).length);
  expect(Math.max(...overlaps)).toBeLessThanOrEqual(2);
});
