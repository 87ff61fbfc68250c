// The databases a server benchmark runs on: a fresh in-memory PGlite always, and PostgreSQL when
// DATABASE_URL is set, in a database of the bench's own (created through the URL, dropped at the end).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** Where a benchmark's server keeps its rows: PGlite in memory, or a PostgreSQL database by URL. */
export type DatabaseSpec = { driver: 'pglite' } | { driver: 'postgres'; url: string };

export const skippedPostgres = 'skipped (DATABASE_URL unset)';

/**
 * The drivers to measure: PGlite, then PostgreSQL when DATABASE_URL is set; BENCH_DRIVERS=postgres
 * (or pglite) keeps one of them.
 */
export function benchDrivers(): ('pglite' | 'postgres')[] {
  const all: ('pglite' | 'postgres')[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  const only = process.env.BENCH_DRIVERS?.split(',');
  return only ? all.filter((driver) => only.includes(driver)) : all;
}

/**
 * Runs `body` on a database of `driver`: PGlite is opened by the server itself (`memory://`); for
 * PostgreSQL a `braid_bench_<random>` database is created first and dropped (with force) after.
 */
export async function withDatabase<T>(driver: 'pglite' | 'postgres', body: (spec: DatabaseSpec) => Promise<T>): Promise<T> {
  if (driver === 'pglite') return body({ driver });
  const maintenanceUrl = process.env.DATABASE_URL;
  if (!maintenanceUrl) throw new Error('DATABASE_URL is unset');
  const name = `braid_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`create database ${admin(name)}`;
    const url = new URL(maintenanceUrl);
    url.pathname = `/${name}`;
    try {
      return await body({ driver, url: url.toString() });
    } finally {
      await admin`drop database if exists ${admin(name)} with (force)`;
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}
