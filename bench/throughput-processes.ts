// `throughput` across processes: the same small runs from concurrent clients spread over 1, 2 and 3
// Braid processes (`node --import tsx src/main.ts`) sharing one PostgreSQL; runs/s and the CPU each run
// costs in Braid (all processes) and in PostgreSQL (its processes serving the bench's database).
import postgres from 'postgres';
import { createApi, type Api } from './client.js';
import { withDatabase } from './databases.js';
import { spawnMain, type MainProcess } from './main-process.js';
import { postgresCpu, postgresCpuBetween, procCpuMs } from './proc-usage.js';
import { benchEnv, cpuMs } from './server-launch.js';
import { fmt, median } from './stats.js';
import { chainDefinition } from './workflows.js';

/** One process's share: its API, a workflow of its own and a runUpdates subscription to it. */
interface Lane {
  server: MainProcess;
  api: Api;
  workflowId: string;
  /** performance.now() of each final update, by run id; `onFinal` sees each. */
  finals: Map<string, { status: string; at: number }>;
  onFinal?: (runId: string) => void;
  close(): Promise<void>;
}

/**
 * Subscribes to runUpdates of the lane's workflow on its own process (so each process delivers the
 * updates of the runs it drives) and resolves once a probe run's final update came through.
 */
async function openLane(server: MainProcess, name: string): Promise<Lane> {
  const api = createApi(server);
  const workflowId = await api.createWorkflow(name, chainDefinition(2));
  const client = api.wsClient();
  const lane: Lane = { server, api, workflowId, finals: new Map(), close: async () => (unsubscribe(), await client.dispose()) };
  let failure: unknown;
  const unsubscribe = client.subscribe<{ runUpdates: { id: string; status: string } }>(
    { query: 'subscription($w: ID) { runUpdates(workflowId: $w) { id status } }', variables: { w: workflowId } },
    {
      next: ({ data }) => {
        const run = data?.runUpdates;
        if (!run || !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) return;
        lane.finals.set(run.id, { status: run.status, at: performance.now() });
        lane.onFinal?.(run.id);
      },
      error: (error) => (failure = error),
      complete: () => undefined,
    },
  );
  for (let attempt = 0; attempt < 20; attempt++) {
    if (failure) throw new Error(`runUpdates failed: ${JSON.stringify(failure)}`);
    const probe = await api.startRun(workflowId, { i: attempt });
    for (let waited = 0; waited < 1000 && !lane.finals.has(probe); waited += 50) await new Promise((r) => setTimeout(r, 50));
    if (lane.finals.has(probe)) return lane;
  }
  throw new Error('runUpdates subscription never delivered');
}

/** `runs` runs from `clients` loops, loop j on lane j mod lanes; completed/s to the last final update. */
async function runAll(lanes: Lane[], clients: number, runs: number) {
  let next = 0;
  let done = 0;
  let lastDone = 0;
  let settle!: (error?: Error) => void;
  const allDone = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  allDone.catch(() => undefined); // awaited below
  const waiting = new Set<string>();
  const finish = (lane: Lane, runId: string) => {
    const final = lane.finals.get(runId)!;
    if (final.status !== 'SUCCEEDED') return settle(new Error(`run ${runId} ended ${final.status}`));
    lastDone = Math.max(lastDone, final.at);
    if (++done === runs) settle();
  };
  for (const lane of lanes) lane.onFinal = (runId) => waiting.delete(runId) && finish(lane, runId);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, j) => {
      const lane = lanes[j % lanes.length]!;
      while (next < runs) {
        const id = await lane.api.startRun(lane.workflowId, { i: next++ });
        // A run may end before its startRun answer: then its final update is already there.
        if (lane.finals.has(id)) finish(lane, id);
        else waiting.add(id);
      }
    }),
  );
  const timer = setTimeout(() => settle(new Error(`only ${done} of ${runs} runs final after 120 s`)), 120_000);
  try {
    await allDone;
  } finally {
    clearTimeout(timer);
    for (const lane of lanes) lane.onFinal = undefined;
  }
  return runs / ((lastDone - t0) / 1000);
}

/**
 * Counts the notifications on Braid's events channel (one per run-store transaction, and one per
 * startRun announcing the new run) with a LISTEN of the bench's own.
 */
async function countNotifications(url: string) {
  const counts = { transactions: 0, announcements: 0 };
  const client = postgres(url, { max: 1, onnotice: () => {} });
  const listener = await client.listen('braid_events', (payload) => {
    const { r } = JSON.parse(payload) as { r: [string, number, number, string | null][] };
    // A startRun's announcement carries no events (seqs 0); a store transaction's carry the runs' new events.
    if (r.every(([, , last]) => last === 0)) counts.announcements++;
    else counts.transactions++;
  });
  return {
    counts,
    reset: () => Object.assign(counts, { transactions: 0, announcements: 0 }),
    close: async () => {
      await listener.unlisten();
      await client.end({ timeout: 5 });
    },
  };
}

