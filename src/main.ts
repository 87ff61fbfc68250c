// Entry point: config → DATA_DIR lock → database → migrations → server; SIGTERM/SIGINT drain it.
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDb } from './db/client.js';
import { DataDirInUseError, lockDataDir, type DataDirLock } from './db/data-dir-lock.js';
import { migrateDb } from './db/migrate.js';
import { newProcessId } from './runs/run-service.js';
import { buildServer } from './server.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`braid: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  // PGlite must never be opened by two processes: the lock dies with this process, however it ends.
  let lock: DataDirLock | undefined;
  try {
    if (!config.databaseUrl) lock = await lockDataDir(config.dataDir);
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      console.error(`braid: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // Other processes find this one's sessions by it (to free the runs it locks if it hangs).
  const processId = newProcessId();
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, applicationName: `braid:${processId}` });
  await migrateDb(database);
  const server = buildServer({ config, database, processId });
  const started = await server.start(config.port, config.host);

  console.log(`braid: GraphQL at ${started.url} (GraphiQL in a browser; graphql-ws on the same path)`);
  console.log(`braid: database ${database.driver === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.dataDir}`}`);
  if (started.devApiKey) {
    const kept = config.dataDir === 'memory://' ? 'a new one each start with memory://' : `kept in ${config.dataDir}/dev-api-key`;
    console.log(`braid: dev mode (no ADMIN_TOKEN): only loopback hosts are answered; organization "default", ADMIN key (${kept}):`);
    console.log(`  Authorization: Bearer ${started.devApiKey}`);
    console.log(`  GraphiQL: ${started.url} (the key is pre-filled in its headers)`);
  }
  const { secretsKey } = started;
  if (secretsKey === 'none') console.log('braid: SECRETS_KEY is not set: secrets cannot be created or updated (32 bytes in base64, e.g. `openssl rand -base64 32`)');
  else if (secretsKey === 'new per start') console.log('braid: secrets key: a new one for this start (dev mode, nothing kept)');
  else if (typeof secretsKey === 'object') console.log(`braid: secrets key: kept in ${secretsKey.file} (dev mode; set SECRETS_KEY to use your own)`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`braid: ${signal}: draining (running steps get up to ${config.shutdownGraceMs} ms; unfinished runs go on elsewhere or at the next start)`);
    server
      .stop()
      .then(() => database.close())
      .then(() => lock?.release())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('braid: error while stopping', error);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('braid: failed to start', error);
  process.exit(1);
});
