// `footprint`: what `npm start` costs on each database before and after work — spawn → the first 200
// from /health (a first start on a new database, then restarts), the idle RSS a few seconds after, and the
// RSS after 10,000 runs — PGlite (DATA_DIR on disk, the embedded default) beside PostgreSQL in one run.
// Also what loading the TypeScript sources through tsx costs at every start.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi, watchRuns, type Api, type FinishedRun, type RunWatcher } from './client.js';
import { benchDrivers, skippedPostgres, withDatabase } from './databases.js';
import { spawnMain, type MainProcess } from './main-process.js';
import { fmt, median, sleep, smoke, table, verdict } from './stats.js';
import { chainDefinition } from './workflows.js';

const restarts = smoke ? 1 : 3;
const runs = smoke ? 300 : 10_000;
const settleMs = 3_000;
const clients = 24;
const goals = { idleRatio: 1.5, startRatio: 1.5, growth: 0.2 };
/** The defaults, but no limit per API key (the runs come from one key, faster than 1,000/s) and no load shedding (the clients share the cores). */
const env = { PORT: '0', RATE_LIMIT_PER_SECOND: '0', SHED_EVENT_LOOP_DELAY_MS: '0', SHED_HEAP_FRACTION: '0' };

interface Footprint {
  firstStartMs: number;
  startMs: number;
  idleRssMb: number;
  afterRunsRssMb: number;
}

/** Spawns the server and waits for its first 200 from /health; the time is from the spawn. */
async function start(settings: Record<string, string>): Promise<{ server: MainProcess; healthMs: number }> {
  const server = await spawnMain(settings);
  const health = server.url.replace(/\/graphql$/, '/health');
  for (;;) {
    const ok = await fetch(health).then((response) => response.ok, () => false);
    if (ok) return { server, healthMs: Date.now() - server.spawnedAt };
    await sleep(5);
  }
}

async function idleRss(server: MainProcess): Promise<number> {
  await sleep(settleMs);
  return (await server.rss()) / 1_048_576;
}

/** Starts `count` runs of a 2-transform chain from concurrent clients and waits until each is final. */
async function drive(api: Api, watcher: RunWatcher, count: number): Promise<void> {
  const workflowId = await api.createWorkflow('footprint', chainDefinition(2));
  const pending = new Set<string>();
  let done = 0;
  let settle!: (error?: Error) => void;
  const all = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  all.catch(() => undefined);
  const finish = (run: FinishedRun) => {
    if (run.status !== 'SUCCEEDED') settle(new Error(`run ${run.id} ended ${run.status}`));
    else if (++done === count) settle();
  };
  watcher.onFinished = (run) => pending.delete(run.id) && finish(run);
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const id = await api.startRun(workflowId, { i: next++ });
        const early = watcher.finished.get(id);
        if (early) finish(early);
        else pending.add(id);
      }
    }),
  );
  const timer = setTimeout(() => settle(new Error(`only ${done} of ${count} runs final after 300 s`)), 300_000);
  await all.finally(() => clearTimeout(timer));
}

async function measure(database: Record<string, string>): Promise<Footprint> {
  const settings = { ...env, ...database };
  const first = await start(settings);
  await first.server.stop();
  const starts: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < restarts; i++) {
    const { server, healthMs } = await start(settings);
    starts.push(healthMs);
    idle.push(await idleRss(server));
    await server.stop();
  }
  const { server } = await start(settings);
  try {
    const api = createApi(server);
    const watcher = watchRuns(api);
    await watcher.ready();
    await drive(api, watcher, runs);
    await watcher.close();
    return { firstStartMs: first.healthMs, startMs: median(starts), idleRssMb: median(idle), afterRunsRssMb: await idleRss(server) };
  } finally {
    await server.stop();
  }
}

/** spawn → exit of a process that imports Braid's server module through tsx, beside bare Node (median of 3). */
function tsxCost(): { nodeMs: number; tsxMs: number } {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const timed = (args: string[]) => {
    const t0 = performance.now();
    execFileSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    return performance.now() - t0;
  };
  const times = (args: string[]) => median(Array.from({ length: 3 }, () => timed(args)));
  return {
    nodeMs: times(['-e', '']),
    tsxMs: times(['--import', 'tsx', '-e', "await import('./src/server.ts')", '--input-type=module']),
  };
}

export async function benchFootprint() {
  const measured: Partial<Record<'pglite' | 'postgres', Footprint>> = {};
  for (const driver of benchDrivers()) {
    if (driver === 'pglite') {
      const dir = await mkdtemp(join(tmpdir(), 'braid-footprint-'));
      try {
        measured.pglite = await measure({ DATA_DIR: join(dir, 'data') });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      measured.postgres = await withDatabase('postgres', async (spec) => measure({ DATABASE_URL: spec.driver === 'postgres' ? spec.url : '' }));
    }
  }
  const { pglite, postgres } = measured;
  const growth = (f: Footprint) => f.afterRunsRssMb / f.idleRssMb - 1;
  const row = (name: string, f: Footprint | undefined) =>
    f
      ? [name, fmt(f.firstStartMs, 0), fmt(f.startMs, 0), fmt(f.idleRssMb, 0), fmt(f.afterRunsRssMb, 0), `${fmt(growth(f) * 100, 0)} %`, verdict(growth(f) <= goals.growth)]
      : [name, skippedPostgres, '', '', '', '', ''];
  const notes: string[] = [];
  if (pglite && postgres) {
    const idleRatio = pglite.idleRssMb / postgres.idleRssMb;
    const startRatio = pglite.startMs / postgres.startMs;
    notes.push(`PGlite / PostgreSQL: idle RSS ${fmt(idleRatio, 2)}× (≤ ${goals.idleRatio}× — ${verdict(idleRatio <= goals.idleRatio)}), restart → /health ${fmt(startRatio, 2)}× (≤ ${goals.startRatio}× — ${verdict(startRatio <= goals.startRatio)}).`);
  }
  const tsx = tsxCost();
  notes.push(
    `every start loads the TypeScript sources through tsx: spawn → exit of bare Node ${fmt(tsx.nodeMs, 0)} ms, of Node importing src/server.ts through tsx ${fmt(tsx.tsxMs, 0)} ms (median of 3; tsx keeps its transpiled files cached between starts).`,
    `each start is \`node --import tsx src/main.ts\` (what \`npm start\` runs) in dev mode with the default settings but RATE_LIMIT_PER_SECOND=0 and load shedding off (logs at info, read by the bench); PGlite on a new DATA_DIR on disk, PostgreSQL on a new database; first start: its data directory or schema is created; restart: median of ${restarts}.`,
    `idle RSS: the server's /proc VmRSS ${settleMs / 1000} s after /health first answered (median over the restarts); after runs: ${runs.toLocaleString('en-US')} runs of trigger → 2 transforms from ${clients} concurrent clients, every one final, then ${settleMs / 1000} s.`,
  );
  return {
    title: `footprint — npm start: spawn → /health, idle RSS and RSS after ${runs.toLocaleString('en-US')} runs, PGlite on disk beside PostgreSQL`,
    table: table(
      ['database', 'first start → /health ms', 'restart → /health ms', 'idle RSS MB', `RSS after ${runs.toLocaleString('en-US')} runs MB`, 'growth', `≤ ${goals.growth * 100} %`],
      [row('pglite (DATA_DIR on disk)', pglite), row('postgres', postgres)],
    ),
    notes,
  };
}
