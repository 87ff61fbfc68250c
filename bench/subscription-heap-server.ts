// The child side of bench/subscription-heap.ts: a Braid server started from the source tree named in
// argv (this checkout, or another commit's checkout for a side-by-side run) that answers `measure` (heap
// used and RSS after full garbage collections) and `snapshot` (a V8 heap snapshot to a file) over IPC.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import type { startServer as StartServer } from './server-launch.js';

export type HeapRequest = { type: 'measure'; id: number } | { type: 'snapshot'; id: number; file: string } | { type: 'stop' };
export type HeapReply =
  | { type: 'ready'; url: string; key: string }
  | { type: 'measured'; id: number; heapUsed: number; rss: number; external: number }
  | { type: 'written'; id: number; file: string };

const [tree, envJson] = process.argv.slice(2);
if (!tree || !envJson) throw new Error('usage: subscription-heap-server.ts <source tree> <env as JSON>');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('subscription-heap-server.ts needs node --expose-gc');

const launch = (await import(pathToFileURL(join(tree, 'bench/server-launch.ts')).href)) as { startServer: typeof StartServer };
const server = await launch.startServer(JSON.parse(envJson) as Record<string, string>);
const send = (reply: HeapReply) => process.send!(reply);

/** Full collections until the heap stops shrinking (weak references and finalizers take a few). */
async function settle(): Promise<void> {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 1024) return;
    last = used;
  }
}

process.on('message', (message: HeapRequest) => {
  if (message.type === 'stop') {
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('subscription-heap server: error while stopping', error);
        process.exit(1);
      },
    );
    return;
  }
  void settle().then(() => {
    if (message.type === 'snapshot') return send({ type: 'written', id: message.id, file: writeHeapSnapshot(message.file) });
    const { heapUsed, rss, external } = process.memoryUsage();
    send({ type: 'measured', id: message.id, heapUsed, rss, external });
  });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', url: server.url, key: server.key });
