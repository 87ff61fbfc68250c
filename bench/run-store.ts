// `run-store`: the group-commit RunStore against one transaction per commit, on PGlite and (when
// DATABASE_URL is set) PostgreSQL; and a fresh PGlite against one cloned from a migrated template.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDb, type Database } from '../src/db/client.js';
import { migrateDb } from '../src/db/migrate.js';
import type { RunCommit } from '../src/db/run-commit.js';
import { createRunStore } from '../src/db/run-store.js';
import { organizations, runs, workflows } from '../src/db/schema.js';
import { batchRows, writeBatchRows } from '../src/db/write-commits.js';
import { fmt, median, smoke, table } from './stats.js';

type Store = { commit(commit: RunCommit): Promise<void> };

/** One transaction per commit, all issued at once: what the store would be without grouping. */
function perCommitStore(database: Database): Store {
  return { commit: (commit) => database.db.transaction((tx) => writeBatchRows(tx, batchRows([commit]), 8 * 1024 * 1024)) };
}

/** The commits a small run makes: start (3 steps PENDING), each node running then done, then the end. */
function runCommits(runId: string, nodes: number): RunCommit[] {
  const at = new Date();
  let seq = 0;
  const ev = (type: RunCommit['events'][number]['type'], nodeId: string | null, status: string) => ({
    seq: ++seq, runId, type, at, nodeId, branch: '0', status, attempt: nodeId ? 1 : null, error: null, reason: null,
  });
  const step = (nodeId: string, status: RunCommit['steps'][number]['status'], output?: unknown) => ({
    nodeId, nodeType: 'http', status, attempt: 1, branch: '0', startedAt: status === 'PENDING' ? null : at,
    finishedAt: status === 'SUCCEEDED' ? at : null, input: { n: 1 }, output, error: null, reason: null,
    handle: null, retryAt: null, wakeAt: null,
  });
  const ids = Array.from({ length: nodes }, (_, i) => `n${i}`);
  return [
    {
      runId, events: [ev('RUN_STARTED', null, 'RUNNING'), ...ids.map((id) => ev('NODE_STARTED', id, 'RUNNING'))],
      steps: ids.map((id) => step(id, 'RUNNING')), branches: [],
      run: { status: 'RUNNING', startedAt: at, finishedAt: null, output: null, error: null, deadlineAt: null },
    },
    ...ids.map((id) => ({
      runId, events: [ev('NODE_SUCCEEDED', id, 'SUCCEEDED')], steps: [step(id, 'SUCCEEDED', { status: 200, body: { ok: true } })],
      branches: [], run: null,
    })),
    {
      runId, events: [ev('RUN_SUCCEEDED', null, 'SUCCEEDED')], steps: [], branches: [],
      run: { status: 'SUCCEEDED', startedAt: at, finishedAt: at, output: { ok: true }, error: null, deadlineAt: null },
    },
  ];
}

let runCounter = 0;
async function insertRuns(database: Database, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => `bench_${++runCounter}`);
  await database.db.insert(runs).values(
    ids.map((id) => ({ id, organizationId: 'o', workflowId: 'w', workflowVersion: 1, status: 'QUEUED' as const })),
  );
  return ids;
}

/**
 * `burst`: every commit of every run issued at once. `paced`: each run issues its next commit when the
 * previous one resolved (as when nodes finish one after another), all runs at once. Returns commits/s.
 */
async function throughput(database: Database, store: Store, runCount: number, mode: 'burst' | 'paced'): Promise<number> {
  const ids = await insertRuns(database, runCount);
  const plans = ids.map((id) => runCommits(id, 3));
  const total = plans.reduce((n, plan) => n + plan.length, 0);
  const t0 = performance.now();
  if (mode === 'burst') await Promise.all(plans.flat().map((commit) => store.commit(commit)));
  else await Promise.all(plans.map(async (plan) => { for (const commit of plan) await store.commit(commit); }));
  return total / ((performance.now() - t0) / 1000);
}

async function openBenchDatabase(driver: 'pglite' | 'postgres', url: string | undefined) {
  if (driver === 'pglite') {
    const database = await openDb({ dataDir: 'memory://' });
    return { database, drop: async () => database.close() };
  }
  const name = `braid_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url!, { max: 1, onnotice: () => {} });
  await admin`create database ${admin(name)}`;
  const target = new URL(url!);
  target.pathname = `/${name}`;
  const database = await openDb({ databaseUrl: target.toString(), dataDir: 'memory://' });
  return {
    database,
    drop: async () => {
      await database.close();
      await admin`drop database ${admin(name)} with (force)`;
      await admin.end();
    },
  };
}

async function cloneTimes(reps: number): Promise<{ fresh: number; clone: number }> {
  const fresh: number[] = [];
  const clone: number[] = [];
  let template: Blob | undefined;
  for (let rep = 0; rep < reps; rep++) {
    let t0 = performance.now();
    const database = await openDb({ dataDir: 'memory://' });
    fresh.push(performance.now() - t0);
    if (!template && database.driver === 'pglite') {
      await migrateDb(database);
      template = await database.client.dumpDataDir('none');
    }
    await database.close();
    t0 = performance.now();
    const cloned = await openDb({ dataDir: 'memory://', loadDataDir: template });
    clone.push(performance.now() - t0);
    await cloned.close();
  }
  return { fresh: median(fresh), clone: median(clone) };
}

export async function benchRunStore() {
  const reps = smoke ? 1 : 5;
  const runCounts = smoke ? [10] : [10, 100];
  const url = process.env.DATABASE_URL;
  const rows: (string | number)[][] = [];
  for (const driver of url ? (['pglite', 'postgres'] as const) : (['pglite'] as const)) {
    const { database, drop } = await openBenchDatabase(driver, url);
    try {
      await migrateDb(database);
      await database.db.insert(organizations).values({ id: 'o', name: 'bench' });
      await database.db.insert(workflows).values({ id: 'w', organizationId: 'o', name: 'bench', version: 1 });
      for (const runCount of runCounts) {
        for (const mode of ['burst', 'paced'] as const) {
          const grouped: number[] = [];
          const single: number[] = [];
          let transactions = 0;
          for (let rep = -1; rep < reps; rep++) {
            const store = createRunStore(database);
            const g = await throughput(database, store, runCount, mode);
            const s = await throughput(database, perCommitStore(database), runCount, mode);
            if (rep >= 0) grouped.push(g), single.push(s), (transactions = store.stats().transactions); // rep -1 warms up
          }
          const commits = runCount * 5;
          rows.push([
            driver, runCount, mode, fmt(median(grouped), 0), fmt(median(single), 0),
            `${fmt(median(grouped) / median(single))}×`, `${commits} in ${transactions}`,
          ]);
        }
      }
    } finally {
      await drop();
    }
  }
  const { fresh, clone } = await cloneTimes(smoke ? 1 : 3);
  return {
    title: `run-store — group commit vs one transaction per commit, runs of 3 nodes (5 commits each), median of ${reps}`,
    table: table(['driver', 'runs', 'issue', 'grouped commits/s', 'per-commit commits/s', 'ratio', 'commits in transactions'], rows),
    notes: [
      `PGlite in memory: fresh instance ${fmt(fresh, 0)} ms, clone of a migrated template (loadDataDir) ${fmt(clone, 0)} ms (median).`,
      'per-commit: each commit its own transaction, all issued at once (PGlite serialises them; postgres.js spreads them over a pool of 10).',
    ],
  };
}
