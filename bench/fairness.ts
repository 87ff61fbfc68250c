// `fairness`: one organization floods the server with 5,000 runs (each an http call answered after
// 100 ms) while another starts one run a second; what the second one's runs wait before their node
// runs (start latency, from its startRun request to its http request arriving), with no limits and
// with the flooding organization at maxConcurrentRuns 50, in one run. Then what routing runs through
// the claim query costs: small runs from 24 clients with no limit (the fast path: claimed by the insert)
// and with an organization limit that holds nothing back (every run claimed by the dispatcher).
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FairnessServerMessage } from './fairness-server.js';
import { createApi, watchRuns, type Api } from './client.js';
import { benchDrivers, withDatabase, type DatabaseSpec } from './databases.js';
import { benchEnv, type BenchServer } from './server-launch.js';
import { fmt, median, percentile, smoke, table, verdict } from './stats.js';
import { chainDefinition } from './workflows.js';

const floodRuns = smoke ? 200 : 5000;
const floodLimit = 50;
/** The RUN_CAPACITY of the third case: runs beyond it wait for room, in the fair order. */
const capacity = 100;
const floodNodeMs = 100;
const clients = 24;
const throughputRuns = smoke ? 50 : 1000;

interface FairServer {
  flood: Api;
  steady: Api;
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/** The server with its two organizations, in a child process of its own (bench/fairness-server.ts). */
async function startFairServer(spec: DatabaseSpec, extra: Record<string, string> = {}): Promise<FairServer> {
  // Both organizations call one loopback host: its per-host limit raised, as if they called hosts of their own.
  const env = { ...benchEnv(spec), HTTP_HOST_CONCURRENCY: '100000', ...extra };
  const child = fork(fileURLToPath(new URL('./fairness-server.ts', import.meta.url)), [JSON.stringify(env)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const pending = new Map<number, (cpuMs: number) => void>();
  let nextId = 0;
  const ready = new Promise<{ url: string; keys: { flood: string; steady: string } }>((resolve, reject) => {
    child.on('message', (message: FairnessServerMessage) => {
      if (message.type === 'ready') resolve(message);
      else pending.get(message.id)?.(message.cpuMs), pending.delete(message.id);
    });
    void exited.then((code) => reject(new Error(`fairness server exited (${code}) before it was ready`)));
  });
  const { url, keys } = await ready;
  const cpuMs = () =>
    new Promise<number>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ type: 'usage', id });
    });
  const stop = async () => {
    if (child.exitCode === null) child.send({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const as = (key: string): BenchServer => ({ url, key, rss: async () => 0, cpuMs, stop });
  return { flood: createApi(as(keys.flood)), steady: createApi(as(keys.steady)), cpuMs, stop };
}

/** The http target: `/slow` answers after floodNodeMs, `/steady?i=N` records when run N's node arrived. */
async function startTarget() {
  const arrivals = new Map<number, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/steady') arrivals.set(Number(url.searchParams.get('i')), performance.now());
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (url.pathname === '/slow') setTimeout(answer, floodNodeMs);
    else answer();
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, arrivals, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

const httpWorkflow = (url: string) => ({
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'call', type: 'http', params: { url, timeoutMs: 120_000 } },
  ],
  edges: [{ source: 'start', target: 'call' }],
});

const setLimit = (api: Api, maxConcurrentRuns: number | null) =>
  api.query(`mutation ($n: Int) { updateOrganizationLimits(input: { maxConcurrentRuns: $n }) { __typename } }`, { n: maxConcurrentRuns });

interface Latency {
  samples: number[];
  floodSeconds: number;
}

/** How the flood is held: not at all, by its organization's maxConcurrentRuns, or by the process's RUN_CAPACITY. */
type Mode = 'none' | 'limit' | 'capacity';

/** The flood, and the steady organization's runs (one a second) until the flood's runs are all final. */
async function floodScenario(spec: DatabaseSpec, mode: Mode): Promise<Latency> {
  const target = await startTarget();
  const server = await startFairServer(spec, mode === 'capacity' ? { RUN_CAPACITY: String(capacity) } : {});
  try {
    if (mode === 'limit') await setLimit(server.flood, floodLimit);
    const floodWorkflow = await server.flood.createWorkflow('flood', httpWorkflow(`${target.base}/slow`));
    const steadyWorkflow = await server.steady.createWorkflow('steady', httpWorkflow(`${target.base}/steady?i={{ $run.input.i }}`));
    const watcher = watchRuns(server.flood);
    await watcher.ready();
    let floodDone = 0;
    let failed = 0;
    let allFinal!: () => void;
    const finished = new Promise<void>((resolve) => (allFinal = resolve));
    watcher.onFinished = (run) => {
      if (run.status !== 'SUCCEEDED') failed++;
      if (++floodDone === floodRuns) allFinal();
    };
    const t0 = performance.now();
    let next = 0;
    const submitted = Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < floodRuns) await server.flood.startRun(floodWorkflow, { i: next++ });
      }),
    );
    // The steady organization: one run a second from the flood's start until its last run is final.
    const sentAt = new Map<number, number>();
    let stopSteady = false;
    const steady = (async () => {
      for (let i = 0; !stopSteady; i++) {
        sentAt.set(i, performance.now());
        await server.steady.startRun(steadyWorkflow, { i });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, sentAt.get(i)! + 1000 - performance.now())));
      }
    })();
    const timeout = setTimeout(() => allFinal(), 100_000);
    await submitted;
    await finished;
    clearTimeout(timeout);
    const floodSeconds = (performance.now() - t0) / 1000;
    stopSteady = true;
    await steady;
    await new Promise((resolve) => setTimeout(resolve, 500)); // the last steady run's node
    await watcher.close();
    const samples = [...sentAt].flatMap(([i, at]) => {
      const arrived = target.arrivals.get(i);
      return arrived === undefined ? [] : [arrived - at];
    });
    if (floodDone < floodRuns) throw new Error(`only ${floodDone} of ${floodRuns} flood runs final after 100 s`);
    if (failed > 0) throw new Error(`${failed} flood runs did not succeed`);
    return { samples, floodSeconds };
  } finally {
    await server.stop();
    await target.close();
  }
}

