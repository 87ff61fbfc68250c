// GET /metrics from a real server: Prometheus text behind METRICS_TOKEN, run counters that match the
// runs a test made (succeeded, failed, cancelled), step durations per node type and status, and the
// active runs and subscriptions gauges.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from '../helpers/graphql-post.js';
import { startObservedServer, type ObservedServer } from '../helpers/observed-server.js';

const token = 'metrics-token-7d1c';

const fanOut = {
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'a', type: 'transform', params: { expression: '$input.n * 2' } },
    { id: 'b', type: 'transform', params: { expression: '$input.n + 1' } },
  ],
  edges: [
    { source: 'start', target: 'a' },
    { source: 'start', target: 'b' },
  ],
};
const failing = {
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'boom', type: 'fail', params: { message: 'on purpose' } },
  ],
  edges: [{ source: 'start', target: 'boom' }],
};
const waiting = {
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'wait', type: 'delay', params: { ms: 600_000 } },
  ],
  edges: [{ source: 'start', target: 'wait' }],
};

let t: ObservedServer;
let key: string;

beforeAll(async () => {
  t = await startObservedServer({ metricsToken: token });
  key = await t.createKey();
});

afterAll(async () => {
  await t?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of the sample `name{labels}` (labels as Prometheus writes them), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((each) => each.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `series` has `value` (the gauges follow what the server does, not a test's clock). */
async function until(series: string, value: number): Promise<void> {
  for (;;) {
    if (sample(await scrape(), series) === value) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GET /metrics', () => {
  it('answers 401 without the METRICS_TOKEN, and Prometheus text with it', async () => {
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: token }, { authorization: `Bearer ${token}x` }];
    for (const headers of refused) {
      const response = await fetch(`${t.baseUrl}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain('braid_');
    }
    const text = await scrape();
    for (const name of [
      'braid_runs_started_total',
      'braid_runs_finished_total',
      'braid_runs_active',
      'braid_node_duration_seconds',
      'braid_event_delivery_seconds',
      'braid_subscriptions_active',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('# TYPE braid_node_duration_seconds histogram');
    expect(text).toContain('# TYPE braid_event_delivery_seconds histogram');
  });

  it('counts the runs started and finished by status, and the steps by node type and status', async () => {
    const before = await scrape();
    const started0 = sample(before, 'braid_runs_started_total')!;
    const finished0 = (status: string) => sample(before, `braid_runs_finished_total{status="${status}"}`)!;
    expect(started0).toBe(0);

    const fanOutId = await t.createWorkflow(key, fanOut);
    for (const n of [1, 2]) await t.finished(await t.startRun(key, fanOutId, { n }));
    await t.finished(await t.startRun(key, await t.createWorkflow(key, failing)));
    const waitingRun = await t.startRun(key, await t.createWorkflow(key, waiting));
    await until('braid_runs_active', 1);
    const cancelled = await postGraphql(`${t.baseUrl}/graphql`, key, 'mutation ($id: ID!) { cancelRun(id: $id) { ... on Run { status } } }', {
      id: waitingRun,
    });
    expect(cancelled.data?.cancelRun).toEqual({ status: 'CANCELLED' });
    await t.finished(waitingRun);

    const after = await scrape();
    expect(sample(after, 'braid_runs_started_total')).toBe(started0 + 4);
    expect(sample(after, 'braid_runs_finished_total{status="SUCCEEDED"}')).toBe(finished0('SUCCEEDED') + 2);
    expect(sample(after, 'braid_runs_finished_total{status="FAILED"}')).toBe(finished0('FAILED') + 1);
    expect(sample(after, 'braid_runs_finished_total{status="CANCELLED"}')).toBe(finished0('CANCELLED') + 1);
    expect(sample(after, 'braid_runs_active')).toBe(0);
    // Two runs of two transforms each; every trigger ran; one fail node failed; the delay was cancelled.
    expect(sample(after, 'braid_node_duration_seconds_count{type="transform",status="SUCCEEDED"}')).toBe(4);
    expect(sample(after, 'braid_node_duration_seconds_count{type="trigger",status="SUCCEEDED"}')).toBe(4);
    expect(sample(after, 'braid_node_duration_seconds_count{type="fail",status="FAILED"}')).toBe(1);
    expect(sample(after, 'braid_node_duration_seconds_count{type="delay",status="CANCELLED"}')).toBe(1);
    expect(sample(after, 'braid_node_duration_seconds_bucket{le="+Inf",type="transform",status="SUCCEEDED"}')).toBe(4);
    // Buckets are cumulative: the delay's bucket past its running time holds it, +Inf too.
    const delayBuckets = after.split('\n').filter((line) => line.startsWith('braid_node_duration_seconds_bucket{') && line.includes('type="delay"'));
    expect(delayBuckets.length).toBe(16);
    const counts = delayBuckets.map((line) => Number(line.split(' ')[1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(1);
  });

  it("times event deliveries from the event's commit", async () => {
    const before = sample(await scrape(), 'braid_event_delivery_seconds_count') ?? 0;
    // What the live delivery reports for an event made 50 ms before it was written to a socket.
    t.server.metrics.eventDelivered(new Date(Date.now() - 50));
    const text = await scrape();
    expect(sample(text, 'braid_event_delivery_seconds_count')).toBe(before + 1);
    expect(sample(text, 'braid_event_delivery_seconds_bucket{le="0.025"}')).toBe(0);
    expect(sample(text, 'braid_event_delivery_seconds_bucket{le="+Inf"}')).toBe(before + 1);
    expect(sample(text, 'braid_event_delivery_seconds_sum')).toBeGreaterThanOrEqual(0.05);
  });

  it('counts each live event written to a subscriber, not the replayed ones', async () => {
    const runId = await t.startRun(key, await t.createWorkflow(key, waiting));
    // Every event up to the delay's start is stored before the subscription: they are replayed.
    const waitStatus = async () => {
      const read = await postGraphql(`${t.baseUrl}/graphql`, key, 'query ($id: ID!) { run(id: $id) { steps { nodeId status } } }', { id: runId });
      return (read.data as { run: { steps: { nodeId: string; status: string }[] } }).run.steps.find((step) => step.nodeId === 'wait')?.status;
    };
    await expect.poll(waitStatus, { timeout: 30_000 }).toBe('RUNNING');
    const before = sample(await scrape(), 'braid_event_delivery_seconds_count') ?? 0;
    const client = createClient({ url: `ws://127.0.0.1:${t.port}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
    const seen: string[] = [];
    let replayed = 0;
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe<{ runEvents: { type: string } }>(
        { query: 'subscription ($runId: ID!) { runEvents(runId: $runId, afterSeq: 0) { type } }', variables: { runId } },
        {
          next: ({ data }) => {
            seen.push(data!.runEvents.type);
            // The delay's NODE_STARTED is the last event stored before the cancel.
            if (data!.runEvents.type === 'NODE_STARTED' && seen.filter((type) => type === 'NODE_STARTED').length === 2) {
              replayed = seen.length;
              void postGraphql(`${t.baseUrl}/graphql`, key, 'mutation ($id: ID!) { cancelRun(id: $id) { __typename } }', { id: runId });
            }
          },
          error: reject,
          complete: resolve,
        },
      ),
    );
    await done;
    await client.dispose();
    expect(seen.at(-1)).toBe('RUN_CANCELLED');
    // The events stored before the subscription were replayed from the store: not deliveries of live events.
    expect(sample(await scrape(), 'braid_event_delivery_seconds_count')).toBe(before + seen.length - replayed);
  });

  it('counts the subscriptions being served', async () => {
    await until('braid_subscriptions_active', 0);
    const client = createClient({
      url: `ws://127.0.0.1:${t.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    const unsubscribe = [1, 2].map(() =>
      client.subscribe({ query: 'subscription { runUpdates { id status } }' }, { next: () => {}, error: () => {}, complete: () => {} }),
    );
    await until('braid_subscriptions_active', 2);
    for (const each of unsubscribe) each();
    await until('braid_subscriptions_active', 0);
    await client.dispose();
  });
});
