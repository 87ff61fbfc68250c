// The server: node:http with yoga at /graphql (HTTP, SSE, GraphiQL), graphql-ws on the same port and
// path, /health, /ready and /metrics, the dashboard under /ui/ (ui-server.ts); request bodies bounded; logs through one pino logger. Wires the run service (engine, store, leases) to the pubsub,
// takes unfinished runs over after it listens, and drains on stop.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { recordApiKeyUse } from './db/queries/api-keys.js';
import { createNodeLimitCache } from './db/queries/node-limits.js';
import { createNodeSlots } from './db/node-slots.js';
import { ensureDevKey } from './dev-key.js';
import { checkStartKey, ensureSecretsKey, type SecretsKeySource } from './secrets-key.js';
import { refusal } from './origin-policy.js';
import { builtinNodeTypes, createHostLimits, defaultDefinitionLimits, setDefinitionLimits, type Clock, type ExpressionMode, type NodeRegistry, type RunTracer, systemClock } from './engine/index.js';
import { createPubSub } from './pubsub.js';
import { listenKeyRevocations, type ServerPubSub } from './runs/event-feed.js';
import { createGraphCache } from './runs/graphs.js';
import { createRunService } from './runs/run-service.js';
import { createRunSecretsSource } from './runs/run-secrets.js';
import { createRetention, type Retention, type RetentionOptions } from './runs/retention.js';
import { analyzeStale, estimateStoredRuns, keepStatistics } from './db/maintenance.js';
import type { Services } from './schema/context.js';
import { useGraphqlWs } from './schema/graphql-ws.js';
import { createStreamTracker } from './schema/stream-tracker.js';
import { createBraidYoga } from './schema/yoga.js';
import { createLiveGroups } from './schema/live-groups.js';
import { yogaMask } from './schema/live-render.js';
import { createKeyCache } from './schema/auth.js';
import { createAuthThrottle } from './schema/auth-throttle.js';
import { createKeyLimits } from './schema/rate-limits.js';
import { createUiRoutes } from './ui-server.js';
import { serverEngine } from './server-engine.js';
import { readBody, sendJson } from './http-io.js';
import { createOpsEndpoints } from './ops-endpoints.js';
import { createLogger, logFunction, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { registerHostMetrics } from './observability/host-metrics.js';
import { createLoadMonitor, loadStartGate, logLoadChanges, type LoadSignal } from './observability/load.js';
import { logIfFailed, useErrorLog, yogaLogger } from './observability/request-log.js';
import { createRunObserver } from './observability/run-observer.js';
import type { Tracing } from './observability/tracing.js';

export interface ServerDeps {
  config: Config;
  /** Open and migrated; the caller closes it after `stop()`. */
  database: Database;
  registry?: NodeRegistry;
  clock?: Clock;
  /** This process's id as a run owner (the PostgreSQL sessions should carry `braid:<id>`); random by default. */
  processId?: string;
  /** Benchmarks only: `inline` evaluates expressions the previous, unbounded way (see createEngine). */
  expressionMode?: ExpressionMode;
  /** Benchmarks only: `per-subscriber` executes and writes every live event per subscriber, as graphql-ws alone does. */
  liveDelivery?: 'grouped' | 'per-subscriber';
  /** The window of RATE_LIMIT_PER_SECOND in ms (default 1000); tests widen it so that counts do not depend on timing. */
  rateLimitWindowMs?: number;
  /** Where every log line goes; by default JSON lines on stdout at LOG_LEVEL. */
  logger?: Logger;
  /** Tests and benchmarks: retention's clock, batch size, pauses and a hook told after each batch. */
  retention?: Partial<Pick<RetentionOptions, 'now' | 'batchSize' | 'pauseMs' | 'maxBatches' | 'intervalMs' | 'tidyAfter' | 'onDeleted'>>;
  /** Whether the process sheds load; by default a monitor of SHED_EVENT_LOOP_DELAY_MS and SHED_HEAP_FRACTION. */
  load?: LoadSignal;
  /**
   * Tests: the claim's timed sweeps (default every second) and the age at which a cached maxRunningNodes
   * is read again (default 1000 ms); far above a test's patience, only a wake or an invalidation explains a change.
   */
  claimPollMs?: number;
  nodeLimitTtlMs?: number;
}

export interface StartedServer {
  port: number;
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql (ws:// on the same path). */
  url: string;
  /**
   * Dev mode only (no ADMIN_TOKEN): the ADMIN key of organization "default", kept in DATA_DIR/dev-api-key
   * and reused by later starts (a new one per start with `memory://`).
   */
  devApiKey?: string;
  /**
   * Where the secrets key comes from: SECRETS_KEY, dev mode's file in DATA_DIR (or a new key per
   * start), or nowhere (secrets cannot be created or updated).
   */
  secretsKey: SecretsKeySource;
}

export interface BraidServer {
  /** Listens, then takes unfinished runs over in the background. */
  start(port?: number, host?: string): Promise<StartedServer>;
  /**
   * Drains: takes no new runs or connections, lets running node attempts finish for up to
   * SHUTDOWN_GRACE_MS, leaves the rest as stored (to resume elsewhere or on the next start), releases
   * its leases and closes every socket (graphql-ws with 1001; SSE streams end without completing).
   * Never cancels or fails a run. Idempotent.
   */
  stop(): Promise<void>;
  readonly services: Services;
  readonly logger: Logger;
  /** What GET /metrics serves. */
  readonly metrics: Metrics;
  /** Resolves once the runs left unfinished when the server started were taken over (after `start`). */
  readonly tookOver: Promise<void>;
  /** Deletes finished runs past RUN_RETENTION_HOURS: swept after start, then on an interval. */
  readonly retention: Retention;
}

export const devOrganizationName = 'default';

export function buildServer(deps: ServerDeps): BraidServer {
  const { config, database } = deps;
  const registry = deps.registry ?? builtinNodeTypes;
  const pubsub: ServerPubSub = {
    events: createPubSub({ maxQueue: config.subscriberMaxQueue }),
    runs: createPubSub({ maxQueue: config.subscriberMaxQueue }),
  };
  // MAX_DEFINITION_NODES/EDGES past the engine's default ceiling raise it for this process.
  setDefinitionLimits({
    maxNodes: Math.max(defaultDefinitionLimits.maxNodes, config.maxDefinitionNodes),
    maxEdges: Math.max(defaultDefinitionLimits.maxEdges, config.maxDefinitionEdges),
  });
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const log = logFunction(logger);
  const monitor = deps.load ? undefined : createLoadMonitor({ eventLoopDelayMs: config.shedEventLoopDelayMs, heapFraction: config.shedHeapFraction });
  const load = deps.load ?? monitor!;
  const metrics = createMetrics({
    activeRuns: () => runs.liveRuns,
    activeSubscriptions: () => streams.open,
    storedRuns: () => estimateStoredRuns(database),
    load: { shedding: () => load.shedding() !== null, eventLoopDelayMs: () => load.readings()?.eventLoopDelayMs ?? null },
  });
  // Per host, shared by every run of this process: HTTP_HOST_CONCURRENCY, adapted by 429s, paused by Retry-After.
  const hostLimits = createHostLimits({ max: config.httpHostConcurrency, clock: deps.clock ?? systemClock });
  registerHostMetrics(metrics.registry, () => hostLimits.hosts());
  // Organizations' maxRunningNodes, enforced among the runs this process drives.
  const nodeLimits = createNodeLimitCache(database.db, { log, ...(deps.nodeLimitTtlMs ? { ttlMs: deps.nodeLimitTtlMs } : {}) });
  // Across processes sharing PostgreSQL: each holds its share of an organization's limit as advisory-lock slots.
  const nodeSlots = database.driver === 'postgres' ? createNodeSlots(database, nodeLimits, { log }) : undefined;
  // Tracing is loaded by start() when configured; runs start only after it. Off, the engine gets no tracer at all.
  let tracing: Tracing | undefined;
  const tracer: RunTracer | undefined = config.otlpTracesEndpoint ? { startRun: (runId) => tracing!.tracer.startRun(runId) } : undefined;
  const runs = createRunService({
    database,
    pubsub,
    graphs: createGraphCache(database.db, registry),
    // The key is read at use: in dev mode it is only known once the server started.
    secrets: createRunSecretsSource(database.db, () => services.secretsKey),
    leaseMs: config.runLeaseMs,
    capacity: config.runCapacity,
    ...(deps.processId ? { processId: deps.processId } : {}),
    log,
    observer: createRunObserver(logger, metrics),
    shedding: () => load.shedding() !== null,
    nodeLimitsChanged: (organizationId) => nodeLimits.invalidate(organizationId),
    ...(deps.claimPollMs ? { claimPollMs: deps.claimPollMs } : {}),
    createEngine: serverEngine({
      config,
      database,
      registry,
      hostLimits,
      runningNodeLimits: nodeSlots ?? nodeLimits,
      startGate: loadStartGate(load),
      metrics,
      log,
      logger,
      ...(tracer ? { tracer } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.expressionMode ? { expressionMode: deps.expressionMode } : {}),
    }),
  });
  const streams = createStreamTracker();
  const retention = createRetention({
    database,
    hours: config.runRetentionHours,
    log: logger,
    // The clock that stamps finishedAt (the engine's) also says how old a run is.
    ...(deps.clock ? { now: () => deps.clock!.now() } : {}),
    ...deps.retention,
    onDeleted: (count) => {
      metrics.runsDeleted(count);
      return deps.retention?.onDeleted?.(count);
    },
  });
  /** The statistics after the migrations, then retention's first sweep (after start, in the background). */
  let upkeep: Promise<void> | undefined;
  /** PGlite's statistics kept up with its tables (PostgreSQL's autovacuum does it there). */
  let statistics: { stop(): Promise<void> } | undefined;
  const keys = createKeyCache({ recordUse: (keyId, at) => recordApiKeyUse(database.db, keyId, at), log });
  let keyRevocations: { stop(): Promise<void> } | undefined;
  const limits = createKeyLimits({ config, database, ...(deps.rateLimitWindowMs ? { windowMs: deps.rateLimitWindowMs } : {}) });
  const services: Services = { config, database, registry, runs, pubsub, streams, keys, limits, authThrottle: createAuthThrottle(), secretsKey: config.secretsKey };
  let devApiKey: string | undefined;
  const ui = createUiRoutes({ devApiKey: () => devApiKey });
  const live = deps.liveDelivery === 'per-subscriber' ? undefined
    : createLiveGroups({ pubsub, database, maxQueue: config.subscriberMaxQueue, mask: yogaMask(log), onEventDelivered: metrics.eventDelivered });
  const yogaOptions = { live, logging: yogaLogger(logger), plugins: [useErrorLog(logger)] };
  let yoga = createBraidYoga(services, yogaOptions);

  let draining = false;
  /** Responses not yet sent: once draining, each asks its keep-alive client to go elsewhere. */
  const answering = new Set<ServerResponse>();
  const http = createServer((req, res) => {
    if (draining) res.setHeader('connection', 'close');
    else {
      answering.add(res);
      res.once('close', () => answering.delete(res));
    }
    logIfFailed(logger, req, res);
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, method: req.method, path: (req.url ?? '/').split('?')[0] }, 'request failed with an unexpected error');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.' }] });
      else res.destroy();
    });
  });

  /** Dev mode: loopback Host only (no DNS rebinding); browsers from allowed origins only (HTTP and WebSocket). */
  const refusalOf = (req: IncomingMessage) =>
    refusal(req.headers, { devMode: config.adminToken === undefined, corsOrigins: config.corsOrigins });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusalOf(req);
    if (refused) return sendJson(res, 403, { errors: [{ message: refused, extensions: { code: 'FORBIDDEN' } }] });
    // Answers differ by Origin (CORS): caches must keep them apart.
    res.setHeader('vary', 'Origin');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return endpoints.health(res);
    if (path === '/ready') return endpoints.ready(res);
    if (path === '/metrics') return endpoints.metrics(req, res);
    if (await ui.handle(req, res, path ?? '/')) return;
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
      const body = await readBody(req, res, config.maxBodyBytes);
      if (body === null) return;
      // whatwg-node takes an already-read body from `req.body` instead of the consumed stream.
      (req as IncomingMessage & { body?: Buffer }).body = body;
    }
    await yoga.requestListener(req, res);
  }

  const endpoints = createOpsEndpoints({ config, database, logger, metrics, draining: () => draining, shedding: () => load.shedding() });

  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxBodyBytes });
  let ws: ReturnType<typeof useGraphqlWs> | undefined;
  http.on('upgrade', (req, socket, head) => {
    const refused = refusalOf(req);
    if (refused) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(refused)}\r\n\r\n${refused}`);
      return;
    }
    if ((req.url ?? '').split('?')[0] !== '/graphql' || !ws) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, req));
  });

  let stopping: Promise<void> | undefined;
  const loadListeners: (() => void)[] = [];
  const tookOver = { resolve: () => {}, promise: Promise.resolve() };
  tookOver.promise = new Promise<void>((resolve) => (tookOver.resolve = resolve));

  return {
    services,
    logger,
    metrics,
    tookOver: tookOver.promise,
    retention,
    async start(port = config.port, host = config.host) {
      if (config.otlpTracesEndpoint) {
        tracing = (await import('./observability/tracing.js')).createTracing(config.otlpTracesEndpoint);
        logger.info({ endpoint: config.otlpTracesEndpoint }, 'tracing: spans of runs and node attempts go to the OTLP endpoint');
      }
      if (!config.adminToken) {
        const devKey = await ensureDevKey(database.db, { dataDir: config.dataDir, organization: devOrganizationName });
        if (devKey.problem) log('dev mode: the key is new at every start', { problem: devKey.problem });
        devApiKey = devKey.secret;
        yoga = createBraidYoga(services, { ...yogaOptions, devApiKey });
      }
      let secretsKey: StartedServer['secretsKey'] = config.secretsKey ? 'SECRETS_KEY' : 'none';
      if (!config.secretsKey && !config.adminToken) {
        const kept = await ensureSecretsKey(config.dataDir);
        if (kept.problem) log('dev mode: the secrets key is new at every start', { problem: kept.problem });
        services.secretsKey = kept.key;
        secretsKey = kept.file ? { file: kept.file } : 'new per start';
      }
      if (!services.secretsKey) log('SECRETS_KEY is not set: createSecret and updateSecret answer SECRETS_KEY_MISSING');
      else if ((await checkStartKey(database.db, services.secretsKey, secretsKey)).replaced) {
        log('dev mode: the secrets stored by earlier starts cannot be read with this start\'s new key');
      }
      // Revocations on other processes: forgotten here at once; after a reconnect every cached key is read again.
      if (database.driver === 'postgres') {
        keyRevocations = await listenKeyRevocations(database, { onRevoked: (keyId) => keys.revoke(keyId), onListen: () => keys.clear() });
      }
      ws = useGraphqlWs(wss, yoga, services, live);
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      const address = http.address() as AddressInfo;
      const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
      // While shedding load the process takes no runs; once it ends, it claims those that waited.
      monitor?.start();
      const claimWhenCalm = load.onChange((reason) => {
        if (reason === null) runs.wake();
      });
      loadListeners.push(logLoadChanges(load, logger), claimWhenCalm);
      // Unfinished runs (a crash, a deploy) are taken over in the background: the port is open already.
      runs.open().then(tookOver.resolve, (error: unknown) => {
        log('taking runs over failed', { error: String(error) });
        tookOver.resolve();
      });
      upkeep = tookOver.promise
        .then(() => analyzeStale(database))
        .then(
          (tables) => logger.debug({ tables }, 'database statistics refreshed after the migrations'),
          (error: unknown) => log('analyzing the database after the migrations failed', { error: String(error) }),
        )
        .then(() => {
          retention.start();
          if (!draining) statistics = keepStatistics(database, { log });
        });
      return {
        port: address.port,
        url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}/graphql`,
        ...(devApiKey ? { devApiKey } : {}),
        secretsKey,
      };
    },
    stop() {
      return (stopping ??= (async () => {
        draining = true;
        const upkeepStopped = retention.stop().then(() => upkeep).then(() => statistics?.stop());
        for (const unsubscribe of loadListeners.splice(0)) unsubscribe();
        monitor?.stop();
        for (const res of answering) if (!res.headersSent) res.setHeader('connection', 'close');
        const closed = new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
        http.closeIdleConnections();
        // Running attempts finish (or are left to resume); nothing is cancelled. Subscribers of runs
        // that finished meanwhile got their final events; the others resubscribe elsewhere with afterSeq.
        const deadline = performance.now() + config.shutdownGraceMs;
        await runs.drain(config.shutdownGraceMs);
        await nodeSlots?.close();
        // Requests already being received or answered get their answer (within the grace period, and
        // at least a second after the runs drained);
        // streams (SSE) have answered their headers and are closed below.
        const answerBy = Math.max(deadline, performance.now() + 1000);
        while ([...answering].some((res) => !res.headersSent) && performance.now() < answerBy) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // graphql-ws says goodbye (1001) to every client; one that cannot read it is cut off after a grace.
        const disposing = ws?.dispose() ?? Promise.resolve();
        await Promise.race([disposing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        for (const client of wss.clients) client.terminate();
        await disposing;
        http.closeAllConnections();
        await closed;
        await yoga.dispose();
        await keyRevocations?.stop();
        await keys.idle();
        await upkeepStopped;
        // The spans of the runs that ended or were left here are sent before the process goes.
        await tracing?.shutdown();
      })());
    },
  };
}
