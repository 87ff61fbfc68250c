// The child-process side of startServerProcess: starts the server with the environment (and the bench's
// deps) given as JSON in argv, answers `usage` requests (RSS, CPU time) over IPC, and stops cleanly on `stop` (or when the parent goes away).
import { cpuMs, startServer, type BenchDeps, type ChildMessage } from './server-launch.js';

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const server = await startServer(env, JSON.parse(process.argv[3] ?? '{}') as BenchDeps);
const send = (message: ChildMessage) => process.send!(message);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('bench server: error while stopping', error);
      process.exit(1);
    },
  );
};

process.on('message', (message: { type: 'usage'; id: number; gc?: boolean } | { type: 'stop' }) => {
  if (message.type === 'usage' && message.gc) (globalThis as { gc?: () => void }).gc?.();
  if (message.type === 'usage') send({ type: 'usage', id: message.id, rss: process.memoryUsage().rss, cpuMs: cpuMs() });
  else stop();
});
process.on('disconnect', stop);
send({ type: 'ready', url: server.url, key: server.key });
