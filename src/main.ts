// Entry point: config → database → migrations → server; SIGTERM/SIGINT stop it cleanly.
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDb } from './db/client.js';
import { migrateDb } from './db/migrate.js';
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

  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrateDb(database);
  const server = buildServer({ config, database });
  const started = await server.start(config.port);

  console.log(`braid: GraphQL at ${started.url} (GraphiQL in a browser; graphql-ws on the same path)`);
  console.log(`braid: database ${database.driver === 'postgres' ? 'PostgreSQL' : `PGlite in ${config.dataDir}`}`);
  if (started.recoveredRuns > 0) {
    console.log(`braid: ${started.recoveredRuns} run(s) interrupted by the last stop were marked FAILED`);
  }
  if (started.devApiKey) {
    console.log('braid: dev mode (no ADMIN_TOKEN): organization "default", ADMIN key for this start:');
    console.log(`  Authorization: Bearer ${started.devApiKey}`);
    console.log(`  GraphiQL: ${started.url} (the key is pre-filled in its headers)`);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`braid: ${signal}: stopping (live runs end CANCELLED)`);
    server
      .stop()
      .then(() => database.close())
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
