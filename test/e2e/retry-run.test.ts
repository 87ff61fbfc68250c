// retryRun: a FAILED run runs again as the same run, from where it stopped — only what failed (and what
// it cancelled) runs again, counted at the receiving server; succeeded steps keep their outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { contiguous, GetRun, runToEnd, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RetryRun = graphql(`
  mutation RetryRun($id: ID!) {
    retryRun(id: $id) {
      __typename
      ... on Run { id status retries }
      ... on ValidationError { message issues { path message } }
      ... on Error { message }
    }
  }
`);

let t: TestServer;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  key = (await t.createOrganization()).adminKey;
});
afterAll(() => t?.close());

describe('retryRun', () => {
  it('reruns only the failed branch, reuses succeeded outputs, and continues the events gapless', async () => {
    const { slow } = t;
    const count = (tag: string) => slow.requests.filter((r) => r.tag === tag).length;
    // b answers 503 once per key; its key is its own (fixed across the retry), so the retry succeeds.
    const definition = {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'a', type: 'http', params: { url: `${slow.url}/slow?ms=0&tag={{ $run.id }}.a` } },
        { id: 'd', type: 'delay', params: { ms: 150 } },
        {
          id: 'b',
          type: 'http',
          params: { url: `${slow.url}/flaky?fail=1&tag={{ $run.id }}.b`, headers: { 'Idempotency-Key': '{{ $run.id }}.b' } },
        },
        { id: 'm', type: 'merge', params: { mode: 'ALL' } },
        { id: 'c', type: 'http', params: { url: `${slow.url}/slow?ms=0&tag={{ $run.id }}.c` } },
      ],
      edges: [
        { source: 't', target: 'a' },
        { source: 't', target: 'd' },
        { source: 'd', target: 'b' },
        { source: 'a', target: 'm' },
        { source: 'b', target: 'm' },
        { source: 'm', target: 'c' },
      ],
    };
    const client = t.wsClient(key);
    const first = await runToEnd(t, key, client, definition);
    const runId = first.runId;
    expect(first.run.status).toBe('FAILED');
    const before = new Map(first.run.steps.map((s) => [s.nodeId, s]));
    expect([...before].map(([id, s]) => `${id}:${s.status}`).sort()).toEqual(['a:SUCCEEDED', 'b:FAILED', 'c:CANCELLED', 'd:SUCCEEDED', 'm:CANCELLED', 't:SUCCEEDED']);

    const retried = await t.request(RetryRun, { id: runId }, key);
    expect(retried.data?.retryRun).toEqual({ __typename: 'Run', id: runId, status: 'RUNNING', retries: 1 });
    const events = await watchRun(t, client, runId, first.events.length).done;
    expect(events[0]).toMatchObject({ seq: first.events.length + 1, type: 'RUN_RETRIED', status: 'RUNNING' });
    expect(contiguous(events, first.events.length + 1)).toBe(true);
    expect(events.at(-1)?.type).toBe('RUN_SUCCEEDED');
    // Only what failed or was cancelled ran again.
    expect(events.filter((e) => e.type === 'NODE_STARTED').map((e) => e.nodeId).sort()).toEqual(['b', 'c', 'm']);
    expect([count(`${runId}.a`), count(`${runId}.b`), count(`${runId}.c`)]).toEqual([1, 2, 1]);
    expect(slow.requests.find((r) => r.tag === `${runId}.c`)?.idempotencyKey).toBe(`${runId}:c:1`);

    const after = (await t.request(GetRun, { id: runId }, key)).data!.run!;
    expect(after).toMatchObject({ status: 'SUCCEEDED', error: null });
    const steps = new Map(after.steps.map((s) => [s.nodeId, s]));
    for (const id of ['t', 'a', 'd']) expect(steps.get(id), id).toEqual(before.get(id));
    // The merge saw a's stored output.
    expect(steps.get('m')?.output).toMatchObject({ a: before.get('a')!.output });
  });

  it('refuses a run that is not FAILED or CANCELLED, and ids of other organizations', async () => {
    const client = t.wsClient(key);
    const done = await runToEnd(t, key, client, { nodes: [{ id: 't', type: 'trigger' }], edges: [] });
    expect(done.run.status).toBe('SUCCEEDED');
    const refused = await t.request(RetryRun, { id: done.runId }, key);
    expect(refused.data?.retryRun).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ path: ['id'], message: 'only a FAILED or CANCELLED run can be retried; this one is SUCCEEDED' }],
    });
    const other = (await t.createOrganization()).adminKey;
    expect((await t.request(RetryRun, { id: done.runId }, other)).data?.retryRun).toMatchObject({ __typename: 'NotFoundError' });
    const viewer = await t.createKey(key, 'VIEWER');
    expect((await t.request(RetryRun, { id: done.runId }, viewer)).errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });
});
