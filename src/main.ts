// Entry point: config → logger → DATA_DIR lock → database → migrations → server; SIGTERM/SIGINT drain it.
// Everything after the config is read is logged as JSON lines on stdout (pino, LOG_LEVEL).
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDb } from './db/client.js';
import { DataDirInUseError, lockDataDir, type DataDirLock } from './db/data-dir-lock.js';
import { migrateDb } from './db/migrate.js';
import { SecretsKeyMismatchError } from './db/queries/secrets-key-check.js';
import { createLogger } from './observability/logger.js';
import { newProcessId } from './runs/run-service.js';
import { buildServer } from './server.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      // No logger yet: LOG_LEVEL itself may be what is wrong.
      console.error(`braid: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger({ level: config.logLevel });

  // PGlite must never be opened by two processes: the lock dies with this process, however it ends.
  let lock: DataDirLock | undefined;
  try {
    if (!config.databaseUrl) lock = await lockDataDir(config.dataDir);
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
  // Other processes find this one's sessions by it (to free the runs it locks if it hangs).
  const processId = newProcessId();
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, applicationName: `braid:${processId}` });
  await migrateDb(database);
  const server = buildServer({ config, database, processId, logger });
  let started;
  try {
    started = await server.start(config.port, config.host);
  } catch (error) {
    const refusal = startRefusal(error, config);
    if (!refusal) throw error;
    // One line a person can act on, not a stack: the usual mistakes are a second server on the port, a stale key.
    console.error(`braid: ${refusal}`);
    await Promise.race([
      server.stop().then(() => database.close()).then(() => lock?.release()),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]).catch((cleanup: unknown) => logger.debug({ err: cleanup }, 'cleaning up after the refused start failed'));
    process.exit(1);
  }

  const base = started.url.replace(/\/graphql$/, '');
  logger.info(
    { url: started.url, processId, database: database.driver, logLevel: config.logLevel, metricsProtected: config.metricsToken !== undefined },
    `GraphQL at ${started.url} (GraphiQL in a browser; graphql-ws on the same path); ${base}/health, ${base}/ready, ${base}/metrics`,
  );
  logger.info(`database: ${database.driver === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.dataDir}`}`);
  if (started.devApiKey) {
    const kept = config.dataDir === 'memory://' ? 'a new one each start with memory://' : `kept in ${config.dataDir}/dev-api-key`;
    // The one line that holds a key: dev mode hands it to whoever starts the server, on purpose.
    logger.info(
      `dev mode (no ADMIN_TOKEN): only loopback hosts are answered; ADMIN key of organization "default" (${kept}), pre-filled in GraphiQL: Authorization: Bearer ${started.devApiKey} `,
    );
  }
  const { secretsKey } = started;
  if (secretsKey === 'none') logger.warn('SECRETS_KEY is not set: secrets cannot be created or updated (32 bytes in base64, e.g. `openssl rand -base64 32`)');
  else if (secretsKey === 'new per start') logger.info('secrets key: a new one for this start (dev mode, nothing kept)');
  else if (typeof secretsKey === 'object') logger.info(`secrets key: kept in ${secretsKey.file} (dev mode; set SECRETS_KEY to use your own)`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${signal}: draining (running steps get up to ${config.shutdownGraceMs} ms; unfinished runs go on elsewhere or at the next start)`);
    server
      .stop()
      .then(() => database.close())
      .then(() => lock?.release())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Why the server could not start, in a sentence naming what to change; undefined for other errors. */
function startRefusal(error: unknown, config: Config): string | undefined {
  if (error instanceof SecretsKeyMismatchError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `port ${config.port} on ${config.host}`;
  if (code === 'EADDRINUSE') return `${where} is already in use; set PORT to another port (or stop the process using it)`;
  if (code === 'EACCES') return `not allowed to listen on ${where}; set PORT to a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${config.host}: not an address of this machine; set HOST to one`;
  return undefined;
}

main().catch((error: unknown) => {
  console.error('braid: failed to start', error);
  process.exit(1);
});
