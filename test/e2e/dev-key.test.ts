// Dev mode keeps one ADMIN key per data directory (CONTRACT §1, §6): DATA_DIR/dev-api-key (mode 0600)
// is reused by the next start instead of adding a key per start; a revoked dev key is replaced.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDb } from '../../src/db/client.js';
import { migrateDb } from '../../src/db/migrate.js';
import { buildServer } from '../../src/server.js';
import { pgliteTemplate } from '../helpers/db.js';
import { postGraphql as post } from '../helpers/graphql-post.js';
import { quietLogger } from '../helpers/quiet-logger.js';

let dir: string;
let starts = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'braid-dev-key-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts dev mode on PGlite in `dir`, runs `use` against it, and stops it (closing the database). */
async function devStart<T>(use: (url: string, key: string) => Promise<T>): Promise<T> {
  // The first start begins from the migrated template (a fresh initdb takes ~30 s on a busy machine).
  const template = starts++ === 0 ? { loadDataDir: await pgliteTemplate() } : {};
  const database = await openDb({ dataDir: dir, ...template });
  await migrateDb(database);
  const server = buildServer({ config: loadConfig({ PORT: '0', DATA_DIR: dir, SHUTDOWN_GRACE_MS: '0' }), database, logger: quietLogger() });
  try {
    const started = await server.start(0);
    return await use(started.url, started.devApiKey!);
  } finally {
    await server.stop();
    await database.close();
  }
}

const listKeys = '{ apiKeys { id name role revokedAt } }';

it('reuses the dev key of its data directory across starts, and replaces it once revoked', async () => {
  const first = await devStart(async (url, key) => {
    expect(key).toMatch(/^brd_/);
    expect((await post(url, key, listKeys)).data?.apiKeys).toEqual([
      { id: expect.any(String), name: 'dev', role: 'ADMIN', revokedAt: null },
    ]);
    return key;
  });
  const file = join(dir, 'dev-api-key');
  expect((await readFile(file, 'utf8')).trim()).toBe(first);
  expect((await stat(file)).mode & 0o777).toBe(0o600);

  const revokedId = await devStart(async (url, key) => {
    expect(key).toBe(first);
    const keys = (await post(url, key, listKeys)).data?.apiKeys as { id: string }[];
    expect(keys).toHaveLength(1);
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain(`Bearer ${key}`);
    const revoked = await post(url, key, 'mutation ($id: ID!) { revokeApiKey(id: $id) { __typename } }', { id: keys[0]!.id });
    expect(revoked.data?.revokeApiKey.__typename).toBe('ApiKey');
    return keys[0]!.id;
  });

  await devStart(async (url, key) => {
    expect(key).not.toBe(first);
    expect((await readFile(file, 'utf8')).trim()).toBe(key);
    expect((await post(url, first, '{ organization { id } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const keys = (await post(url, key, listKeys)).data?.apiKeys as { id: string; revokedAt: string | null }[];
    expect(keys).toHaveLength(2);
    expect(keys.find((k) => k.id === revokedId)?.revokedAt).toEqual(expect.any(String));
  });
}, 60_000);
