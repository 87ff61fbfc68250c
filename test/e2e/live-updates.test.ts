// runUpdates through live groups: graphql-ws and SSE subscribers of the same operation and variables
// share one group (one execution per update) and receive the same payloads; another workflow filter is
// a group of its own and hears nothing of this workflow's runs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorkflow, startRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let organizationId: string;

beforeAll(async () => {
  t = await startTestServer();
  ({ adminKey: key, id: organizationId } = await t.createOrganization());
});

afterAll(async () => {
  await t?.close();
});

const query = 'subscription Updates($w: ID) { runUpdates(workflowId: $w) { id status workflow { id } } }';
const definition = {
  nodes: [{ id: 'start', type: 'trigger' }, { id: 'a', type: 'transform', params: { expression: '1' } }],
  edges: [{ source: 'start', target: 'a' }],
};
type Update = { data: { runUpdates: { id: string; status: string } } };

/** An SSE subscription read as it streams: `until` resolves once a payload matches. */
function sse(variables: Record<string, unknown>) {
  const payloads: Update[] = [];
  const waiters: { match(u: Update): boolean; resolve(): void }[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const decoder = new TextDecoder();
    let text = '';
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const message = text.slice(0, end);
        text = text.slice(end + 2);
        const data = /^event: next\ndata: (.*)$/s.exec(message)?.[1];
        if (!data) continue;
        const update = JSON.parse(data) as Update;
        payloads.push(update);
        for (const waiter of [...waiters]) if (waiter.match(update)) waiters.splice(waiters.indexOf(waiter), 1), waiter.resolve();
      }
    }
  })().catch(() => {});
  return {
    payloads,
    until: (match: (u: Update) => boolean) =>
      payloads.some(match) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve })),
    close: () => controller.abort(),
  };
}

it('graphql-ws and SSE subscribers of one operation share a group and get the same updates', async () => {
  const workflowId = await createWorkflow(t, key, definition);
  const otherId = await createWorkflow(t, key, definition);
  const ws1 = t.subscribe<Update['data'], { w: string }>(t.wsClient(key), query, { w: workflowId });
  const ws2 = t.subscribe<Update['data'], { w: string }>(t.wsClient(key), query, { w: workflowId });
  const other = t.subscribe<Update['data'], { w: string }>(t.wsClient(key), query, { w: otherId });
  const stream = sse({ w: workflowId });
  try {
    // The four subscriptions joined their groups once the server serves their streams.
    while (t.server.services.streams.open < 4) await new Promise((resolve) => setImmediate(resolve));
    expect(t.server.services.pubsub.runs.subscriberCount(organizationId)).toBe(2);
    const ended = (id: string) => (u: Update['data']) => u.runUpdates.id === id && u.runUpdates.status === 'SUCCEEDED';

    const runId = await startRun(t, key, workflowId);
    await Promise.all([ws1.until(ended(runId)), ws2.until(ended(runId)), stream.until((u) => ended(runId)(u.data))]);
    const of = (list: Update['data'][]) => list.filter((u) => u.runUpdates.id === runId);
    const statuses = of(ws1.items).map((u) => u.runUpdates.status);
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    expect(statuses).toContain('RUNNING');
    expect(of(ws2.items)).toEqual(of(ws1.items));
    expect(of(stream.payloads.map((p) => p.data))).toEqual(of(ws1.items));
    expect(ws1.items.every((u) => (u.runUpdates as unknown as { workflow: { id: string } }).workflow.id === workflowId)).toBe(true);
    expect(other.items.map((u) => u.runUpdates.id)).not.toContain(runId);
  } finally {
    ws1.dispose();
    ws2.dispose();
    other.dispose();
    stream.close();
  }
});
