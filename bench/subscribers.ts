// `subscribers`: graphql-ws clients on runs' runEvents, through live groups (one execution and one
// serialization per event for all subscribers of an operation) beside the previous path (graphql-ws
// executing, serializing and awaiting a write per event per subscriber): a steady stream (a chain of
// 20 ms delays) to 1,000 subscribers of one run, 10,000 subscriptions over 100 runs, one subscriber on
// PostgreSQL, the server's RSS per idle subscription, and a 408-event burst (a 100-node fan-out) to
// 1,000 subscribers beside a floor: a bare `ws` server sending the same frames to the same clients.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApi, type Api } from './client.js';
import { withDatabase } from './databases.js';
import { startFloorServer } from './floor-server.js';
import { startGateServer, type GateServer } from './gate-server.js';
import { benchEnv, startServerProcess, type BenchDeps, type BenchServer } from './server-launch.js';
import { fmt, median, smoke, table, verdict } from './stats.js';
import { collect, deadline, watchRuns, type Watched } from './subscribers-watch.js';
import { transformExpression, type Definition } from './workflows.js';

const count = Number(process.env.BENCH_SUBSCRIBERS ?? (smoke ? 10 : 1000)); // an override for profiling
const sizes = smoke
  ? { fanOut: 100, chain: 10, runs: 4, perRun: 5, reps: 1 }
  : { fanOut: 100, chain: 100, runs: 100, perRun: 100, reps: 3 };
const goals = { steady: 50, postgres: 20, spread: 100, rssKb: 20, floorRatio: 2 };

/** trigger → gate (an http node held by the gate server) → `then`. */
function gated(gateUrl: string, then: Definition['nodes'], edges: Definition['edges'], maxConcurrency = 1): Definition {
  return {
    nodes: [{ id: 'start', type: 'trigger' }, { id: 'gate', type: 'http', params: { url: gateUrl } }, ...then],
    edges: [{ source: 'start', target: 'gate' }, ...edges],
    settings: { maxConcurrency },
  };
}

/** The burst: the gate, then `fanOut` transforms side by side. */
function gatedFan(gateUrl: string): Definition {
  const ids = Array.from({ length: sizes.fanOut }, (_, i) => `t${i}`);
  const expression = transformExpression.replace('$input', '$input.body');
  const nodes = ids.map((id) => ({ id, type: 'transform', params: { expression } }));
  return gated(gateUrl, nodes, ids.map((id) => ({ source: 'gate', target: id })), sizes.fanOut);
}

/** The steady stream: the gate, then `chain` 20 ms delays in a row. */
function gatedChain(gateUrl: string): Definition {
  const ids = Array.from({ length: sizes.chain }, (_, i) => `d${i}`);
  const nodes = ids.map((id) => ({ id, type: 'delay', params: { ms: 20 } }));
  return gated(gateUrl, nodes, ids.map((id, i) => ({ source: i === 0 ? 'gate' : ids[i - 1]!, target: id })));
}

interface Served {
  server: BenchServer;
  api: Api;
  clients: Client[];
  fan: string;
  chain: string;
  /** Server RSS growth per connected (idle) socket, in bytes. */
  rssPerSocket: number;
}

/**
 * `n` graphql-ws clients of `url`, connected (100 at a time) and kept connected: the measured runs
 * do not include connecting, and no socket closes between them.
 */
export async function connectClients(url: string, n: number, key?: string): Promise<Client[]> {
  const connect = (tries: number): Promise<Client> => {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      ...(key ? { connectionParams: { authorization: `Bearer ${key}` } } : {}),
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    // On a loaded machine a socket may miss graphql-ws's 3 s to initialise: that client tries again.
    return new Promise<Client>((resolve, reject) => {
      let connected = false;
      client.on('connected', () => {
        connected = true;
        resolve(client);
      });
      client.on('closed', (event) => {
        if (connected) return;
        const { code, reason } = event as { code?: number; reason?: string };
        if (tries > 1) void client.dispose(), connect(tries - 1).then(resolve, reject);
        else reject(new Error(`client closed before connecting: ${code} ${reason}`));
      });
    });
  };
  const clients: Client[] = [];
  for (let i = 0; i < n; i += 100) clients.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => connect(5)))));
  return clients;
}

async function serve(url: string | undefined, deps: BenchDeps, gate: GateServer, clients: number): Promise<Served> {
  const server = await startServerProcess(benchEnv(url ? { driver: 'postgres', url } : { driver: 'pglite' }), deps);
  const api = createApi(server);
  const [fan, chain] = [await api.createWorkflow('gated-fan', gatedFan(gate.url)), await api.createWorkflow('gated-chain', gatedChain(gate.url))];
  const rss0 = await server.rssAfterGc!();
  const connected = await connectClients(server.url, clients, server.key);
  const rssPerSocket = ((await server.rssAfterGc!()) - rss0) / clients;
  const served = { server, api, clients: connected, fan, chain, rssPerSocket };
  await watchRuns(api, served.clients.slice(0, 1), chain, gate); // warms up
  return served;
}

