// A dev-mode Braid (no ADMIN_TOKEN) on PGlite in a temporary data directory, started from the migrated
// template: what `npm start` runs on a developer's machine, for tests of what a browser is served.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openDb } from '../../src/db/client.js';
import { migrateDb } from '../../src/db/migrate.js';
import { buildServer } from '../../src/server.js';
import { pgliteTemplate } from './db.js';
import { quietLogger } from './quiet-logger.js';

export interface DevServer {
  /** e.g. http://127.0.0.1:1234 (no path). */
  baseUrl: string;
  /** The GraphQL endpoint. */
  url: string;
  devApiKey: string;
  close(): Promise<void>;
}

export async function startDevServer(env: Record<string, string> = {}): Promise<DevServer> {
  const dir = await mkdtemp(join(tmpdir(), 'braid-dev-'));
  const database = await openDb({ dataDir: dir, loadDataDir: await pgliteTemplate() });
  await migrateDb(database);
  const server = buildServer({
    config: loadConfig({ PORT: '0', DATA_DIR: dir, SHUTDOWN_GRACE_MS: '0', HTTP_ALLOW_PRIVATE: 'true', SHED_EVENT_LOOP_DELAY_MS: '0', ...env }),
    database,
    logger: quietLogger(),
  });
  const started = await server.start(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${started.port}`;
  return {
    baseUrl,
    url: `${baseUrl}/graphql`,
    devApiKey: started.devApiKey!,
    async close() {
      await server.stop();
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
