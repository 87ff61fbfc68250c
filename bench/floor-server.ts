// The floor of the `subscribers` burst: a bare `ws` server (in a child process, like Braid's) speaking
// just enough graphql-transport-ws for graphql-ws clients — ack, remember each subscription — that
// sends the same pre-serialized `next` frames to every subscription on request, then `complete`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

type ParentMessage = { type: 'burst'; payloads: string[]; subscriptions: number } | { type: 'stop' };
type ChildMessage = { type: 'ready'; url: string } | { type: 'sending'; at: number };

/** Starts the floor server in a child process. `burst` resolves with the wall-clock time sending began. */
export async function startFloorServer() {
  const child = fork(fileURLToPath(import.meta.url), ['child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let sending: ((at: number) => void) | null = null;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') resolve(message.url);
      else sending?.(message.at);
    });
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
  });
  return {
    url,
    /** Sends every payload to each of `subscriptions` subscriptions (once that many have subscribed). */
    burst: (payloads: string[], subscriptions: number) =>
      new Promise<number>((resolve) => {
        sending = resolve;
        child.send({ type: 'burst', payloads, subscriptions } satisfies ParentMessage);
      }),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' } satisfies ParentMessage);
      await exited;
    },
  };
}

function serve(): void {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'graphql-transport-ws' });
  let subscribed: { socket: WebSocket; id: string }[] = [];
  let pending: Extract<ParentMessage, { type: 'burst' }> | null = null;
  const send = (message: ChildMessage) => process.send!(message);
  const maybeBurst = () => {
    if (!pending || subscribed.length < pending.subscriptions) return;
    const { payloads } = pending;
    pending = null;
    const targets = subscribed;
    subscribed = [];
    send({ type: 'sending', at: performance.timeOrigin + performance.now() });
    for (const { socket, id } of targets) {
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      for (const payload of payloads) socket.send(prefix + payload + '}');
      socket.send(JSON.stringify({ id, type: 'complete' }));
    }
  };
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string };
      if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
      else if (message.type === 'ping') socket.send('{"type":"pong"}');
      else if (message.type === 'subscribe') {
        subscribed.push({ socket, id: message.id! });
        maybeBurst();
      }
    });
  });
  wss.on('listening', () => {
    const address = wss.address() as { port: number };
    send({ type: 'ready', url: `http://127.0.0.1:${address.port}/graphql` });
  });
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') {
      for (const client of wss.clients) client.terminate();
      wss.close(() => process.exit(0));
    } else {
      pending = message;
      maybeBurst();
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === 'child') serve();
