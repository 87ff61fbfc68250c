// The benchmarks' GraphQL client, as any user's: fetch for queries and mutations, graphql-ws for
// subscriptions, an ADMIN key in Authorization. Also a watcher of runUpdates that tells when runs end.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { BenchServer } from './server-launch.js';

export interface Api {
  server: BenchServer;
  /** POSTs one operation; throws on transport or GraphQL errors. */
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  createWorkflow(name: string, definition: unknown): Promise<string>;
  startRun(workflowId: string, input?: unknown): Promise<string>;
  /** A graphql-ws client of this server (`lazy`: it connects on its first subscription). */
  wsClient(): Client;
}

export function createApi(server: BenchServer): Api {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.key}` };
  const api: Api = {
    server,
    async query<T>(query: string, variables?: Record<string, unknown>) {
      const response = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
      if (!response.ok || body.errors?.length || !body.data) {
        throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
      }
      return body.data;
    },
    async createWorkflow(name, definition) {
      const data = await api.query<{ createWorkflow: { id?: string; message?: string } }>(
        `mutation($input: CreateWorkflowInput!) {
          createWorkflow(input: $input) { ... on Workflow { id } ... on Error { message } }
        }`,
        { input: { name, definition } },
      );
      if (!data.createWorkflow.id) throw new Error(`createWorkflow: ${data.createWorkflow.message}`);
      return data.createWorkflow.id;
    },
    async startRun(workflowId, input = null) {
      const data = await api.query<{ startRun: { id?: string; message?: string } }>(
        `mutation($id: ID!, $input: JSON) {
          startRun(workflowId: $id, input: $input) { ... on Run { id } ... on Error { message } }
        }`,
        { id: workflowId, input },
      );
      if (!data.startRun.id) throw new Error(`startRun: ${data.startRun.message}`);
      return data.startRun.id;
    },
    wsClient: () => wsClient(server),
  };
  return api;
}

export function wsClient(server: BenchServer): Client {
  return createClient({
    url: server.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${server.key}` },
    retryAttempts: 0,
  });
}

export const finalStatuses: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export interface FinishedRun {
  id: string;
  status: string;
  /** performance.now() when the final update arrived. */
  receivedAt: number;
}

/**
 * Watches runUpdates of the organization and remembers every run that reached a final status, so a
 * run that ends before its startRun answer is still seen. `ready()` returns once the subscription is
 * live (the end of a one-node probe run was seen).
 */
export function watchRuns(api: Api) {
  const client = api.wsClient();
  const finished = new Map<string, FinishedRun>();
  const waiters = new Map<string, { resolve(run: FinishedRun): void; reject(error: Error): void }>();
  let failure: Error | undefined;
  let onFinished: ((run: FinishedRun) => void) | undefined;
  const unsubscribe = client.subscribe<{ runUpdates: { id: string; status: string } }>(
    { query: 'subscription { runUpdates { id status } }' },
    {
      next: ({ data }) => {
        if (!data || !finalStatuses.has(data.runUpdates.status)) return;
        const run = { ...data.runUpdates, receivedAt: performance.now() };
        finished.set(run.id, run);
        waiters.get(run.id)?.resolve(run);
        waiters.delete(run.id);
        onFinished?.(run);
      },
      error: (error) => {
        const reason = error instanceof Error ? error : new Error(`runUpdates failed: ${JSON.stringify(error)}`);
        failure = reason;
        for (const waiter of waiters.values()) waiter.reject(reason);
        waiters.clear();
      },
      complete: () => undefined,
    },
  );
  const watcher = {
    finished,
    set onFinished(callback: ((run: FinishedRun) => void) | undefined) {
      onFinished = callback;
    },
    /** The run's final update; rejects after `timeoutMs`. */
    waitFor(runId: string, timeoutMs = 60_000): Promise<FinishedRun> {
      const done = finished.get(runId);
      if (done) return Promise.resolve(done);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(runId);
          reject(new Error(`run ${runId} not final after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(runId, {
          resolve: (run) => (clearTimeout(timer), resolve(run)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
      });
    },
    async ready(): Promise<void> {
      const probe = await api.createWorkflow('probe', { nodes: [{ id: 'start', type: 'trigger' }], edges: [] });
      for (let attempt = 0; attempt < 10; attempt++) {
        const runId = await api.startRun(probe, { probe: attempt });
        const seen = await watcher.waitFor(runId, 1000).then(() => true, () => false);
        if (seen) return;
      }
      throw new Error('runUpdates subscription never delivered');
    },
    async close() {
      unsubscribe();
      await client.dispose();
    },
  };
  return watcher;
}

export type RunWatcher = ReturnType<typeof watchRuns>;
