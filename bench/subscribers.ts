// `subscribers`: many graphql-ws clients subscribed to one run's runEvents while it runs a 100-node
// fan-out. Every client must get every event in order with no gap; latency is the event's stored `at`
// to its receipt. Baseline: the same run watched by a single subscriber.
import type { Client } from 'graphql-ws';
import { createApi, wsClient, type Api } from './client.js';
import { withDatabase } from './databases.js';
import { startGateServer, type GateServer } from './gate-server.js';
import { benchEnv, cpuMs, startServerProcess } from './server-launch.js';
import { fmt, median, percentile, smoke, table, verdict } from './stats.js';
import { transformExpression, type Definition } from './workflows.js';

const fanOut = 100;
const maxP99 = 50;
const budgetMs = 150_000;
const waitMs = 120_000;

/** trigger → gate (an http node held by the gate server) → fanOut transforms. */
function gatedFan(gateUrl: string): Definition {
  const ids = Array.from({ length: fanOut }, (_, i) => `t${i}`);
  const expression = transformExpression.replace('$input', '$input.body');
  return {
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'gate', type: 'http', params: { url: gateUrl } },
      ...ids.map((id) => ({ id, type: 'transform', params: { expression } })),
    ],
    edges: [{ source: 'start', target: 'gate' }, ...ids.map((id) => ({ source: 'gate', target: id }))],
    settings: { maxConcurrency: fanOut },
  };
}

interface Received {
  seq: number;
  type: string;
  at: string;
  nodeId: string | null;
  /** Wall-clock ms (sub-ms precision) when the client got it. */
  receivedAt: number;
}

const wallNow = () => performance.timeOrigin + performance.now();
const query = 'subscription($runId: ID!) { runEvents(runId: $runId) { seq type at nodeId } }';
const isGateStart = (e: Pick<Received, 'type' | 'nodeId'>) => e.type === 'NODE_STARTED' && e.nodeId === 'gate';

function deadline(ms: number, what: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what()} after ${ms} ms`)), ms).unref());
}

/** Subscribes `client` to the run's events; `onLive` once it has seen the gate start. */
function collect(client: Client, runId: string, onLive: () => void): Promise<Received[]> {
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
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(events),
      },
    );
  });
}

/**
 * One run watched by every client: they subscribe while it waits at the gate; once each has seen the
 * gate start (so its subscription is live), the gate opens. Checks every client's events are 1…n in
 * order ending with RUN_SUCCEEDED, and measures the latency of the events after the gate started.
 */
async function watchRun(api: Api, clients: Client[], workflowId: string, gate: GateServer) {
  const runId = await api.startRun(workflowId, null);
  let live = 0;
  let allLive!: () => void;
  const everyoneLive = new Promise<void>((resolve) => (allLive = resolve));
  const streams = Promise.all(clients.map((client) => collect(client, runId, () => ++live === clients.length && allLive())));
  await Promise.race([everyoneLive, deadline(waitMs, () => `only ${live} of ${clients.length} subscribers live`)]);

  const [serverCpu0, clientCpu0, t0] = [await api.server.cpuMs(), cpuMs(), performance.now()];
  gate.release();
  const received = await Promise.race([streams, deadline(waitMs, () => 'subscriptions not complete')]);
  const wall = performance.now() - t0;
  const serverCpu = (100 * ((await api.server.cpuMs()) - serverCpu0)) / wall;
  const clientCpu = (100 * (cpuMs() - clientCpu0)) / wall;

  const expected = received[0]!.length;
  let gapless = true;
  const latencies: number[] = [];
  for (const events of received) {
    const inOrder = events.every((e, i) => e.seq === i + 1);
    if (events.length !== expected || !inOrder || events.at(-1)?.type !== 'RUN_SUCCEEDED') gapless = false;
    const gateStarted = events.find(isGateStart)?.seq ?? Infinity;
    for (const e of events) if (e.seq > gateStarted) latencies.push(e.receivedAt - Date.parse(e.at));
  }
  return {
    events: expected,
    gapless,
    serverCpu,
    clientCpu,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.reduce((a, b) => Math.max(a, b), -Infinity),
  };
}

type Watched = Awaited<ReturnType<typeof watchRun>>;

function row(label: string, list: Watched[], withVerdict: boolean): (string | number)[] {
  const mid = (pick: (r: Watched) => number, digits = 1) => fmt(median(list.map(pick)), digits);
  const everyEvent = list.every((r) => r.gapless);
  const p99 = median(list.map((r) => r.p99));
  return [
    label, list[0]!.events, everyEvent ? 'yes' : 'NO', mid((r) => r.p50), fmt(p99), mid((r) => r.max), `≤ ${maxP99}`,
    withVerdict ? verdict(everyEvent && p99 <= maxP99) : '', mid((r) => r.serverCpu, 0), mid((r) => r.clientCpu, 0),
  ];
}

export async function benchSubscribers() {
  const count = Number(process.env.BENCH_SUBSCRIBERS ?? (smoke ? 10 : 1000)); // an override for profiling
  const reps = smoke ? 2 : 3;
  const gate = await startGateServer();
  try {
    return await withDatabase('pglite', async (spec) => {
      const server = await startServerProcess(benchEnv(spec));
      const api = createApi(server);
      const clients = Array.from({ length: count }, () => wsClient(server));
      try {
        const workflowId = await api.createWorkflow('gated-fan', gatedFan(gate.url));
        const one: Watched[] = [];
        const many: Watched[] = [];
        await watchRun(api, clients.slice(0, 1), workflowId, gate); // warms up
        const t0 = performance.now();
        // Bounded in time: past the budget no further repetition starts (the title says how many ran).
        for (let rep = 0; rep < reps && (rep === 0 || performance.now() - t0 < budgetMs); rep++) {
          one.push(await watchRun(api, clients.slice(0, 1), workflowId, gate));
          many.push(await watchRun(api, clients, workflowId, gate));
        }
        return {
          title:
            `subscribers — graphql-ws clients on one run's runEvents during a ${fanOut}-node fan-out (PGlite), ` +
            `median of ${many.length}`,
          table: table(
            [
              'subscribers', 'events per client', 'all, in order, no gap', 'p50 ms', 'p99 ms', 'max ms', 'target p99 ms',
              'verdict', 'server CPU %', 'clients CPU %',
            ],
            [row('1 (baseline)', one, false), row(String(count), many, true)],
          ),
          notes: [
            "latency: receipt time − the event's stored `at`, over the events after the run left the gate (live ones, not replayed).",
            'the run waits at a loopback gate (an http node) until every client has seen the gate start, then fans out.',
            "CPU %: CPU time of the server process / of the bench process (all clients) over the wall time from the gate's " +
              'opening to the last completion (100 % = one core busy): which side the delivery waited on.',
            'the server runs in a child process (its own core); the clients in the bench process. PostgreSQL: not measured ' +
              '(the delivery path is the in-process pubsub, the same on both drivers).',
          ],
        };
      } finally {
        await Promise.all(clients.map((client) => client.dispose()));
        await server.stop();
      }
    });
  } finally {
    await gate.close();
  }
}
