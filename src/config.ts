// The only reader of process.env: every setting of the server, validated with zod into a typed Config.
import { z } from 'zod';

const flag = z
  .enum(['true', '1', 'false', '0', ''], { error: 'expected true, 1, false, 0 or empty' })
  .transform((value) => value === 'true' || value === '1');

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int({ error: 'expected a whole number' })
    .min(1, { error: 'expected a whole number of at least 1' })
    .max(max, { error: `expected a whole number of at most ${max}` });

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int({ error: 'expected a whole number' })
    .min(min, { error: `expected a whole number of at least ${min}` })
    .max(max, { error: `expected a whole number of at most ${max}` });

/** A limit where 0 means none. */
const limit = (max: number) => wholeNumber(0, max);

/** A fraction from 0 to 1 (decimals allowed). */
const fraction = z.coerce
  .number({ error: 'expected a number from 0 to 1' })
  .min(0, { error: 'expected a number from 0 to 1' })
  .max(1, { error: 'expected a number from 0 to 1' });

const origins = z.string().transform((value, ctx) => {
  const list = value.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin like https://app.example.com` });
    }
  }
  return list;
});

/** SECRETS_KEY: exactly 32 bytes, written in base64 (standard or url-safe, padded or not). */
export const secretsKeySchema = z.string().transform((value, ctx) => {
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : undefined;
  if (!key || key.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'expected 32 bytes in base64, e.g. from `openssl rand -base64 32`' });
    return z.NEVER;
  }
  return key;
});

/** The levels LOG_LEVEL accepts, most verbose first. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'expected a port number' })
    .int({ error: 'expected a port number' })
    .min(0, { error: 'expected a port number from 0 to 65535' })
    .max(65_535, { error: 'expected a port number from 0 to 65535' })
    .default(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// URL' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  ADMIN_TOKEN: z.string().min(1).optional(),
  SECRETS_KEY: secretsKeySchema.optional(),
  HTTP_ALLOW_PRIVATE: flag.default(false),
  HTTP_HOST_CONCURRENCY: positiveInt(100_000).default(64),
  MAX_BODY_BYTES: positiveInt(100 * 1024 * 1024).default(1024 * 1024),
  // Past 100,000 / 200,000 they raise the engine's own ceiling with them (buildServer).
  MAX_DEFINITION_NODES: positiveInt(1_000_000).default(5_000),
  MAX_DEFINITION_EDGES: positiveInt(2_000_000).default(20_000),
  MAX_QUERY_DEPTH: positiveInt(100).default(12),
  MAX_QUERY_COST: positiveInt(1_000_000).default(5_000),
  SUBSCRIBER_MAX_QUEUE: positiveInt(1_000_000).default(10_000),
  RUN_LEASE_MS: positiveInt(3_600_000).default(10_000),
  SHUTDOWN_GRACE_MS: wholeNumber(0, 3_600_000).default(10_000),
  RUN_CAPACITY: positiveInt(1_000_000).default(10_000),
  HOST: z.string().min(1).optional(),
  CORS_ORIGINS: origins.default([]),
  RATE_LIMIT_PER_SECOND: limit(1_000_000).default(1000),
  MAX_SUBSCRIPTIONS_PER_KEY: limit(1_000_000).default(5000),
  MAX_SOCKETS_PER_KEY: limit(1_000_000).default(1000),
  MAX_QUERY_ALIASES: positiveInt(10_000).default(30),
  MAX_QUERY_TOKENS: positiveInt(1_000_000).default(10_000),
  MAX_QUERY_DIRECTIVES: positiveInt(10_000).default(50),
  EXPRESSION_TIMEOUT_MS: positiveInt(3_600_000).default(5_000),
  EXPRESSION_MEMORY_MB: positiveInt(4096).default(64),
  EXPRESSION_RESULT_BYTES: positiveInt(1024 * 1024 * 1024).default(1024 * 1024),
  EXPRESSION_WORKERS: positiveInt(256).optional(),
  LOG_LEVEL: z.string().toLowerCase().pipe(z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` })).default('info'),
  METRICS_TOKEN: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ error: 'expected a URL like http://localhost:4318' }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ error: 'expected a URL like http://localhost:4318/v1/traces' }).optional(),
  SHED_EVENT_LOOP_DELAY_MS: limit(3_600_000).default(200),
  SHED_HEAP_FRACTION: fraction.default(0.85),
  RUN_RETENTION_HOURS: z.coerce
    .number({ error: 'expected a number of hours' })
    .min(0, { error: 'expected a number of hours of at least 0 (0 keeps every run)' })
    .max(10_000_000, { error: 'expected a number of hours of at most 10000000' })
    .default(720),
});

/** Everything the server is configured with. */
export interface Config {
  port: number;
  /** A PostgreSQL URL; unset means the embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  /** PGlite's directory; `memory://` keeps nothing. */
  dataDir: string;
  /** The bearer token allowed to call createOrganization; unset means dev mode. */
  adminToken: string | undefined;
  /**
   * The AES-256 key that encrypts secrets (32 bytes). Unset: dev mode makes one and keeps it in
   * DATA_DIR/secrets-key; otherwise secrets cannot be created or updated.
   */
  secretsKey: Buffer | undefined;
  /** Whether the http node may call loopback and private addresses. */
  httpAllowPrivate: boolean;
  /** Most requests of http nodes in flight to one host from this process (adapted down by 429s). */
  httpHostConcurrency: number;
  /** Largest accepted HTTP request body, in bytes (413 past it). */
  maxBodyBytes: number;
  /** Most nodes and edges a workflow definition may have. */
  maxDefinitionNodes: number;
  maxDefinitionEdges: number;
  /** Deepest and costliest query accepted (graphql-armor). */
  maxQueryDepth: number;
  maxQueryCost: number;
  /** Events queued for one subscriber before it is dropped as too slow. */
  subscriberMaxQueue: number;
  /** How long a run's lease lasts unless renewed; another process takes the run over after it. */
  runLeaseMs: number;
  /** How long a stopping process lets running node attempts finish before it leaves them to resume. */
  shutdownGraceMs: number;
  /** Most runs one process drives at once; the rest wait QUEUED for a process with room. */
  runCapacity: number;
  /** The address to listen on: 127.0.0.1 in dev mode, 0.0.0.0 otherwise, unless HOST says. */
  host: string;
  /** Browser origins allowed through CORS besides the server's own. */
  corsOrigins: string[];
  /** Requests and operations per second per API key (0: no limit). */
  rateLimitPerSecond: number;
  /** Open subscriptions per API key (0: no limit). */
  maxSubscriptionsPerKey: number;
  /** Open WebSockets per API key (0: no limit). */
  maxSocketsPerKey: number;
  /** Most aliases, tokens and directives one GraphQL document may hold. */
  maxQueryAliases: number;
  maxQueryTokens: number;
  maxQueryDirectives: number;
  /** An expression's time cap when its node sets no timeoutMs. */
  expressionTimeoutMs: number;
  /** Heap of one expression worker, in MB. */
  expressionMemoryMb: number;
  /** Largest result (as JSON) an expression or template may produce. */
  expressionResultBytes: number;
  /** Expression worker threads; unset: one per core, at least 2. */
  expressionWorkers: number | undefined;
  /** The least severe level logged (JSON lines on stdout). */
  logLevel: LogLevel;
  /** When set, GET /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /**
   * Where spans are sent (OTLP over HTTP): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else
   * OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; unset: no tracing. The other OTEL_* variables
   * (headers, service name, …) are read by the OpenTelemetry SDK itself.
   */
  otlpTracesEndpoint: string | undefined;
  /** Event-loop delay (p99 over a second, in ms) past which the process sheds load; 0: never. */
  shedEventLoopDelayMs: number;
  /** Heap used, as a fraction of the heap limit, past which the process sheds load; 0: never. */
  shedHeapFraction: number;
  /** Finished runs older than this (by finishedAt) are deleted, in the background; 0 keeps every run. */
  runRetentionHours: number;
}