export interface ProcessesResult {
  processes: number;
  completed: number;
  /** Run-store transactions per run (their NOTIFYs, each delivered to every other process). */
  transactions: number;
  /** CPU ms per run: Braid (sum over its processes), PostgreSQL (for the bench's database), the clients (this process). */
  braid: number;
  /** Braid's CPU ms per run by process (the loaded ones first). */
  perProcess: number[];
  postgres: number;
  clients: number;
}

/**
 * Measures `processes` Braid processes on a fresh PostgreSQL database; medians of `reps`. The clients
 * talk to the first `loaded` processes (all by default); every process has its runUpdates subscriber.
 * Each loaded process first drives `warmUp` runs: a process's CPU per run keeps falling for its first
 * ~1,500 runs (JIT), so a short warm-up would charge more processes for being colder.
 */
export async function measureProcesses(
  processes: number,
  options: { clients: number; runs: number; reps: number; warmUp: number; loaded?: number },
): Promise<ProcessesResult> {
  const { clients, runs, reps } = options;
  return withDatabase('postgres', async (spec) => {
    if (spec.driver !== 'postgres') throw new Error('expected PostgreSQL');
    const database = new URL(spec.url).pathname.slice(1);
    const servers: MainProcess[] = [];
    const lanes: Lane[] = [];
    const notifications = await countNotifications(spec.url);
    try {
      // Started together, as a deployment would: they take turns migrating (an advisory lock).
      const spawned = await Promise.allSettled(Array.from({ length: processes }, () => spawnMain(benchEnv(spec))));
      for (const result of spawned) if (result.status === 'fulfilled') servers.push(result.value);
      for (const result of spawned) if (result.status === 'rejected') throw result.reason;
      for (const [i, server] of servers.entries()) lanes.push(await openLane(server, `small-${i}`));
      const loaded = lanes.slice(0, options.loaded ?? processes);
      await runAll(loaded, clients, options.warmUp * loaded.length);
      const samples: { completed: number; transactions: number; perProcess: number[]; postgres: number; clients: number }[] = [];
      for (let rep = 0; rep < reps; rep++) {
        const braid0 = servers.map((server) => procCpuMs(server.pid));
        const pg0 = postgresCpu(database);
        const bench0 = cpuMs();
        notifications.reset();
        const completed = await runAll(loaded, clients, runs);
        samples.push({
          completed,
          transactions: notifications.counts.transactions / runs,
          clients: (cpuMs() - bench0) / runs,
          // PostgreSQL elsewhere (a container, another host): its processes are not in this /proc.
          postgres: pg0.size > 0 ? postgresCpuBetween(pg0, postgresCpu(database)) / runs : NaN,
          perProcess: servers.map((server, i) => (procCpuMs(server.pid) - braid0[i]!) / runs),
        });
      }
      const mid = (pick: (sample: (typeof samples)[number]) => number) => median(samples.map(pick));
      return {
        processes,
        completed: mid((s) => s.completed),
        transactions: mid((s) => s.transactions),
        braid: mid((s) => s.perProcess.reduce((a, b) => a + b, 0)),
        perProcess: servers.map((_, i) => mid((s) => s.perProcess[i]!)),
        postgres: mid((s) => s.postgres),
        clients: mid((s) => s.clients),
      };
    } finally {
      await Promise.all(lanes.map((lane) => lane.close()));
      await Promise.all(servers.map((server) => server.stop()));
      await notifications.close();
    }
  });
}

/** Runs/s the CPU allows on `cores` cores: all of them busy with Braid and PostgreSQL, each process on at most one. */
export function ceiling(m: ProcessesResult, cores: number): number {
  return Math.min((cores * 1000) / (m.braid + m.postgres), (m.processes * 1000) / m.braid);
}

/** The table's cells for one process count, against the one-process result. */
export function processesRow(m: ProcessesResult, one: ProcessesResult | undefined, runs: number): (string | number)[] {
  const local = !Number.isNaN(m.postgres);
  return [
    m.processes, runs, fmt(m.completed, 0), one ? `${fmt(m.completed / one.completed, 2)}×` : '—', fmt(m.transactions, 2),
    fmt(m.braid, 2), local ? fmt(m.postgres, 2) : 'not local', fmt(m.clients, 2),
    local ? fmt(1000 / (m.braid + m.postgres), 0) : '—', local ? fmt(ceiling(m, 8), 0) : '—',
  ];
}

export const processesHeaders = [
  'Braid processes', 'runs', 'completed runs/s', 'vs 1 process (baseline)', 'store transactions/run', 'Braid CPU ms/run (all processes)',
  'PostgreSQL CPU ms/run', 'clients CPU ms/run', 'ceiling runs/s per core', 'ceiling runs/s on 8 cores',
];
