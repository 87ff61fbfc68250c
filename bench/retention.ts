// `retention`: small runs (trigger → transform → transform) started through GraphQL by concurrent clients
// while the server's retention deletes a backlog of finished runs past RUN_RETENTION_HOURS, against the
// same server on a copy of the same database with RUN_RETENTION_HOURS=0 (nothing swept), side by side in
// one run; /health latency meanwhile; PGlite's data directory (and its WAL) before and after the sweep.
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDb } from '../src/db/client.js';
import { migrateDb } from '../src/db/migrate.js';
import { insertOldRuns } from '../test/helpers/old-runs.js';
import { createApi, watchRuns, type Api, type RunWatcher } from './client.js';
import { benchDrivers, withDatabase, type DatabaseSpec } from './databases.js';
import { benchEnv, startServerProcess } from './server-launch.js';
import { fmt, percentile, sleep, smoke, table } from './stats.js';
import { chainDefinition } from './workflows.js';

const clients = 24;
const backlogRuns = smoke ? 5_000 : 50_000;
const hour = 3_600_000;

/** Bytes under `dir`, recursively. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const mb = (bytes: number) => fmt(bytes / 1024 / 1024, 1);

/** The backlog: finished runs of an organization of their own, finished 800 h ago (past the 720 h default). */
async function fillBacklog(spec: { dataDir: string } | { url: string }): Promise<void> {
  const database = await openDb('url' in spec ? { databaseUrl: spec.url, dataDir: 'memory://' } : { dataDir: spec.dataDir });
  try {
    await migrateDb(database);
    await database.rows(sql`insert into organizations (id, name) values ('org_backlog', 'backlog')`);
    await database.rows(sql`insert into workflows (id, organization_id, name, version) values ('wf_backlog', 'org_backlog', 'backlog', 1)`);
    const finishedAt = new Date(Date.now() - 800 * hour);
    for (let done = 0; done < backlogRuns; done += 10_000) {
      const count = Math.min(10_000, backlogRuns - done);
      await insertOldRuns(database, { prefix: `old${done / 10_000}_`, count, organizationId: 'org_backlog', workflowId: 'wf_backlog', finishedAt });
    }
    await database.rows(sql`analyze`);
    if (database.driver === 'pglite') await database.rows(sql`checkpoint`);
  } finally {
    await database.close();
  }
}

const metric = async (api: Api, name: string) => {
  const text = await (await fetch(api.server.url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
};

interface Window {
  runs: number;
  seconds: number;
  runsPerSecond: number;
  healthP99: number;
  healthMax: number;
  deleted: number;
}

/**
 * Starts runs from the concurrent clients until `done()` (checked between runs), each counted when its
 * final update arrives; /health is timed every 100 ms meanwhile.
 */
async function window(api: Api, watcher: RunWatcher, workflowId: string, done: () => boolean): Promise<Omit<Window, 'deleted'>> {
  const health: number[] = [];
  let sampling = true;
  const base = api.server.url.replace(/\/graphql$/, '');
  const sampler = (async () => {
    while (sampling) {
      const t0 = performance.now();
      await fetch(`${base}/health`).then((r) => r.arrayBuffer());
      health.push(performance.now() - t0);
      await sleep(100);
    }
  })();
  const ids: string[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!done()) ids.push(await api.startRun(workflowId, { i: ids.length }));
    }),
  );
  if (ids.length === 0) throw new Error('no run was started in the window');
  const finals = await Promise.all(ids.map((id) => watcher.waitFor(id, 120_000)));
  const seconds = (Math.max(...finals.map((run) => run.receivedAt)) - t0) / 1000;
  sampling = false;
  await sampler;
  const failed = finals.filter((run) => run.status !== 'SUCCEEDED');
  if (failed.length) throw new Error(`${failed.length} runs did not succeed`);
  return { runs: ids.length, seconds, runsPerSecond: ids.length / seconds, healthP99: percentile(health, 99), healthMax: Math.max(...health) };
}

