// The real server as a child process (`node --import tsx src/main.ts`, what `npm start` runs) for fault
// tests: start it on a storage of the test file's own, kill it for real, start it again on the same data;
// and a small GraphQL client (fetch, graphql-ws) that talks to it as any client would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.js';

export const childAdminToken = 'child-admin-token-0123456789';

const root = fileURLToPath(new URL('../../', import.meta.url));
const listening = /GraphQL at https?:\/\/[^\s"]+:(\d+)\/graphql/;
const maxOutput = 256 * 1024;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GraphQLResponse<R = Record<string, any>> {
  status: number;
  headers: Headers;
  data: R | null | undefined;
  errors?: GraphQLFormattedError[];
}

/** What a subscription pushed; `done` resolves when the server completes it, rejects on its error. */
export interface Subscription<T> {
  readonly items: T[];
  readonly done: Promise<T[]>;
  /** The first item (already received or to come) matching `predicate`; rejects if it ends first. */
  until(predicate: (item: T) => boolean): Promise<T>;
  dispose(): void;
}

export interface ChildServer {
  /** `http://127.0.0.1:<port>/graphql`. */
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Sends `signal` (SIGKILL by default) to the process; await `exited` for its end. */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the process has exited (whatever the reason). */
  exited: Promise<Exit>;
  /** Everything the process wrote to stdout and stderr so far (the last 256 KiB). */
  output(): string;
  request<R = Record<string, any>>(query: string, variables?: Record<string, unknown>, key?: string): Promise<GraphQLResponse<R>>;
  /** Subscribes over graphql-ws (one socket per key, closed when the process exits). */
  subscribe<T = Record<string, any>>(query: string, variables: Record<string, unknown>, key: string): Subscription<T>;
}

export interface StartOptions {
  /** Storage and settings, e.g. `storage.env` and `{ RUN_LEASE_MS: '2000' }`. */
  env: Record<string, string>;
  /** How long to wait for the listening line (default 60 s). */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
// Last resort: a worker that ends without its afterAll leaves no server behind.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts the server and resolves once it listens; throws with its output if it exits or hangs first. */
export async function startChildServer(options: StartOptions): Promise<ChildServer> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.DATA_DIR;
  // No load shedding: a loaded test machine must not keep a child from taking runs over in time.
  Object.assign(env, { PORT: '0', ADMIN_TOKEN: childAdminToken, HTTP_ALLOW_PRIVATE: '1', SHED_EVENT_LOOP_DELAY_MS: '0', SHED_HEAP_FRACTION: '0' }, options.env);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-maxOutput);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within ${options.timeoutMs ?? 60_000} ms; output:\n${output}`));
    }, options.timeoutMs ?? 60_000);
    const onData = () => {
      const match = listening.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${JSON.stringify(exit)}) before listening; output:\n${output}`));
    });
  });

  const url = `http://127.0.0.1:${port}/graphql`;
  const clients = new Map<string, Client>();
  void exited.then(() => {
    for (const client of clients.values()) void client.dispose();
  });
  const wsClient = (key: string) => {
    let client = clients.get(key);
    if (!client) {
      client = createClient({
        url: url.replace('http:', 'ws:'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${key}` },
        retryAttempts: 0,
      });
      clients.set(key, client);
    }
    return client;
  };

  return {
    url,
    port,
    pid: child.pid!,
    child,
    kill: (signal = 'SIGKILL') => void child.kill(signal),
    exited,
    output: () => output,
    request: (query, variables, key) => graphqlRequest(url, query, variables, key),
    subscribe: (query, variables, key) => subscribe(wsClient(key), query, variables),
  };
}

/** SIGKILLs every child server still running and waits for them to exit; for afterAll. */
export async function stopChildServers(): Promise<void> {
  const children = [...live];
  await Promise.all(
    children.map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

/** POSTs one GraphQL operation; network failures (a killed server) reject as fetch does. */
export async function graphqlRequest<R>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  key?: string,
): Promise<GraphQLResponse<R>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: R | null; errors?: GraphQLFormattedError[] };
  return { status: response.status, headers: response.headers, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
}

function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>): Subscription<T> {
  const items: T[] = [];
  const waiters = new Set<{ predicate: (item: T) => boolean; resolve: (item: T) => void; reject: (error: unknown) => void }>();
  let ended: { error: unknown } | null = null;
  let resolveDone!: (items: T[]) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<T[]>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => {}); // a test that never awaits `done` must not see an unhandled rejection
  const end = (error: unknown) => {
    ended = { error };
    for (const waiter of waiters) waiter.reject(error);
    waiters.clear();
  };

  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next(value) {
        if (value.errors) {
          end(value.errors);
          rejectDone(value.errors);
          return dispose();
        }
        const item = value.data as T;
        items.push(item);
        for (const waiter of waiters) {
          if (!waiter.predicate(item)) continue;
          waiters.delete(waiter);
          waiter.resolve(item);
        }
      },
      error(error) {
        end(error);
        rejectDone(error);
      },
      complete() {
        end(new Error(`subscription completed without a match; got ${JSON.stringify(items)}`));
        resolveDone(items);
      },
    },
  );

  return {
    items,
    done,
    until(predicate) {
      const found = items.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      if (ended) return Promise.reject(ended.error);
      return new Promise<T>((resolve, reject) => waiters.add({ predicate, resolve, reject }));
    },
    dispose,
  };
}

/** Where the child servers of one test file keep their data; `env` goes to `startChildServer`. */
export interface ChildStorage {
  driver: 'pglite' | 'postgres';
  env: Record<string, string>;
  /** The PostgreSQL database, for reading rows the API does not show (e.g. `runs.owner`). */
  database: TestDatabase | undefined;
  /** Deletes the data; stop the servers first (`stopChildServers`). */
  close(): Promise<void>;
}

/** A fresh PostgreSQL database when DATABASE_URL is set, else a new PGlite directory under the tmpdir. */
export async function createChildStorage(): Promise<ChildStorage> {
  if (process.env.DATABASE_URL) {
    const database = await createTestDatabase();
    return { driver: 'postgres', env: { DATABASE_URL: database.url! }, database, close: () => database.close() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'braid-child-'));
  return { driver: 'pglite', env: { DATA_DIR: dir }, database: undefined, close: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A test file's child storage and the loopback target its child servers call, made before its tests and,
 * after them, closed once every child server has stopped. Read `shared.storage` and `shared.target`
 * inside the tests (they are set by then).
 */
export function useChildStorage<T extends { close(): Promise<unknown> }>(startTarget: () => Promise<T>): { storage: ChildStorage; target: T } {
  const shared = {} as { storage: ChildStorage; target: T };
  beforeAll(async () => {
    [shared.storage, shared.target] = await Promise.all([createChildStorage(), startTarget()]);
  });
  afterAll(async () => {
    await stopChildServers();
    await Promise.all([shared.storage?.close(), shared.target?.close()]);
  });
  return shared;
}
