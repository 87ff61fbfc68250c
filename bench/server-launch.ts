// Starts a real Braid server for a benchmark, on 127.0.0.1 and a free port, in dev mode (its ADMIN key
// is the dev key): in this process, or in a child process when its memory or its core must be its own.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { openDb } from '../src/db/client.js';
import { migrateDb } from '../src/db/migrate.js';
import { buildServer, type ServerDeps } from '../src/server.js';
import type { DatabaseSpec } from './databases.js';

export interface BenchServer {
  /** The GraphQL endpoint (http://127.0.0.1:<port>/graphql; ws:// on the same path). */
  url: string;
  /** An ADMIN key of organization "default". */
  key: string;
  /** The server process's resident set size, in bytes. */
  rss(): Promise<number>;
  /** The RSS right after a full garbage collection (what live objects hold), in bytes. */
  rssAfterGc?(): Promise<number>;
  /** CPU time (user + system) the server process has used so far, in ms (in-process: this whole process). */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The environment the benchmarks run the server with: limits raised for 10,000-node definitions, and
 * no limits per API key (throughput sends ~500 runs/s and their watchers with one key, subscribers holds
 * thousands of subscriptions; what the limiter costs is measured on its own in bench/rate-limiter.ts),
 * and no load shedding (a benchmark loads the process on purpose and measures how far it goes).
 */
export function benchEnv(spec: DatabaseSpec): Record<string, string> {
  return {
    PORT: '0',
    DATA_DIR: 'memory://',
    ...(spec.driver === 'postgres' ? { DATABASE_URL: spec.url } : {}),
    HTTP_ALLOW_PRIVATE: 'true',
    MAX_BODY_BYTES: String(64 * 1024 * 1024),
    MAX_DEFINITION_NODES: '20000',
    MAX_DEFINITION_EDGES: '40000',
    MAX_QUERY_COST: '1000000',
    RATE_LIMIT_PER_SECOND: '0',
    MAX_SUBSCRIPTIONS_PER_KEY: '0',
    MAX_SOCKETS_PER_KEY: '0',
    SHED_EVENT_LOOP_DELAY_MS: '0',
    SHED_HEAP_FRACTION: '0',
  };
}

/** Opens the database, migrates it and starts the server in this process. */
export async function startServer(env: Record<string, string>, deps: BenchDeps = {}): Promise<BenchServer> {
  // Quiet (warnings and errors only) unless LOG_LEVEL says otherwise. Not in benchEnv: servers spawned
  // as `src/main.ts` (bench/main-process.ts) are found by their info lines.
  const config = loadConfig({ LOG_LEVEL: process.env.LOG_LEVEL || 'warn', ...env });
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrateDb(database);
  const server = buildServer({ config, database, ...deps });
  const started = await server.start(0, '127.0.0.1');
  if (!started.devApiKey) throw new Error('expected dev mode (no ADMIN_TOKEN) and its key');
  return {
    url: started.url,
    key: started.devApiKey,
    rss: async () => process.memoryUsage().rss,
    rssAfterGc: async () => {
      (globalThis as { gc?: () => void }).gc?.();
      return process.memoryUsage().rss;
    },
    cpuMs: async () => cpuMs(),
    stop: async () => {
      await server.stop();
      await database.close();
    },
  };
}

export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** What a benchmark may choose of the server beyond its environment: the previous paths it compares with. */
export type BenchDeps = Pick<ServerDeps, 'expressionMode' | 'liveDelivery'>;

const childEntry = fileURLToPath(new URL('./server-process.ts', import.meta.url));

/**
 * Starts the server in a child process (bench/server-process.ts, through tsx). With BENCH_CPU_PROF=<dir>
 * the child runs under `node --cpu-prof` and writes its profile there when stopped.
 */
export async function startServerProcess(env: Record<string, string>, deps: BenchDeps = {}): Promise<BenchServer> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = fork(childEntry, [JSON.stringify(env), JSON.stringify(deps)], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let nextId = 0;
  const pending = new Map<number, (usage: { rss: number; cpuMs: number }) => void>();
  const ready = new Promise<{ url: string; key: string }>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'usage') pending.get(message.id)?.(message), pending.delete(message.id);
    });
    void exited.then((code) => reject(new Error(`server process exited (${code}) before it was ready`)));
  });
  const { url, key } = await ready;
  const usage = (gc = false) =>
    new Promise<{ rss: number; cpuMs: number }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ type: 'usage', id, gc });
    });
  return {
    url,
    key,
    rss: async () => (await usage()).rss,
    rssAfterGc: async () => (await usage(true)).rss,
    cpuMs: async () => (await usage()).cpuMs,
    stop: async () => {
      if (child.exitCode === null) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`server process exited with ${code}`);
    },
  };
}

/** What the child process reports (bench/server-process.ts). */
export type ChildMessage = { type: 'ready'; url: string; key: string } | { type: 'usage'; id: number; rss: number; cpuMs: number };