async function close(served: Served): Promise<void> {
  await Promise.all(served.clients.map((client) => client.dispose()));
  await served.server.stop();
}

/** The floor: the same clients' decoding of the same frames from a bare ws server. */
async function floor(burst: Watched): Promise<number> {
  const payloads = burst.received[0]!.map(({ receivedAt: _, ...event }) => JSON.stringify({ data: { runEvents: event } }));
  const server = await startFloorServer();
  const clients = await connectClients(server.url, count);
  try {
    const streams = Promise.all(clients.map((client) => collect(client, 'floor', () => {})));
    const startedAt = await server.burst(payloads, count);
    const received = await Promise.race([streams, deadline(120_000, () => 'floor subscriptions not complete')]);
    return Math.max(...received.map((events) => events.at(-1)!.receivedAt)) - startedAt;
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await server.stop();
  }
}

const ms = (n: number) => fmt(n, 1);
const mid = (list: Watched[], pick: (w: Watched) => number) => median(list.map(pick));

/** What failed, for the notes (a case that failed shows "failed" instead of numbers). */
const failures: string[] = [];

function latencyRow(what: string, path: string, list: Watched[], goal: number | null) {
  if (list.length === 0) return [what, path, 'failed', '', '', '', '', '', goal === null ? '—' : `≤ ${goal}`, goal === null ? '' : verdict(false), '', ''];
  const ok = list.every((w) => w.gapless);
  const p99 = mid(list, (w) => w.p99);
  return [
    what, path, list[0]!.subscriptions, list[0]!.events, ok ? 'yes' : 'NO', ms(mid(list, (w) => w.p50)), ms(p99), ms(mid(list, (w) => w.max)),
    goal === null ? '—' : `≤ ${goal}`, goal === null ? '' : verdict(ok && p99 <= goal), fmt(mid(list, (w) => w.serverCpu), 0), fmt(mid(list, (w) => w.clientCpu), 0),
  ];
}

