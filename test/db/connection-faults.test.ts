// Backends killed under load (PostgreSQL only): queries may fail, but the process must not die and no
// query may hang. Guards the postgres.js patches in patches/ (porsager/postgres#1154, #1192, queries
// stranded after a socket error) and the capped reconnect delay of src/db/client.ts.
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const url = process.env.DATABASE_URL;
const loadMs = 2_500;
const killEveryMs = 20;
const settleMs = 4_000;

interface Outcome {
  ok: number;
  failed: number;
  killed: number;
  /** Whether every query started settled (resolved or rejected) within `settleMs` of the last kill. */
  settled: boolean;
  /** Uncaught exceptions and unhandled rejections seen meanwhile, as stacks. */
  uncaught: string[];
}

/**
 * Runs `query` in a loop on `workers` concurrent workers for `loadMs`, while another client terminates
 * every backend of the database every `killEveryMs`.
 */
async function underKills(
  database: TestDatabase,
  workers: number,
  query: (n: number, worker: number) => Promise<unknown>,
): Promise<Outcome> {
  const uncaught: string[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(String(error instanceof Error ? error.stack : error));
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const killer = postgres(url!, { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + loadMs;
    const counts = { ok: 0, failed: 0, killed: 0 };
    let sequence = 0;
    const work = async (worker: number) => {
      while (Date.now() < deadline) {
        await query(sequence++, worker).then(
          () => counts.ok++,
          () => counts.failed++,
        );
      }
    };
    const loops = Promise.all(Array.from({ length: workers }, (_, worker) => work(worker)));
    while (Date.now() < deadline) {
      const rows = await killer`select pg_terminate_backend(pid) as killed from pg_stat_activity
                                where datname = ${database.name} and pid <> pg_backend_pid()`;
      counts.killed += rows.filter((row) => row.killed).length;
      await delay(killEveryMs);
    }
    const settled = await Promise.race([loops.then(() => true), delay(settleMs).then(() => false)]);
    return { ...counts, settled, uncaught };
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await killer.end({ timeout: 5 });
  }
}

describe.skipIf(!url)('PostgreSQL connection faults', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  async function expectRecovered(outcome: Outcome): Promise<void> {
    const { uncaught, settled, ...counts } = outcome;
    expect(uncaught).toEqual([]);
    expect(settled, `every query settled within ${settleMs} ms of the last kill`).toBe(true);
    // The kills landed, some queries failed for it, and others got through.
    expect(counts).toEqual({
      ok: expect.toSatisfy((n: number) => n > 0),
      failed: expect.toSatisfy((n: number) => n > 0),
      killed: expect.toSatisfy((n: number) => n >= 3),
    });
    const [row] = await database.rows<{ one: number }>(sql`select 1::int as one`);
    expect(row?.one).toBe(1);
  }

  // A failed transaction's own ROLLBACK is a small deferred write that can land on a closed connection.
  it('survives kills under drizzle transactions and queries', async () => {
    const outcome = await underKills(database, 24, (n) =>
      n % 2 === 0
        ? database.db.transaction(async (tx) => {
            await tx.insert(organizations).values({ id: `org_${n}`, name: `org ${n}` });
            await tx.execute(sql`select pg_sleep(0.001)`);
          })
        : Promise.all([database.rows(sql`select pg_sleep(0.001)`), database.rows(sql`select ${n}::int as n`)]),
    );
    await expectRecovered(outcome);
  }, 15_000);

  // Raw pipelined queries (the event feed's path) reach a connection between its socket's 'error' and
  // 'close', and used to wait forever on the reconnected socket for replies that never come.
  it('settles every pipelined raw query under kills', async () => {
    const client = database.client as postgres.Sql;
    const outcome = await underKills(database, 48, (n, worker) =>
      Promise.all([
        client`select pg_sleep(0.001)`,
        client`select ${worker}::int as worker`,
        client`select 1 as one`,
        client`select ${n}::int as n`,
      ]),
    );
    await expectRecovered(outcome);
  }, 15_000);
});
