// A new PGlite data directory is created in a child process (initdb's memory stays out of the server) and
// opened with Braid's shared buffers; files already in DATA_DIR stay; a half-made directory is made again.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client.js';
import { ensurePgliteDataDir, pgliteSharedBuffers } from '../../src/db/pglite-start.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'braid-pglite-start-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Opens `dataDir` through openDb, stores and reads back a value, closes. */
async function roundTrip(dataDir: string, write?: string): Promise<string | undefined> {
  const database = await openDb({ dataDir });
  try {
    await database.rows(sql`create table if not exists kept (v text)`);
    if (write) await database.rows(sql`insert into kept values (${write})`);
    const rows = await database.rows<{ v: string; buffers: string }>(sql`select (select v from kept limit 1) as v, current_setting('shared_buffers') as buffers`);
    expect(rows[0]?.buffers).toBe(pgliteSharedBuffers);
    return rows[0]?.v;
  } finally {
    await database.close();
  }
}

describe.skipIf(process.env.DATABASE_URL)('a PGlite data directory on disk', () => {
  it('is created on first open, keeps what was written, and opens again without initdb', async () => {
    const dataDir = join(root, 'fresh');
    expect(await roundTrip(dataDir, 'hello')).toBe('hello');
    const version = await readFile(join(dataDir, 'PG_VERSION'), 'utf8');
    expect(version.trim()).toMatch(/^\d+$/);
    expect(await roundTrip(dataDir)).toBe('hello');
    // No sibling left from the child's initdb.
    expect((await readdir(root)).filter((name) => name.includes('.initdb-'))).toEqual([]);
  });

  it('keeps the files already in DATA_DIR (a dev key) when it creates the database there', async () => {
    const dataDir = join(root, 'with-key');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'dev-key'), 'secret');
    await ensurePgliteDataDir(dataDir);
    expect(await readFile(join(dataDir, 'dev-key'), 'utf8')).toBe('secret');
    expect(await roundTrip(dataDir, 'x')).toBe('x');
  });

  it('makes a half-made directory (PG_VERSION never written) again instead of opening it', async () => {
    const dataDir = join(root, 'half');
    await mkdir(join(dataDir, 'base'), { recursive: true });
    await writeFile(join(dataDir, 'postgresql.conf'), 'garbage = = =');
    await ensurePgliteDataDir(dataDir);
    expect(await roundTrip(dataDir, 'y')).toBe('y');
  });
});