export async function benchSubscribers() {
  const gate = await startGateServer();
  // A repetition that fails (a client cut off on a loaded machine, say) is noted; the other cases go on.
  const repeat = async (times: number, body: () => Promise<Watched>) => {
    const list: Watched[] = [];
    try {
      for (let i = 0; i < times; i++) list.push(await body());
    } catch (error) {
      failures.push(String(error));
    }
    return list;
  };
  try {
    // Live groups (today's server) and the previous path, both on PGlite, started side by side (the
    // previous path is left out of the smoke run: a server less keeps it short).
    const [grouped, previous] = await Promise.all([
      serve(undefined, {}, gate, count),
      smoke ? null : serve(undefined, { liveDelivery: 'per-subscriber' }, gate, count),
    ]);
    const socketKb = [grouped.rssPerSocket / 1024, (previous?.rssPerSocket ?? NaN) / 1024];
    let results;
    try {
      const steady = await repeat(sizes.reps, () => watchRuns(grouped.api, grouped.clients, grouped.chain, gate));
      const single = await repeat(sizes.reps, () => watchRuns(grouped.api, grouped.clients.slice(0, 1), grouped.chain, gate));
      const spread = await repeat(1, () => watchRuns(grouped.api, grouped.clients, grouped.chain, gate, sizes.runs, sizes.perRun));
      const burst = await repeat(sizes.reps, () => watchRuns(grouped.api, grouped.clients, grouped.fan, gate));
      results = { steady, single, spread, burst };
    } finally {
      await close(grouped);
    }
    const floorMs = [];
    try {
      for (let i = 0; i < sizes.reps && results.burst[0]; i++) floorMs.push(await floor(results.burst[0]));
    } catch (error) {
      failures.push(`floor: ${String(error)}`);
    }

    // The previous path: graphql-ws executes and writes per subscriber.
    let old: { steady: Watched[]; burst: Watched[] } | null = null;
    if (previous) {
      try {
        const steady = await repeat(1, () => watchRuns(previous.api, previous.clients, previous.chain, gate));
        const burst = await repeat(1, () => watchRuns(previous.api, previous.clients, previous.fan, gate));
        old = { steady, burst };
      } finally {
        await close(previous);
      }
    }

    // PostgreSQL: one subscriber, and the runs at once (whose commits PGlite serializes on the main thread).
    const postgres = process.env.DATABASE_URL
      ? await withDatabase('postgres', async (spec) => {
          const served = await serve(spec.driver === 'postgres' ? spec.url : undefined, {}, gate, count);
          try {
            const single = await repeat(sizes.reps, () => watchRuns(served.api, served.clients.slice(0, 1), served.chain, gate));
            const spread = await repeat(1, () => watchRuns(served.api, served.clients, served.chain, gate, sizes.runs, sizes.perRun));
            return { single, spread };
          } finally {
            await close(served);
          }
        })
      : null;

    const burstMs = (list: Watched[]) => (list.length ? mid(list, (w) => w.spanMs) : NaN);
    const floorMedian = floorMs.length ? median(floorMs) : NaN;
    const rssKb = (list: Watched[]) => (list.length ? mid(list, (w) => w.rssPerSubscription) / 1024 : NaN);
    const latencyHeaders = ['case', 'path', 'subscriptions', 'events each', 'all, in order, no gap', 'p50 ms', 'p99 ms', 'max ms', 'goal p99 ms', 'verdict', 'server CPU %', 'clients CPU %'];
    const rows = [
      latencyRow(`steady: chain of ${sizes.chain} × 20 ms delays, one run`, 'live groups', results.steady, goals.steady),
      ...(old ? [latencyRow('steady, same', 'per subscriber (previous)', old.steady, null)] : []),
      latencyRow('steady, 1 subscriber', 'live groups', results.single, null),
      latencyRow(`steady, ${sizes.runs} runs at once, ${sizes.perRun} subscriptions each (${Math.ceil((sizes.runs * sizes.perRun) / count)} per socket)`, 'live groups', results.spread, goals.spread),
      ...(postgres ? [latencyRow('steady, 1 subscriber, PostgreSQL', 'live groups', postgres.single, goals.postgres)] : []),
      ...(postgres ? [latencyRow(`steady, ${sizes.runs} runs at once, ${sizes.perRun} subscriptions each, PostgreSQL`, 'live groups', postgres.spread, goals.spread)] : []),
      latencyRow(`burst: ${sizes.fanOut}-node fan-out`, 'live groups', results.burst, null),
      ...(old ? [latencyRow('burst, same', 'per subscriber (previous)', old.burst, null)] : []),
    ];
    const burstRows = [
      ['live groups', count, results.burst[0]?.events ?? 'failed', ms(burstMs(results.burst)), ms(floorMedian), fmt(burstMs(results.burst) / floorMedian, 2), `≤ ${goals.floorRatio}`, verdict(burstMs(results.burst) <= goals.floorRatio * floorMedian)],
      ...(old ? [['per subscriber (previous)', count, old.burst[0]?.events ?? 'failed', ms(burstMs(old.burst)), ms(floorMedian), fmt(burstMs(old.burst) / floorMedian, 2), '', '']] : []),
    ];
    const rssRows = [
      ['a connected socket, no subscription', 'live groups', fmt(socketKb[0]!, 1), '', ''],
      ...(old ? [['a connected socket, no subscription', 'per subscriber (previous)', fmt(socketKb[1]!, 1), '', '']] : []),
      ['1 per socket (idle at the gate)', 'live groups', fmt(rssKb(results.steady.slice(0, 1)), 1), `≤ ${goals.rssKb}`, verdict(rssKb(results.steady.slice(0, 1)) <= goals.rssKb)],
      [`${Math.ceil((sizes.runs * sizes.perRun) / count)} per socket, ${sizes.runs} runs`, 'live groups', fmt(rssKb(results.spread), 1), `≤ ${goals.rssKb}`, verdict(rssKb(results.spread) <= goals.rssKb)],
      ...(old ? [['1 per socket (idle at the gate)', 'per subscriber (previous)', fmt(rssKb(old.steady), 1), '', '']] : []),
    ];
    return {
      title: `subscribers — graphql-ws clients on runEvents, live groups beside per-subscriber execution (PGlite unless said), median of ${sizes.reps}`,
      table: table(latencyHeaders, rows),
      notes: [
        "latency: receipt time − the event's stored `at` (ms precision), over the events after the run left the gate (live ones, not replayed).",
        'every run waits at a loopback gate (an http node) until each subscription has seen the gate start, then goes on.',
        `10,000 sockets from the one bench process: the ${sizes.runs * sizes.perRun} subscriptions share ${count} sockets (graphql-ws multiplexes).`,
        'CPU %: of the server process / of the bench process (all clients) over the gate opening → last completion (100 % = one core).',
        smoke
          ? 'the previous path (per-subscriber execution) is not measured in the smoke run.'
          : 'the previous path (graphql-ws `useServer`, per-subscriber execution) is measured once per case: ServerDeps.liveDelivery `per-subscriber`.',
        ...failures.map((failure) => `failed: ${failure}`),
      ],
      more: [
        {
          title: `subscribers, burst — ${sizes.fanOut}-node fan-out to ${count} subscribers: first live event's \`at\` → the last subscriber's last event, beside the floor`,
          table: table(['path', 'subscribers', 'events each', 'burst ms', 'floor ms', '× floor', 'goal', 'verdict'], burstRows),
          notes: ["floor: a bare `ws` server in a child process sends the same pre-serialized frames (graphql-ws `next` + `complete`) to the same graphql-ws clients; from its first send to the last client's last event. The clients' decoding on these 2 cores is in both."],
        },
        {
          title: 'subscribers, memory — server RSS growth per idle subscription on connected sockets, and per connected socket',
          table: table(['subscriptions', 'path', 'KB each', 'goal', 'verdict'], rssRows),
          notes: ['RSS of the server process (after a forced GC) once every subscription is live and idle at the gate, minus before they subscribed (sockets already connected), / subscriptions; a socket: RSS after connecting the clients minus before, / sockets.'],
        },
      ],
    };
  } finally {
    await gate.close();
  }
}

