// Opens the database: embedded PGlite by default, PostgreSQL through postgres.js when a URL is given.
import { mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { ensurePgliteDataDir, pgliteStartParams } from './pglite-start.js';
import * as schema from './schema.js';

/** The drizzle instance over the Braid schema; the same type for both drivers. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

interface DatabaseBase {
  db: Db;
  /** Closes the connection(s). Idempotent. */
  close(): Promise<void>;
  /**
   * Runs raw SQL and returns its rows on either driver (PGlite's `execute()` gives `{ rows }`,
   * postgres.js an array). Values are as the drivers leave them under drizzle: timestamps and
   * jsonb arrive as Postgres text, bigint as a string. Prefer the query builder for typed values.
   */
  rows<T extends Record<string, unknown> = Record<string, unknown>>(query: SQL): Promise<T[]>;
}

/** An open database; `client` is the raw driver, for what drizzle does not cover (dump, LISTEN). */
export type Database =
  | (DatabaseBase & { driver: 'pglite'; client: PGlite })
  | (DatabaseBase & { driver: 'postgres'; client: postgres.Sql });

export interface OpenDbOptions {
  /** A PostgreSQL URL: when set, postgres.js is used and `dataDir` is ignored. */
  databaseUrl?: string;
  /** PGlite's directory (created if missing), or `memory://` to keep nothing. */
  dataDir: string;
  /** PGlite only: start from this data-dir tarball (`PGlite#dumpDataDir()`), e.g. a migrated template. */
  loadDataDir?: Blob;
  /** postgres.js pool size (default 10, at least 2: migrating holds one connection for its lock). */
  maxConnections?: number;
  /** PostgreSQL: seconds to wait for a new connection before failing it (default 10). */
  connectTimeoutSeconds?: number;
  /**
   * PostgreSQL `statement_timeout` of every session, in ms (default 30 000): the server cancels a
   * longer statement, so none waits forever on a lock or a stalled disk. 0 leaves the server's setting.
   */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL `idle_in_transaction_session_timeout`, in ms (default 60 000): the server ends a session
   * left idle inside a transaction, releasing its locks. 0 leaves the server's setting.
   */
  idleInTransactionTimeoutMs?: number;
  /** PostgreSQL `application_name` of every session (default `braid`): `braid:<process id>` lets others find them. */
  applicationName?: string;
}

const asText = (value: string) => value;

/**
 * The rows of a raw `execute()` on either driver: PGlite answers `{ rows }`, postgres.js an array.
 * For raw SQL inside a transaction, where `Database.rows` cannot be used.
 */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Opens the database described by `options`. Migrations are not applied here (see `migrateDb`).
 * jsonb reaches drizzle as text on both drivers so that drizzle parses it exactly once: otherwise a
 * stored JSON string such as `"123"` would be parsed twice and come back as the number 123.
 * A PGlite data directory must never be opened by two processes at once.
 */
export async function openDb(options: OpenDbOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.dataDir, options.loadDataDir);
}

async function openPglite(dataDir: string, loadDataDir: Blob | undefined): Promise<Database> {
  if (!dataDir.startsWith('memory://')) {
    await mkdir(dataDir, { recursive: true });
    if (!loadDataDir) await ensurePgliteDataDir(dataDir);
  }
  const client = await PGlite.create({
    dataDir,
    startParams: pgliteStartParams,
    ...(loadDataDir ? { loadDataDir } : {}),
    parsers: { [types.JSON]: asText, [types.JSONB]: asText, [types.INT8]: asText },
  });
  const db: Db = drizzlePglite({ client, schema });
  return {
    driver: 'pglite',
    client,
    db,
    close: once(() => client.close()),
    async rows<T>(query: SQL) {
      const result = (await db.execute(query)) as unknown as { rows: T[] };
      return result.rows;
    },
  };
}

function openPostgres(url: string, options: OpenDbOptions): Database {
  const client = postgres(url, {
    max: Math.max(2, options.maxConnections ?? 10),
    prepare: true,
    onnotice: () => {},
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    backoff: reconnectDelaySeconds,
    // Startup parameters, so they hold for every session, reconnections included.
    connection: {
      application_name: options.applicationName ?? 'braid',
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
    },
  });
  const db: Db = drizzlePostgres({ client, schema });
  // After drizzle's own parser set-up: jsonb as text (drizzle parses it once), as on PGlite.
  client.options.parsers[114] = asText;
  client.options.parsers[3802] = asText;
  return {
    driver: 'postgres',
    client,
    db,
    close: once(() => client.end({ timeout: 5 })),
    async rows<T>(query: SQL) {
      return (await db.execute(query)) as unknown as T[];
    },
  };
}

// postgres.js's own delay grows to 20 s after a few failed connections, counted across the whole
// pool; capped at 2 s, the pool is back within seconds of the database after an outage or a kill.
function reconnectDelaySeconds(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 2);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= fn());
}