/** One side: a server on `spec` with `hours`; the window lasts until the backlog is gone (sweeping) or `seconds`. */
async function side(spec: DatabaseSpec & { dataDir?: string }, hours: number, seconds: number | undefined) {
  const env = { ...benchEnv(spec), ...(spec.dataDir ? { DATA_DIR: spec.dataDir } : {}), RUN_RETENTION_HOURS: String(hours), LOG_LEVEL: 'warn' };
  const t0 = performance.now();
  const server = await startServerProcess(env);
  const api = createApi(server);
  const watcher = watchRuns(api);
  try {
    const workflowId = await api.createWorkflow('small', chainDefinition(2));
    await watcher.ready();
    const sweeping = hours > 0;
    // The window starts once the sweep deleted its first batch.
    const waitUntil = performance.now() + 60_000;
    while (sweeping && !((await metric(api, 'braid_runs_deleted_total')) > 0) && performance.now() < waitUntil) await sleep(20);
    const deletedAtStart = await metric(api, 'braid_runs_deleted_total');
    let deleted = deletedAtStart;
    let checking = false;
    const started = performance.now();
    const done = () => {
      if (!sweeping) return performance.now() - started >= seconds! * 1000;
      if (!checking) {
        checking = true;
        void metric(api, 'braid_runs_deleted_total').then((n) => ((deleted = n), (checking = false)));
      }
      const elapsed = performance.now() - started;
      return (deleted >= backlogRuns && elapsed > 1000) || elapsed > 60_000;
    };
    const measured = await window(api, watcher, workflowId, done);
    const stored = await metric(api, 'braid_runs_stored');
    return { ...measured, deleted: (await metric(api, 'braid_runs_deleted_total')) - (sweeping ? 0 : deletedAtStart), stored, totalSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await watcher.close();
    await server.stop();
  }
}

async function pgliteSides() {
  const root = await mkdtemp(join(tmpdir(), 'braid-bench-retention-'));
  try {
    const swept = join(root, 'swept');
    const kept = join(root, 'kept');
    const filled = performance.now();
    await fillBacklog({ dataDir: swept });
    const fillSeconds = (performance.now() - filled) / 1000;
    await cp(swept, kept, { recursive: true });
    const before = { dir: await sizeOf(swept), wal: await sizeOf(join(swept, 'pg_wal')) };
    const sweepSide = await side({ driver: 'pglite', dataDir: swept }, 720, undefined);
    const after = { dir: await sizeOf(swept), wal: await sizeOf(join(swept, 'pg_wal')) };
    const keepSide = await side({ driver: 'pglite', dataDir: kept }, 0, sweepSide.seconds);
    const keptAfter = { dir: await sizeOf(kept), wal: await sizeOf(join(kept, 'pg_wal')) };
    return { sweepSide, keepSide, before, after, keptAfter, fillSeconds };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function postgresSides() {
  return withDatabase('postgres', (sweptSpec) =>
    withDatabase('postgres', async (keptSpec) => {
      if (sweptSpec.driver !== 'postgres' || keptSpec.driver !== 'postgres') throw new Error('expected PostgreSQL');
      await Promise.all([fillBacklog({ url: sweptSpec.url }), fillBacklog({ url: keptSpec.url })]);
      const sweepSide = await side(sweptSpec, 720, undefined);
      const keepSide = await side(keptSpec, 0, sweepSide.seconds);
      return { sweepSide, keepSide };
    }),
  );
}

type Side = Awaited<ReturnType<typeof side>>;
const row = (driver: string, label: string, m: Side) => [
  driver, label, m.runs, fmt(m.seconds, 1), fmt(m.runsPerSecond, 0), fmt(m.healthP99, 1), fmt(m.healthMax, 1), m.deleted, Number.isNaN(m.stored) ? '—' : m.stored,
];

export async function benchRetention() {
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const drivers = benchDrivers();
  if (drivers.includes('pglite')) {
    const p = await pgliteSides();
    rows.push(row('pglite', 'sweeping (RUN_RETENTION_HOURS=720)', p.sweepSide), row('pglite', 'not sweeping (0)', p.keepSide));
    rows.at(-1)!.push(`${fmt(p.sweepSide.runsPerSecond / p.keepSide.runsPerSecond, 2)}× runs/s while sweeping`);
    notes.push(
      `PGlite data directory: ${mb(p.before.dir)} MB (WAL ${mb(p.before.wal)} MB) with the backlog → ${mb(p.after.dir)} MB (WAL ${mb(p.after.wal)} MB) after the sweep, its VACUUM (ANALYZE) and CHECKPOINT and the window's runs; the copy not swept: ${mb(p.keptAfter.dir)} MB (WAL ${mb(p.keptAfter.wal)} MB) after its runs.`,
      `backlog: ${backlogRuns} finished runs (2 steps, 1 branch, 6 events each) inserted with set-based INSERTs in ${fmt(p.fillSeconds, 1)} s, then copied for the side that does not sweep.`,
    );
  }
  if (drivers.includes('postgres')) {
    const p = await postgresSides();
    rows.push(row('postgres', 'sweeping (RUN_RETENTION_HOURS=720)', p.sweepSide), row('postgres', 'not sweeping (0)', p.keepSide));
    rows.at(-1)!.push(`${fmt(p.sweepSide.runsPerSecond / p.keepSide.runsPerSecond, 2)}× runs/s while sweeping`);
  }
  return {
    title: `retention — ${clients} clients starting small runs while ${backlogRuns} finished runs are deleted (batches of 500, a pause at least as long as each statement), against the same server not sweeping`,
    table: table(['database', 'server', 'runs', 'window s', 'runs/s', '/health p99 ms', '/health max ms', 'runs deleted by the sweep', 'braid_runs_stored after', 'vs'], rows),
    notes: [
      'each side is `node --import tsx` of the server in a child process (LOG_LEVEL=warn) on its own copy of the same database; the sweeping side\'s window starts when its first batch is deleted and ends once the whole backlog is gone (the sweep at start, after listen), the other side runs for as long; runs counted when their final runUpdates message arrives, every one checked SUCCEEDED.',
      ...notes,
    ],
  };
}