/** Small runs from 24 clients; runs/s counted to the last final update, and the server's CPU per run. */
async function throughput(api: Api, cpuMs: () => Promise<number>, workflowId: string, runs: number) {
  const watcher = watchRuns(api);
  await watcher.ready();
  const waiting = new Set<string>();
  let done = 0;
  let last = 0;
  let settle!: () => void;
  const all = new Promise<void>((resolve) => (settle = resolve));
  const finish = (at: number) => {
    last = Math.max(last, at);
    if (++done === runs) settle();
  };
  watcher.onFinished = (run) => {
    if (waiting.delete(run.id)) finish(run.receivedAt);
  };
  const cpu0 = await cpuMs();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < runs) {
        next++;
        const id = await api.startRun(workflowId, { i: next });
        const early = watcher.finished.get(id);
        if (early) finish(early.receivedAt);
        else waiting.add(id);
      }
    }),
  );
  const timer = setTimeout(settle, 60_000);
  await all;
  clearTimeout(timer);
  await watcher.close();
  if (done < runs) throw new Error(`only ${done} of ${runs} runs final after 60 s`);
  return { perSecond: runs / ((last - t0) / 1000), cpuPerRun: ((await cpuMs()) - cpu0) / runs };
}

/** The same small runs with no limit and under an organization limit that holds nothing back, alternating. */
async function throughputScenario(spec: DatabaseSpec) {
  const server = await startFairServer(spec);
  try {
    const definition = chainDefinition(2);
    const [off, on] = [server.steady, server.flood];
    await setLimit(on, 100_000);
    const workflows = { off: await off.createWorkflow('small', definition), on: await on.createWorkflow('small', definition) };
    await throughput(off, server.cpuMs, workflows.off, Math.min(200, throughputRuns)); // warms up both paths
    await throughput(on, server.cpuMs, workflows.on, Math.min(200, throughputRuns));
    const results = { off: [] as { perSecond: number; cpuPerRun: number }[], on: [] as { perSecond: number; cpuPerRun: number }[] };
    for (let rep = 0; rep < (smoke ? 1 : 2); rep++) {
      results.off.push(await throughput(off, server.cpuMs, workflows.off, throughputRuns));
      results.on.push(await throughput(on, server.cpuMs, workflows.on, throughputRuns));
    }
    const pick = (list: { perSecond: number; cpuPerRun: number }[]) => ({
      perSecond: median(list.map((m) => m.perSecond)),
      cpuPerRun: median(list.map((m) => m.cpuPerRun)),
    });
    return { off: pick(results.off), on: pick(results.on) };
  } finally {
    await server.stop();
  }
}

