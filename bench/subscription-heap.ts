// `node --expose-gc --import tsx bench/subscription-heap.ts`: what an idle graphql-ws subscription costs
// the server — heap used and RSS after full collections, with N subscriptions to runs waiting at a gate,
// minus the same server with the sockets connected, the runs waiting and nothing subscribed — 1 and 10 subscriptions per
// socket, median of BENCH_REPS (3). The server runs in a child process (its heap is its own), from each
// source tree of BENCH_TREES ("label=path,…"; default this checkout), side by side in one run.
// BENCH_SNAPSHOT_DIR=<dir>: one more 1-per-socket round per tree with heap snapshots before and after
// subscribing, summarized by bench/heap-diff.ts (new objects by constructor, per subscription).
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from 'graphql-ws';
import { createApi } from './client.js';
import { growthTable, heapGrowth } from './heap-diff.js';
import { benchEnv, type BenchServer } from './server-launch.js';
import { fmt, median, table } from './stats.js';
import { connectClients } from './subscribers.js';
import { collect, deadline, summarize } from './subscribers-watch.js';
import type { HeapReply, HeapRequest } from './subscription-heap-server.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const subscriptions = Number(process.env.BENCH_SUBSCRIPTIONS ?? 1000);
const reps = Number(process.env.BENCH_REPS ?? 3);
const trees = (process.env.BENCH_TREES ?? `this checkout=${join(here, '..')}`).split(',').map((entry) => {
  const [label, path] = entry.split('=');
  if (!label || !path) throw new Error(`BENCH_TREES: expected label=path, got "${entry}"`);
  return { label, path };
});
const snapshotDir = process.env.BENCH_SNAPSHOT_DIR;
const goalKb = 20;

interface HeapServer {
  url: string;
  key: string;
  measure(): Promise<{ heapUsed: number; rss: number; external: number }>;
  snapshot(file: string): Promise<string>;
  stop(): Promise<void>;
}

