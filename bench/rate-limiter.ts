// What RATE_LIMIT_PER_SECOND costs per request, side by side: rate-limiter-flexible in memory, on
// PostgreSQL per request (RateLimiterDrizzle; RateLimiterPostgres through a postgres.js adapter), and the
// leased budget Braid uses on PostgreSQL; then a server answering `nodeTypes` with the limit off and on.
// `npx tsx bench/rate-limiter.ts` (PostgreSQL rows need DATABASE_URL).
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterPostgres } from 'rate-limiter-flexible';
import { openDb, type Database } from '../src/db/client.js';
import { migrateDb } from '../src/db/migrate.js';
import { rateLimits } from '../src/db/schema.js';
import { createKeyBudget } from '../src/schema/key-budget.js';
import { benchDrivers, withDatabase, type DatabaseSpec } from './databases.js';
import { benchEnv, cpuMs, startServer } from './server-launch.js';
import { fmt } from './stats.js';

const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);

/** µs per take (wall, in flight at once: `concurrency`), and process CPU µs per take. */
async function measure(take: (key: string) => Promise<unknown>, total: number, concurrency: number) {
  let next = 0;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await take(keys[i % keys.length]!);
      }
    }),
  );
  const wallUs = ((performance.now() - t0) * 1000) / total;
  return { wallUs, cpuUs: ((cpuMs() - cpu0) * 1000) / total, perSecond: 1e6 / wallUs };
}

type Row = [string, string, string, string, string];
const row = (name: string, where: string, m: { wallUs: number; cpuUs: number; perSecond: number }, note = ''): Row => [
  name,
  where,
  fmt(m.wallUs, 1),
  fmt(m.cpuUs, 1),
  `${fmt(m.perSecond, 0)}${note}`,
];

async function limiterRows(): Promise<Row[]> {
  const rows: Row[] = [];
  const big = 1e9; // never refuses: what is measured is the counting
  const memory = new RateLimiterMemory({ points: big, duration: 1 });
  rows.push(row('RateLimiterMemory.consume', 'memory', await measure((k) => memory.consume(k), 200_000, 1)));
  if (!process.env.DATABASE_URL) return rows;
  await withDatabase('postgres', async (spec) => {
    const database = await openDb({ databaseUrl: (spec as { url: string }).url, dataDir: 'memory://' });
    try {
      await migrateDb(database);
      const drizzle = new RateLimiterDrizzle({ storeClient: database.db, schema: rateLimits, points: big, duration: 1, clearExpiredByTimeout: false });
      for (const concurrency of [1, 16]) {
        rows.push(row('RateLimiterDrizzle.consume (a round trip each)', `PostgreSQL, ${concurrency} in flight`, await measure((k) => drizzle.consume(k), 4_000, concurrency)));
      }
      const adapted = await postgresAdapter(database);
      for (const concurrency of [1, 16]) {
        rows.push(row('RateLimiterPostgres via a postgres.js adapter', `PostgreSQL, ${concurrency} in flight`, await measure((k) => adapted.consume(k), 4_000, concurrency)));
      }
      for (const limit of [1000]) {
        let draws = 0;
        const counting = { ...database, db: new Proxy(database.db, { get: (db, p) => (p === 'insert' && draws++, Reflect.get(db, p)) }) } as Database;
        const budget = createKeyBudget({ limit, windowMs: 1000, database: counting });
        // At most `limit` per key and second: 20 keys × limit in each second bounds what is measured.
        const m = await measure((k) => budget.take(k), 8_000, 16);
        rows.push(row(`Braid's leased budget, limit ${limit}`, 'PostgreSQL, 16 in flight', m, ` (${fmt((draws / 8_000) * 100, 1)} draws per 100 takes)`));
      }
    } finally {
      await database.close();
    }
  });
  return rows;
}

/** RateLimiterPostgres expects pg/knex/sequelize/typeorm; `query({ text, values })` → `{ rows, rowCount }` suffices. */
async function postgresAdapter(database: Database) {
  if (database.driver !== 'postgres') throw new Error('PostgreSQL only');
  const sql = database.client;
  const client = {
    query: ({ text, values }: { text: string; values?: unknown[] }) =>
      sql.unsafe(text, (values ?? []) as never[]).then((rows) => ({ rows: [...rows], rowCount: rows.length })),
  };
  return new Promise<RateLimiterPostgres>((resolve, reject) => {
    const limiter: RateLimiterPostgres = new RateLimiterPostgres(
      { storeClient: client, storeType: 'client', tableName: 'rlflx_bench', points: 1e9, duration: 1, clearExpiredByTimeout: false },
      (error?: Error) => (error ? reject(error) : resolve(limiter)),
    );
  });
}

/**
 * `nodeTypes` over HTTP with 16 in flight, limit off and on, in interleaved rounds (the median round is
 * shown) so that other load on the machine falls on every variant alike.
 */
async function serverRows(): Promise<Row[]> {
  const rows: Row[] = [];
  const limits = ['0', '1000', '1000000'];
  for (const driver of benchDrivers()) {
    await withDatabase(driver, async (spec: DatabaseSpec) => {
      const servers = [];
      for (const limit of limits) servers.push(await startServer({ ...benchEnv(spec), RATE_LIMIT_PER_SECOND: limit }));
      try {
        const calls = servers.map(
          (server) => () =>
            fetch(server.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
              body: '{"query":"{ nodeTypes { type } }"}',
            }).then(async (response) => {
              await response.arrayBuffer();
              if (response.status !== 200) throw new Error(`status ${response.status}`);
            }),
        );
        for (const call of calls) await measure(call, 200, 16); // warm-up
        const rounds: ReturnType<typeof measure> extends Promise<infer M> ? M[][] : never = limits.map(() => []);
        // 400 a round stays under 1000 per second per key at any speed seen here (each round takes > 0.4 s).
        for (let round = 0; round < 7; round++) {
          for (const [i, call] of calls.entries()) rounds[i]!.push(await measure(call, 400, 16));
        }
        for (const [i, limit] of limits.entries()) {
          const sorted = [...rounds[i]!].sort((a, b) => a.wallUs - b.wallUs);
          rows.push(row(`server, RATE_LIMIT_PER_SECOND=${limit}`, `${driver}, 16 in flight, median of 7 rounds`, sorted[3]!));
        }
      } finally {
        for (const server of servers) await server.stop();
      }
    });
  }
  return rows;
}

const table = (rows: Row[]) =>
  ['| what | where | µs per take (wall) | CPU µs per take | takes per second |', '|---|---|---:|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

console.log(table(await limiterRows()));
if (!process.argv.includes('--no-server')) console.log(`\n${table(await serverRows())}`);
