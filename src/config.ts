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
  HTTP_ALLOW_PRIVATE: flag.default(false),
  MAX_BODY_BYTES: positiveInt(100 * 1024 * 1024).default(1024 * 1024),
  MAX_DEFINITION_NODES: positiveInt(100_000).default(5_000),
  MAX_DEFINITION_EDGES: positiveInt(200_000).default(20_000),
  MAX_QUERY_DEPTH: positiveInt(100).default(12),
  MAX_QUERY_COST: positiveInt(1_000_000).default(5_000),
  SUBSCRIBER_MAX_QUEUE: positiveInt(1_000_000).default(10_000),
  RUN_LEASE_MS: positiveInt(3_600_000).default(10_000),
  SHUTDOWN_GRACE_MS: z.coerce
    .number({ error: 'expected a whole number' })
    .int({ error: 'expected a whole number' })
    .min(0, { error: 'expected a whole number of at least 0' })
    .max(3_600_000, { error: 'expected a whole number of at most 3600000' })
    .default(10_000),
  RUN_CAPACITY: positiveInt(1_000_000).default(10_000),
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
  /** Whether the http node may call loopback and private addresses. */
  httpAllowPrivate: boolean;
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
      return `${name}=${JSON.stringify(raw[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`invalid environment: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    adminToken: e.ADMIN_TOKEN,
    httpAllowPrivate: e.HTTP_ALLOW_PRIVATE,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxDefinitionNodes: e.MAX_DEFINITION_NODES,
    maxDefinitionEdges: e.MAX_DEFINITION_EDGES,
    maxQueryDepth: e.MAX_QUERY_DEPTH,
    maxQueryCost: e.MAX_QUERY_COST,
    subscriberMaxQueue: e.SUBSCRIBER_MAX_QUEUE,
    runLeaseMs: e.RUN_LEASE_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    runCapacity: e.RUN_CAPACITY,
  };
}
