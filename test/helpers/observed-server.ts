// A real server whose log lines the test reads: buildServer on port 0 over a fresh test database, its
// pino logger writing JSON lines into memory, and the few GraphQL calls the observability tests make.
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { buildServer, type BraidServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { postGraphql } from './graphql-post.js';

export const adminToken = 'observed-admin-token-0123456789';

export type LogLine = Record<string, any> & { level: string; msg: string };

export interface ObservedServer {
  server: BraidServer;
  database: TestDatabase;
  logger: Logger;
  baseUrl: string;
  port: number;
  /** Every line logged so far, parsed. */
  readonly lines: LogLine[];
  /** Every line logged so far, as written. */
  readonly text: string;
  /** Resolves with the first line (logged already or to come) matching `predicate`. */
  waitForLine(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  /** A new organization's ADMIN key. */
  createKey(): Promise<string>;
  /** Creates a workflow of `definition` and returns its id. */
  createWorkflow(key: string, definition: unknown): Promise<string>;
  /** Starts a run and returns its id. */
  startRun(key: string, workflowId: string, input?: unknown): Promise<string>;
  /** Waits for the run's `run finished` line (logged once its final state is stored). */
  finished(runId: string): Promise<LogLine>;
  close(): Promise<void>;
}

let counter = 0;

export async function startObservedServer(overrides: Partial<Config> = {}, level: Config['logLevel'] = 'info'): Promise<ObservedServer> {
  const chunks: string[] = [];
  const lines: LogLine[] = [];
  const waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      chunks.push(text);
      for (const each of text.split('\n')) {
        if (each === '') continue;
        const line = JSON.parse(each) as LogLine;
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (!waiter.predicate(line)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  const logger = createLogger({ level, destination: sink });
  const database = await createTestDatabase();
  // A loaded test machine must not make the server shed load (the readiness test expects 200).
  const config: Config = { ...loadConfig({ ADMIN_TOKEN: adminToken, HTTP_ALLOW_PRIVATE: 'true', PORT: '0' }), shedEventLoopDelayMs: 0, shedHeapFraction: 0, ...overrides };
  const server = buildServer({ config, database, logger });
  const started = await server.start(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${started.port}`;
  const graphqlUrl = `${baseUrl}/graphql`;

  const waitForLine = (predicate: (line: LogLine) => boolean) => {
    const found = lines.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve) => waiters.push({ predicate, resolve }));
  };

  async function call(key: string, query: string, variables: Record<string, unknown>, field: string) {
    const result = await postGraphql(graphqlUrl, key, query, variables);
    const payload = result.data?.[field];
    if (!payload?.id && !payload?.apiKey) throw new Error(`${field} failed: ${JSON.stringify(result)}`);
    return payload;
  }

  return {
    server,
    database,
    logger,
    baseUrl,
    port: started.port,
    lines,
    get text() {
      return chunks.join('');
    },
    waitForLine,
    async createKey() {
      const payload = await call(
        adminToken,
        'mutation ($name: String!) { createOrganization(name: $name) { ... on CreateOrganizationPayload { apiKey } ... on Error { message } } }',
        { name: `observed-${++counter}-${process.pid}` },
        'createOrganization',
      );
      return payload.apiKey as string;
    },
    async createWorkflow(key, definition) {
      const payload = await call(
        key,
        'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { ... on Workflow { id } ... on Error { message } } }',
        { input: { name: `wf-${++counter}`, definition } },
        'createWorkflow',
      );
      return payload.id as string;
    },
    async startRun(key, workflowId, input = {}) {
      const payload = await call(
        key,
        'mutation ($id: ID!, $input: JSON) { startRun(workflowId: $id, input: $input) { ... on Run { id } ... on Error { message } } }',
        { id: workflowId, input },
        'startRun',
      );
      return payload.id as string;
    },
    finished: (runId) => waitForLine((line) => line.msg === 'run finished' && line.runId === runId),
    async close() {
      await server.stop();
      await database.close();
    },
  };
}
