// The `subscribers` benchmark's client side: graphql-ws subscriptions to runs held at a loopback gate,
// released once every subscription is live; what each received, checked (1…n in order, ending with
// RUN_SUCCEEDED) and measured (receipt − the event's stored `at`, over the events after the gate started).
import type { Client } from 'graphql-ws';
import type { Api } from './client.js';
import type { GateServer } from './gate-server.js';
import { cpuMs } from './server-launch.js';
import { percentile } from './stats.js';

export interface Received {
  seq: number;
  type: string;
  at: string;
  nodeId: string | null;
  /** Wall-clock ms (sub-ms precision) when the client got it. */
  receivedAt: number;
}

export const wallNow = () => performance.timeOrigin + performance.now();
const query = 'subscription($runId: ID!) { runEvents(runId: $runId) { seq type at nodeId } }';
const isGateStart = (e: Pick<Received, 'type' | 'nodeId'>) => e.type === 'NODE_STARTED' && e.nodeId === 'gate';
const waitMs = 300_000;

export function deadline(ms: number, what: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what()} after ${ms} ms`)), ms).unref());
}

/** A close event, an error event or GraphQL errors, as text. */
function describe(error: unknown): string {
  const e = error as { code?: number; reason?: string; message?: string; type?: string };
  return e.code !== undefined || e.message !== undefined ? `${e.type ?? ''} ${e.code ?? ''} ${e.reason ?? ''} ${e.message ?? ''}` : JSON.stringify(error);
}

/** Subscribes `client` to a run's events (or any graphql-ws server's); `onLive` once it saw the gate start. */
export function collect(client: Client, runId: string, onLive: () => void): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    const events: Received[] = [];
    client.subscribe<{ runEvents: Omit<Received, 'receivedAt'> }>(
      { query, variables: { runId } },
      {
        next: ({ data, errors }) => {
          if (!data) return reject(new Error(JSON.stringify(errors)));
          events.push({ ...data.runEvents, receivedAt: wallNow() });
          if (isGateStart(data.runEvents)) onLive();
        },
        error: (error) => reject(error instanceof Error ? error : new Error(`subscription failed: ${describe(error)}`)),
        complete: () => resolve(events),
      },
    );
  });
}

/** Checks and measures what the subscriptions received. */
export function summarize(received: Received[][], expectedEvents?: number) {
  const expected = expectedEvents ?? received[0]!.length;
  let gapless = true;
  const latencies: number[] = [];
  let firstLiveAt = Infinity;
  let lastReceipt = -Infinity;
  for (const events of received) {
    const inOrder = events.every((e, i) => e.seq === i + 1);
    if (events.length !== expected || !inOrder || events.at(-1)?.type !== 'RUN_SUCCEEDED') gapless = false;
    const gateStarted = events.find(isGateStart)?.seq ?? Infinity;
    for (const e of events) {
      if (e.seq <= gateStarted) continue;
      const at = Date.parse(e.at);
      latencies.push(e.receivedAt - at);
      firstLiveAt = Math.min(firstLiveAt, at);
    }
    lastReceipt = Math.max(lastReceipt, events.at(-1)?.receivedAt ?? -Infinity);
  }
  return {
    subscriptions: received.length,
    events: expected,
    gapless,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.reduce((a, b) => Math.max(a, b), -Infinity),
    /** From the first live event's stored `at` to the last subscription's last receipt. */
    spanMs: lastReceipt - firstLiveAt,
  };
}

/**
 * Starts `runs` runs of `workflowId`, subscribes `perRun` subscriptions to each (spread over `clients`,
 * several per client when there are more subscriptions than clients), opens the gate once every
 * subscription is live, and returns what they received with the server's and clients' CPU use and the
 * server's RSS growth while the subscriptions were idle at the gate.
 */
export async function watchRuns(api: Api, clients: Client[], workflowId: string, gate: GateServer, runs = 1, perRun = clients.length) {
  const rss0 = await (api.server.rssAfterGc ?? api.server.rss)();
  const runIds = await Promise.all(Array.from({ length: runs }, () => api.startRun(workflowId, null)));
  const total = runs * perRun;
  let live = 0;
  let allLive!: () => void;
  const everyoneLive = new Promise<void>((resolve) => (allLive = resolve));
  const onLive = () => ++live === total && allLive();
  // Subscription j goes to client j / (total / clients) and run j mod runs: each client's are distinct runs.
  const perClient = Math.ceil(total / clients.length);
  const streams = Promise.all(
    Array.from({ length: total }, (_, j) => collect(clients[Math.floor(j / perClient)]!, runIds[j % runs]!, onLive)),
  );
  await Promise.race([everyoneLive, streams, deadline(waitMs, () => `only ${live} of ${total} subscriptions live`)]);
  const rssIdle = (await (api.server.rssAfterGc ?? api.server.rss)()) - rss0;

  const [serverCpu0, clientCpu0, t0] = [await api.server.cpuMs(), cpuMs(), performance.now()];
  gate.release();
  const received = await Promise.race([streams, deadline(waitMs, () => 'subscriptions not complete')]);
  const wall = performance.now() - t0;
  const serverCpu = (100 * ((await api.server.cpuMs()) - serverCpu0)) / wall;
  const clientCpu = (100 * (cpuMs() - clientCpu0)) / wall;
  return { ...summarize(received), serverCpu, clientCpu, rssPerSubscription: rssIdle / total, received };
}

export type Watched = Awaited<ReturnType<typeof watchRuns>>;
