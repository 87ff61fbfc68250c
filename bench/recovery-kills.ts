// The kills of the recovery benchmark: PGlite — process A SIGKILLed, B spawned at once on the same
// DATA_DIR; PostgreSQL — A SIGKILLed while B (alive all along) takes its runs over once their leases
// expire. Each returns, per run, the times the bench reads from the database and the hold server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDb, type Database } from '../src/db/client.js';
import { createApi } from './client.js';
import { withDatabase } from './databases.js';
import { among, countRows, resumedAt, runningCallsByApi, startHeldRuns, unfinished, untilStored } from './held-runs.js';
import { startHoldServer } from './hold-server.js';
import { spawnMain, type MainProcess } from './main-process.js';
import { benchEnv } from './server-launch.js';

/** RUN_LEASE_MS of the PostgreSQL processes (the default is 10,000). */
export const leaseMs = 2000;
/** RUN_CAPACITY of every process: room for all interrupted runs in one (the default is 1,000). */
export const capacity = 10_000;

/** What one kill measured, per run, in ms. */
export interface Sample {
  /** SIGKILL → RUN_RESUMED (its stored `at`). */
  resumed: number[];
  /** SIGKILL → the run's http call arrived again. */
  calledAgain: number[];
  /** PGlite: spawn of the new process → its listening line; spawn → each RUN_RESUMED; listening → each. */
  listening?: number;
  spawnToResumed?: number[];
  listeningToResumed?: number[];
  /** PostgreSQL: SIGKILL → the dead process's lease on the run expired; that expiry → RUN_RESUMED. */
  leaseLeft?: number[];
  expiryToResumed?: number[];
}

/** A server's log for an error message: each kind of line once, with its count (and one run id of it). */
function digest(output: string): string {
  const kinds = new Map<string, { count: number; example: string }>();
  for (const line of output.split('\n')) {
    const kind = line.replace(/(run|proc)_[\w-]+/g, '$1_…').slice(0, 300);
    const seen = kinds.get(kind);
    if (seen) seen.count++;
    else kinds.set(kind, { count: 1, example: line.slice(0, 300) });
  }
  return [...kinds.values()].map(({ count, example }) => `${count} × ${example}`).join('\n');
}

/** SIGKILLs every process still alive of `started` and waits for them. */
async function reap(started: MainProcess[]): Promise<void> {
  for (const child of started) child.kill('SIGKILL');
  await Promise.all(started.map((child) => child.exited));
}

/** PGlite, one kill: process A holds the runs, SIGKILL, process B spawned at once on the same DATA_DIR. */
async function killAndRestart(dir: string, runs: number): Promise<Sample> {
  const env = { ...benchEnv({ driver: 'pglite' }), DATA_DIR: dir, RUN_CAPACITY: String(capacity) };
  const hold = await startHoldServer();
  const started: MainProcess[] = [];
  try {
    const first = await spawnMain(env);
    started.push(first);
    const api = createApi(first);
    const ids = await startHeldRuns(api, hold, runs);
    await untilStored('calls stored RUNNING before the kill', runs, () => runningCallsByApi(api));

    hold.round();
    const killedAt = Date.now();
    first.kill('SIGKILL');
    await first.exited;
    const second = await spawnMain(env);
    started.push(second);
    await hold.until(runs, 120_000, 'calls sent again after the restart');
    const calledAgain = ids.map((id) => hold.arrivals.get(id)! - killedAt);
    hold.release();
    await second.stop(); // drains: the runs end (their calls are answered now) and every commit is stored

    const database = await openDb({ dataDir: dir });
    try {
      const at = await resumedAt(database, ids);
      const times = ids.map((id) => at.get(id)!);
      return {
        resumed: times.map((t) => t - killedAt),
        calledAgain,
        listening: second.listeningAt - second.spawnedAt,
        spawnToResumed: times.map((t) => t - second.spawnedAt),
        listeningToResumed: times.map((t) => t - second.listeningAt),
      };
    } finally {
      await database.close();
    }
  } finally {
    await reap(started);
    await hold.close();
  }
}

