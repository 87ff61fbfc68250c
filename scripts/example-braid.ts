// The Braid server `npm run example` talks to: the one at BRAID_URL, or one started in this process in
// dev mode (memory:// unless DATA_DIR says otherwise; PORT or a free port; http nodes may call loopback).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { openDb } from '../src/db/client.js';
import { DataDirInUseError, lockDataDir } from '../src/db/data-dir-lock.js';
import { migrateDb } from '../src/db/migrate.js';
import { devKeyFileName } from '../src/dev-key.js';
import { createLogger } from '../src/observability/logger.js';
import { buildServer } from '../src/server.js';

/** A failure the person running the command can fix: printed as one line. */
export class ExampleError extends Error {}

export interface RunningBraid {
  baseUrl: string;
  graphqlUrl: string;
  apiKey: string;
  stop(): Promise<void>;
}

export async function startBraid(env: NodeJS.ProcessEnv = process.env): Promise<RunningBraid> {
  if (env.BRAID_URL) return reachBraid(env.BRAID_URL, env);
  const config = loadConfig({
    ...env,
    ADMIN_TOKEN: undefined,
    HTTP_ALLOW_PRIVATE: 'true',
    PORT: env.PORT || '0',
    DATA_DIR: env.DATA_DIR || 'memory://',
    LOG_LEVEL: env.LOG_LEVEL || 'warn',
  });
  const lock = config.databaseUrl
    ? undefined
    : await lockDataDir(config.dataDir).catch((error: unknown) => {
        if (!(error instanceof DataDirInUseError)) throw error;
        throw new ExampleError(`${error.message}: set BRAID_URL (e.g. http://127.0.0.1:4000) to use that server, or another DATA_DIR`);
      });
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, applicationName: 'braid:example' });
  await migrateDb(database);
  const server = buildServer({ config, database, logger: createLogger({ level: config.logLevel }) });
  const stop = async () => {
    await server.stop();
    await database.close();
    await lock?.release();
  };
  let started;
  try {
    started = await server.start(config.port, config.host);
  } catch (error) {
    await stop();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ExampleError(`port ${config.port} on ${config.host} is already in use; set PORT to another port, or unset it for a free one`);
    }
    throw error;
  }
  const baseUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${started.port}`;
  return { baseUrl, graphqlUrl: `${baseUrl}/graphql`, apiKey: started.devApiKey!, stop };
}

/** A server already running: its key from BRAID_API_KEY, or the dev key its DATA_DIR keeps. */
async function reachBraid(url: string, env: NodeJS.ProcessEnv): Promise<RunningBraid> {
  const baseUrl = url.replace(/\/+$/, '').replace(/\/graphql$/, '');
  let apiKey = env.BRAID_API_KEY;
  if (!apiKey) {
    const file = join(env.DATA_DIR || './.data', devKeyFileName);
    apiKey = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (!apiKey) throw new ExampleError(`BRAID_URL is set but BRAID_API_KEY is not (and no dev key in ${file}): set BRAID_API_KEY to an EDITOR key`);
  }
  return { baseUrl, graphqlUrl: `${baseUrl}/graphql`, apiKey, stop: async () => undefined };
}
