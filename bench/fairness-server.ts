// The child-process server of bench/fairness.ts: Braid on the database the environment names, with two
// organizations (`flood` and `steady`) made directly in its database, their ADMIN keys sent to the
// parent over IPC; answers `usage` requests and stops on `stop`, as bench/server-process.ts does.
import { loadConfig } from '../src/config.js';
import { openDb } from '../src/db/client.js';
import { migrateDb } from '../src/db/migrate.js';
import { insertOrganization } from '../src/db/queries/organizations.js';
import { buildServer } from '../src/server.js';
import { cpuMs } from './server-launch.js';

export type FairnessServerMessage =
  | { type: 'ready'; url: string; keys: { flood: string; steady: string } }
  | { type: 'usage'; id: number; rss: number; cpuMs: number };

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
// An ADMIN_TOKEN (never used) turns dev mode off: the organizations are the bench's two.
const config = loadConfig({ LOG_LEVEL: process.env.LOG_LEVEL || 'warn', ...env, ADMIN_TOKEN: 'bench-fairness-admin-token' });
const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
await migrateDb(database);
const server = buildServer({ config, database });
const started = await server.start(0, '127.0.0.1');
const [flood, steady] = await Promise.all(['flood', 'steady'].map((name) => insertOrganization(database.db, name)));
const send = (message: FairnessServerMessage) => process.send!(message);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server
    .stop()
    .then(() => database.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('bench fairness server: error while stopping', error);
        process.exit(1);
      },
    );
};
process.on('message', (message: { type: 'usage'; id: number } | { type: 'stop' }) => {
  if (message.type === 'usage') send({ type: 'usage', id: message.id, rss: process.memoryUsage().rss, cpuMs: cpuMs() });
  else stop();
});
process.on('disconnect', stop);
send({ type: 'ready', url: started.url, keys: { flood: flood!.secret, steady: steady!.secret } });