/** PGlite: `reps` kills per size on one DATA_DIR (the runs of a kill have ended before the next). */
export async function pgliteKills(sizes: number[], reps: number): Promise<Map<number, Sample[]>> {
  const dir = await mkdtemp(join(tmpdir(), 'braid-bench-recovery-'));
  try {
    const samples = new Map<number, Sample[]>();
    for (const runs of sizes) for (let rep = 0; rep < reps; rep++) samples.set(runs, [...(samples.get(runs) ?? []), await killAndRestart(dir, runs)]);
    return samples;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** PostgreSQL, one kill: a new process A holds the runs, SIGKILL, B (alive all along) takes them over. */
async function killA(a: MainProcess, database: Database, runs: number): Promise<Sample> {
  const hold = await startHoldServer();
  const started = [a];
  try {
    const ids = await startHeldRuns(createApi(a), hold, runs);
    await untilStored('calls stored RUNNING before the kill', runs, () =>
      countRows(database, sql`select count(*)::int as n from steps where node_id = 'call' and status = 'RUNNING' and run_id in ${among(ids)}`),
    );
    const owners = await database.rows<{ owner: string | null }>(sql`select distinct owner from runs where id in ${among(ids)}`);
    if (owners.length !== 1 || !owners[0]!.owner) throw new Error(`expected every run held by A, found owners ${JSON.stringify(owners)}`);
    const ownerA = owners[0]!.owner;

    hold.round();
    const killedAt = Date.now();
    a.kill('SIGKILL');
    await a.exited;
    // A renews no more, and B claims nothing before the leases expire: these are A's last leases.
    const leases = await database.rows<{ id: string; until: number }>(sql`
      select id, (extract(epoch from lease_until) * 1000)::float8 as until from runs where owner = ${ownerA}`);
    if (leases.length !== runs) throw new Error(`${leases.length} of ${runs} runs still held by A right after its kill`);
    const expiry = new Map(leases.map((row) => [row.id, Math.round(Number(row.until))]));
    await hold.until(runs, 120_000, 'calls sent again from B');
    const calledAgain = ids.map((id) => hold.arrivals.get(id)! - killedAt);
    await untilStored('RUN_RESUMED stored', runs, () =>
      countRows(database, sql`select count(*)::int as n from run_events where type = 'RUN_RESUMED' and run_id in ${among(ids)}`),
    );
    const at = await resumedAt(database, ids);
    const stillA = await countRows(database, sql`select count(*)::int as n from runs where owner = ${ownerA}`);
    if (stillA > 0) throw new Error(`${stillA} runs still owned by the killed process`);
    hold.release();
    await untilStored('runs ended on B', runs, () =>
      countRows(database, sql`select count(*)::int as n from runs where status = 'SUCCEEDED' and id in ${among(ids)}`),
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; not SUCCEEDED: ${JSON.stringify(await unfinished(database, ids))}`);
    });
    return {
      resumed: ids.map((id) => at.get(id)! - killedAt),
      calledAgain,
      leaseLeft: ids.map((id) => expiry.get(id)! - killedAt),
      expiryToResumed: ids.map((id) => at.get(id)! - expiry.get(id)!),
    };
  } finally {
    await reap(started);
    await hold.close();
  }
}

/** PostgreSQL: process B runs throughout; `reps` kills per size of a process A started for each. */
export async function postgresKills(sizes: number[], reps: number): Promise<Map<number, Sample[]>> {
  return withDatabase('postgres', async (spec) => {
    if (spec.driver !== 'postgres') throw new Error('expected PostgreSQL');
    const env = { ...benchEnv(spec), RUN_LEASE_MS: String(leaseMs), RUN_CAPACITY: String(capacity) };
    const database = await openDb({ databaseUrl: spec.url, dataDir: 'memory://', maxConnections: 2 });
    const spawned: MainProcess[] = [];
    try {
      // B and the first A start together (they take turns migrating); each later A after the last kill.
      const first = await Promise.allSettled([spawnMain(env), spawnMain(env)]);
      for (const result of first) if (result.status === 'fulfilled') spawned.push(result.value);
      for (const result of first) if (result.status === 'rejected') throw result.reason;
      const [b, firstA] = spawned as [MainProcess, MainProcess];
      let ready: MainProcess | undefined = firstA;
      const kill = async (runs: number) => {
        let a = ready;
        ready = undefined;
        if (!a) spawned.push((a = await spawnMain(env)));
        return killA(a, database, runs).catch((error: unknown) => {
          throw new Error(`${String(error)}\nB's output:\n${digest(b.output())}`);
        });
      };
      const samples = new Map<number, Sample[]>();
      for (const runs of sizes) for (let rep = 0; rep < reps; rep++) samples.set(runs, [...(samples.get(runs) ?? []), await kill(runs)]);
      await b.stop();
      return samples;
    } finally {
      await reap(spawned);
      await database.close();
    }
  });
}
