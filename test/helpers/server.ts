// A real Braid server for end-to-end tests: buildServer on port 0 over a fresh test database, a loopback
// slow HTTP server for http nodes, and clients that talk to it as any client would (fetch, graphql-ws).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { buildServer, type BraidServer, type ServerDeps } from '../../src/server.js';
import { graphql } from '../gql/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startSlowServer, type SlowServer } from './slow-server.js';

export const adminToken = 'test-admin-token-0123456789';
/** The SECRETS_KEY of every test server (override `secretsKey: undefined` for one without). */
export const testSecretsKey = Buffer.alloc(32, 7);

export interface GraphQLResponse<R> {
  status: number;
  data: R | null | undefined;
  errors?: GraphQLFormattedError[];
}

type Document<R, V> = TypedDocumentNode<R, V> | string;

const CreateOrganization = graphql(`
  mutation HelperCreateOrganization($name: String!) {
    createOrganization(name: $name) {
      __typename
      ... on CreateOrganizationPayload { organization { id name } apiKey }
      ... on Error { message }
    }
  }
`);

const CreateApiKey = graphql(`
  mutation HelperCreateApiKey($name: String!, $role: Role!) {
    createApiKey(name: $name, role: $role) {
      __typename
      ... on CreateApiKeyPayload { apiKey key { id role } }
      ... on Error { message }
    }
  }
`);

/** Values pushed by a subscription, with promises for what a test waits on. */
export interface Feed<T> {
  readonly items: T[];
  /** Resolves when the server completes the subscription; rejects with its error. */
  readonly done: Promise<T[]>;
  /** Resolves with the first item (already received or to come) matching `predicate`. */
  until(predicate: (item: T) => boolean): Promise<T>;
  /** Unsubscribes. */
  dispose(): void;
}

export interface TestServer {
  url: string;
  wsUrl: string;
  baseUrl: string;
  slow: SlowServer;
  server: BraidServer;
  database: TestDatabase;
  config: Config;
  request<R, V>(document: Document<R, V>, variables?: V, key?: string | null): Promise<GraphQLResponse<R>>;
  /** A new organization and its ADMIN key. */
  createOrganization(name?: string): Promise<{ id: string; adminKey: string }>;
  /** A key of `role` in the organization of `adminKey`. */
  createKey(adminKey: string, role: 'ADMIN' | 'EDITOR' | 'VIEWER'): Promise<string>;
  /** A graphql-ws client authenticated with `key` (none when null); closed by `close()`. */
  wsClient(key: string | null): Client;
  subscribe<R, V>(client: Client, document: Document<R, V>, variables?: V): Feed<R>;
  close(): Promise<void>;
}

let organizationCounter = 0;

/**
 * Starts everything a test file needs; call `close()` in afterAll. The config is the real defaults
 * (limits per API key included) with `overrides`; a test that needs more raises the limit it exceeds.
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  deps: Pick<ServerDeps, 'rateLimitWindowMs' | 'logger' | 'load'> = {},
): Promise<TestServer> {
  const [database, slow] = await Promise.all([createTestDatabase(), startSlowServer()]);
  const config: Config = {
    ...loadConfig({ ADMIN_TOKEN: adminToken, HTTP_ALLOW_PRIVATE: 'true', PORT: '0', SECRETS_KEY: testSecretsKey.toString('base64') }),
    // A loaded test machine must not make the server shed load; tests of shedding inject their own signal.
    shedEventLoopDelayMs: 0,
    shedHeapFraction: 0,
    ...overrides,
  };
  // Quiet unless LOG_LEVEL asks for lines (a test that reads them passes its own logger).
  const logger = createLogger({ level: loadConfig({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' }).logLevel });
  const server = buildServer({ config, database, logger, ...deps });
  const started = await server.start(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${started.port}`;
  const url = `${baseUrl}/graphql`;
  const wsUrl = `ws://127.0.0.1:${started.port}/graphql`;
  const clients: Client[] = [];

  async function request<R, V>(document: Document<R, V>, variables?: V, key?: string | null): Promise<GraphQLResponse<R>> {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
    });
    const body = (await response.json()) as { data?: R | null; errors?: GraphQLFormattedError[] };
    return { status: response.status, data: body.data, ...(body.errors ? { errors: body.errors } : {}) };
  }

  return {
    url,
    wsUrl,
    baseUrl,
    slow,
    server,
    database,
    config,
    request,
    async createOrganization(name = `org-${++organizationCounter}-${process.pid}`) {
      const result = await request(CreateOrganization, { name }, adminToken);
      const payload = result.data?.createOrganization;
      if (payload?.__typename !== 'CreateOrganizationPayload') {
        throw new Error(`createOrganization failed: ${JSON.stringify(result)}`);
      }
      return { id: payload.organization.id, adminKey: payload.apiKey };
    },
    async createKey(adminKey, role) {
      const result = await request(CreateApiKey, { name: `${role.toLowerCase()} key`, role }, adminKey);
      const payload = result.data?.createApiKey;
      if (payload?.__typename !== 'CreateApiKeyPayload') throw new Error(`createApiKey failed: ${JSON.stringify(result)}`);
      return payload.apiKey;
    },
    wsClient(key) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: key ? { authorization: `Bearer ${key}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    subscribe: subscribeFeed,
    async close() {
      await Promise.all(clients.map((client) => client.dispose()));
      await server.stop();
      await Promise.all([database.close(), slow.close()]);
    },
  };
}

function subscribeFeed<R, V>(client: Client, document: Document<R, V>, variables?: V): Feed<R> {
  const items: R[] = [];
  const waiters: { predicate: (item: R) => boolean; resolve: (item: R) => void; reject: (error: unknown) => void }[] = [];
  let failure: { error: unknown } | null = null;
  let finished = false;
  let resolveDone!: (items: R[]) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<R[]>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => {}); // a test that never awaits `done` must not see an unhandled rejection

  const settleWaiters = () => {
    for (const waiter of [...waiters]) {
      waiter.reject(failure ? failure.error : new Error(`subscription completed without a match; got ${JSON.stringify(items)}`));
    }
    waiters.length = 0;
  };

  const unsubscribe = client.subscribe<R>(
    { query: typeof document === 'string' ? document : print(document), variables: variables as Record<string, unknown> },
    {
      next(value) {
        if (value.errors) {
          failure = { error: value.errors };
          return;
        }
        const item = value.data as R;
        items.push(item);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(item)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(item);
          }
        }
      },
      error(error) {
        finished = true;
        failure = { error };
        settleWaiters();
        rejectDone(error);
      },
      complete() {
        finished = true;
        settleWaiters();
        if (failure) rejectDone(failure.error);
        else resolveDone(items);
      },
    },
  );

  return {
    items,
    done,
    until(predicate) {
      const found = items.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      if (finished) return Promise.reject(new Error(`subscription ended without a match; got ${JSON.stringify(items)}`));
      return new Promise<R>((resolve, reject) => waiters.push({ predicate, resolve, reject }));
    },
    dispose: unsubscribe,
  };
}