/** A setting had a value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates the settings. Empty strings count as unset (except for HTTP_ALLOW_PRIVATE,
 * where empty means false). Throws ConfigError naming every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (key === 'HTTP_ALLOW_PRIVATE') raw[key] = value?.trim().toLowerCase();
    else raw[key] = value === undefined || value.trim() === '' ? undefined : value.trim();
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      // A key is never echoed, not even a malformed one.
      const shown = name === 'SECRETS_KEY' || name === 'METRICS_TOKEN' ? '…' : JSON.stringify(raw[name] ?? '');
      return `${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    adminToken: e.ADMIN_TOKEN,
    secretsKey: e.SECRETS_KEY,
    httpAllowPrivate: e.HTTP_ALLOW_PRIVATE,
    httpHostConcurrency: e.HTTP_HOST_CONCURRENCY,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxDefinitionNodes: e.MAX_DEFINITION_NODES,
    maxDefinitionEdges: e.MAX_DEFINITION_EDGES,
    maxQueryDepth: e.MAX_QUERY_DEPTH,
    maxQueryCost: e.MAX_QUERY_COST,
    subscriberMaxQueue: e.SUBSCRIBER_MAX_QUEUE,
    runLeaseMs: e.RUN_LEASE_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    runCapacity: e.RUN_CAPACITY,
    host: e.HOST ?? (e.ADMIN_TOKEN === undefined ? '127.0.0.1' : '0.0.0.0'),
    corsOrigins: e.CORS_ORIGINS,
    rateLimitPerSecond: e.RATE_LIMIT_PER_SECOND,
    maxSubscriptionsPerKey: e.MAX_SUBSCRIPTIONS_PER_KEY,
    maxSocketsPerKey: e.MAX_SOCKETS_PER_KEY,
    maxQueryAliases: e.MAX_QUERY_ALIASES,
    maxQueryTokens: e.MAX_QUERY_TOKENS,
    maxQueryDirectives: e.MAX_QUERY_DIRECTIVES,
    expressionTimeoutMs: e.EXPRESSION_TIMEOUT_MS,
    expressionMemoryMb: e.EXPRESSION_MEMORY_MB,
    expressionResultBytes: e.EXPRESSION_RESULT_BYTES,
    expressionWorkers: e.EXPRESSION_WORKERS,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    otlpTracesEndpoint:
      e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      (e.OTEL_EXPORTER_OTLP_ENDPOINT ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined),
    shedEventLoopDelayMs: e.SHED_EVENT_LOOP_DELAY_MS,
    shedHeapFraction: e.SHED_HEAP_FRACTION,
    runRetentionHours: e.RUN_RETENTION_HOURS,
  };
}