export async function benchFairness() {
  const latencyRows: (string | number)[][] = [];
  const throughputRows: (string | number)[][] = [];
  for (const driver of benchDrivers()) {
    const base = await withDatabase(driver, (spec) => floodScenario(spec, 'none'));
    const fair = await withDatabase(driver, (spec) => floodScenario(spec, 'limit'));
    const full = await withDatabase(driver, (spec) => floodScenario(spec, 'capacity'));
    const cases = [
      ['no limits', base],
      [`maxConcurrentRuns ${floodLimit}`, fair],
      [`no limits, RUN_CAPACITY ${capacity}`, full],
    ] as const;
    for (const [name, m] of cases) {
      latencyRows.push([
        driver, name, m.samples.length, fmt(median(m.samples), 0), fmt(percentile(m.samples, 99), 0), fmt(Math.max(...m.samples), 0), fmt(m.floodSeconds, 1),
      ]);
    }
    const t = await withDatabase(driver, throughputScenario);
    const ratio = t.on.perSecond / t.off.perSecond;
    throughputRows.push([
      driver, throughputRuns, fmt(t.off.perSecond, 0), fmt(t.on.perSecond, 0), fmt(ratio, 2), verdict(ratio >= 0.9),
      fmt(t.off.cpuPerRun, 2), fmt(t.on.cpuPerRun, 2),
    ]);
  }
  return {
    title: `fairness — a steady organization's start latency while another floods ${floodRuns} runs, without and with a run limit`,
    table: table(['database', 'flooding organization', 'steady runs', 'start p50 (ms)', 'start p99 (ms)', 'max (ms)', 'flood took (s)'], latencyRows),
    notes: [
      `the flood: ${floodRuns} runs (trigger → http answered after ${floodNodeMs} ms by a loopback server in the bench process) started by ${clients} client loops as fast as the server answers; the steady organization starts one run of the same shape a second, from the flood's start until its last run is final. Start latency: from the steady run's startRun request to its http request arriving at the loopback server (so it includes the insert, the claim and the engine's first node start).`,
      `RUN_CAPACITY ${capacity}: no limit, but the process drives at most ${capacity} runs; the rest wait QUEUED and are claimed as runs end, the organizations taking turns (the steady organization, holding no slot, goes next).`,
      `the server is \`src/server.ts\` in a child process (bench/fairness-server.ts), a fresh database per case, RUN_CAPACITY at its default (10,000): with no limits the flood's runs all start at once. Both organizations' nodes call the same loopback host, so HTTP_HOST_CONCURRENCY is raised to 100,000 (as if each called hosts of its own; the per-host limit is another mechanism, measured elsewhere).`,
    ],
    more: [
      {
        title: `fairness — what the claim path costs: ${throughputRuns} small runs from ${clients} clients, no limit vs an organization limit that holds nothing back`,
        table: table(['database', 'runs', 'no limit (runs/s)', 'limit on (runs/s)', 'ratio', '≥ 0.9', 'CPU/run off (ms)', 'CPU/run on (ms)'], throughputRows),
        notes: [
          'no limit: startRun inserts the run already claimed by its process (the fast path); limit on (maxConcurrentRuns 100,000): the run is inserted unclaimed and the dispatcher claims it through the fair-share claim query (priority, turns between organizations, the limits), one transaction per batch. Same server, the two organizations alternating, median of 2 after a warm-up of each.',
        ],
      },
    ],
  };
}