async function startHeapServer(tree: string): Promise<HeapServer> {
  const child = fork(join(here, 'subscription-heap-server.ts'), [tree, JSON.stringify(benchEnv({ driver: 'pglite' }))], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const pending = new Map<number, (reply: HeapReply) => void>();
  let nextId = 0;
  const ready = new Promise<{ url: string; key: string }>((resolve, reject) => {
    child.on('message', (reply: HeapReply) => {
      if (reply.type === 'ready') resolve(reply);
      else pending.get(reply.id)?.(reply), pending.delete(reply.id);
    });
    void exited.then((code) => reject(new Error(`heap server (${tree}) exited (${code}) before it was ready`)));
  });
  const { url, key } = await ready;
  const ask = <R extends HeapReply>(request: HeapRequest & { id: number }) =>
    new Promise<R>((resolve) => {
      pending.set(request.id, resolve as (reply: HeapReply) => void);
      child.send(request);
    });
  return {
    url,
    key,
    measure: async () => ask<Extract<HeapReply, { type: 'measured' }>>({ type: 'measure', id: nextId++ }),
    snapshot: async (file) => (await ask<Extract<HeapReply, { type: 'written' }>>({ type: 'snapshot', id: nextId++, file })).file,
    stop: async () => {
      child.send({ type: 'stop' } satisfies HeapRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`heap server (${tree}) exited with ${code}`);
    },
  };
}

/** A loopback HTTP server holding every request until `release()`, that tells when `n` are held. */
async function startGate() {
  const held: (() => void)[] = [];
  let waiter: { n: number; resolve(): void } | null = null;
  const server = createServer((_req, res) => {
    held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"i":0}'));
    if (waiter && held.length >= waiter.n) waiter.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`,
    /** Resolves once `n` requests are held (runs waiting at the gate). */
    held: (n: number) => new Promise<void>((resolve) => (held.length >= n ? resolve() : (waiter = { n, resolve }))),
    release: () => held.splice(0).forEach((answer) => answer()),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
type GateServer = Awaited<ReturnType<typeof startGate>>;

/** trigger → gate (held by the gate server) → one transform. */
function gatedRun(gateUrl: string) {
  return {
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'gate', type: 'http', params: { url: gateUrl } },
      { id: 'after', type: 'transform', params: { expression: '{ "done": true }' } },
    ],
    edges: [{ source: 'start', target: 'gate' }, { source: 'gate', target: 'after' }],
  };
}

/**
 * Subscribes `perSocket` subscriptions on each client to `runs` runs (a client's are distinct runs),
 * calls `idle` once every subscription saw its run reach the gate, then opens the gate and checks every
 * subscription got all its events in order and completed.
 */
async function idleAtGate(runIds: string[], clients: Client[], gate: GateServer, perSocket: number, idle: () => Promise<void>) {
  const runs = runIds.length;
  const total = clients.length * perSocket;
  let live = 0;
  let allLive!: () => void;
  const everyoneLive = new Promise<void>((resolve) => (allLive = resolve));
  const streams = Promise.all(
    Array.from({ length: total }, (_, j) => collect(clients[Math.floor(j / perSocket)]!, runIds[j % runs]!, () => ++live === total && allLive())),
  );
  await Promise.race([everyoneLive, streams, deadline(300_000, () => `only ${live} of ${total} subscriptions live`)]);
  await idle();
  gate.release();
  const received = await Promise.race([streams, deadline(300_000, () => 'subscriptions not complete')]);
  if (!summarize(received).gapless) throw new Error('a subscription missed events or did not end with RUN_SUCCEEDED');
}

interface Measured {
  heapPerSub: number;
  rssPerSub: number;
  heapPerSocket: number;
  rssPerSocket: number;
}

/** One fresh server of `tree`: `subscriptions` idle subscriptions, `perSocket` per socket. */
async function measureOnce(tree: string, gate: GateServer, perSocket: number, snapshots?: { before: string; after: string }): Promise<Measured> {
  const server = await startHeapServer(tree);
  const api = createApi({ url: server.url, key: server.key } as BenchServer);
  const sockets = subscriptions / perSocket;
  let clients: Client[] = [];
  try {
    const workflowId = await api.createWorkflow('gated', gatedRun(gate.url));
    const empty = await server.measure();
    clients = await connectClients(server.url, sockets, server.key);
    // A first subscription warms up what every later one shares (parse and validation caches, code).
    const startRuns = async (n: number) => {
      const runIds = await Promise.all(Array.from({ length: n }, () => api.startRun(workflowId, null)));
      await gate.held(n);
      return runIds;
    };
    await idleAtGate(await startRuns(1), clients.slice(0, 1), gate, 1, async () => {});
    // The runs wait at the gate before the baseline: what they hold is not the subscriptions'.
    const runIds = await startRuns(perSocket);
    const connected = await server.measure();
    if (snapshots) await server.snapshot(snapshots.before);
    let subscribed = connected;
    await idleAtGate(runIds, clients, gate, perSocket, async () => {
      subscribed = await server.measure();
      if (snapshots) await server.snapshot(snapshots.after);
    });
    return {
      heapPerSub: (subscribed.heapUsed - connected.heapUsed) / subscriptions,
      rssPerSub: (subscribed.rss - connected.rss) / subscriptions,
      heapPerSocket: (connected.heapUsed - empty.heapUsed) / sockets,
      rssPerSocket: (connected.rss - empty.rss) / sockets,
    };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await server.stop();
  }
}

const kb = (bytes: number) => fmt(bytes / 1024, 1);
const gate = await startGate();
try {
  const cases = [1, 10];
  const results = new Map<string, Measured[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const perSocket of cases) {
      for (const tree of trees) {
        const key = `${tree.label} ${perSocket}`;
        const measured = await measureOnce(tree.path, gate, perSocket);
        results.set(key, [...(results.get(key) ?? []), measured]);
        console.error(`rep ${rep + 1}/${reps}, ${perSocket} per socket, ${tree.label}: heap ${kb(measured.heapPerSub)} KB, RSS ${kb(measured.rssPerSub)} KB per subscription`);
      }
    }
  }
  const rows = reps === 0 ? [] : cases.flatMap((perSocket) =>
    trees.map((tree) => {
      const list = results.get(`${tree.label} ${perSocket}`)!;
      const mid = (pick: (m: Measured) => number) => median(list.map(pick));
      const rss = mid((m) => m.rssPerSub);
      return [
        `${perSocket} per socket (${subscriptions / perSocket} sockets, ${perSocket === 1 ? 1 : perSocket} run${perSocket === 1 ? '' : 's'})`,
        tree.label, kb(mid((m) => m.heapPerSub)), list.map((m) => kb(m.heapPerSub)).join(' / '), kb(rss), list.map((m) => kb(m.rssPerSub)).join(' / '),
        `≤ ${goalKb}`, rss / 1024 <= goalKb ? 'PASS' : 'MISS', kb(mid((m) => m.heapPerSocket)), kb(mid((m) => m.rssPerSocket)),
      ];
    }),
  );
  console.log(`## subscription memory — ${subscriptions} idle graphql-ws subscriptions (runs waiting at a gate), server in its own process, PGlite, median of ${reps}\n`);
  console.log(table(['subscriptions', 'tree', 'heap KB each (median)', 'heap runs', 'RSS KB each (median)', 'RSS runs', 'goal RSS', 'verdict', 'heap KB per socket', 'RSS KB per socket'], rows));
  console.log('\n- per subscription: after subscribing (each saw its run reach the gate) minus before (sockets connected, the runs waiting at the gate, one subscription done as a warm-up), after full GCs, / subscriptions.');
  console.log('- per socket: with the sockets connected minus before connecting them, / sockets.');

  if (snapshotDir) {
    mkdirSync(snapshotDir, { recursive: true });
    for (const tree of trees) {
      const name = tree.label.replace(/\W+/g, '-');
      const files = { before: join(snapshotDir, `${name}-before.heapsnapshot`), after: join(snapshotDir, `${name}-after.heapsnapshot`) };
      await measureOnce(tree.path, gate, 1, files);
      console.log(`\n### ${tree.label}: objects new after ${subscriptions} subscriptions (1 per socket), per subscription\n`);
      console.log(growthTable(heapGrowth(files.before, files.after), subscriptions, 30));
    }
  }
} finally {
  await gate.close();
}
