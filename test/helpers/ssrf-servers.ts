// Loopback servers for the http node's private-network tests, all on one port: the private target on
// 127.0.0.1 and [::1] counts every connection made to it (it must see none), and a stand-in for a
// public host on 127.0.0.2 (which the tests' node type counts as public) echoes and redirects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  host: string;
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** `/redirect?to=<url>&code=<status>` redirects; `/close` answers with `Connection: close`; the rest echo. */
function publicHandler(received: Received[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      received.push({ host: req.headers.host ?? '', path: url.pathname, method: req.method!, headers: req.headers, body });
      if (url.pathname === '/redirect') {
        res.writeHead(Number(url.searchParams.get('code') ?? 302), { location: url.searchParams.get('to')! }).end();
        return;
      }
      const headers = { 'content-type': 'application/json', ...(url.pathname === '/close' ? { connection: 'close' } : {}) };
      res.writeHead(200, headers).end(JSON.stringify({ server: 'public', path: url.pathname }));
    });
  };
}

/** A server on `host` (any port) that records every request and redirects on `/redirect`, as the public stand-in does. */
export async function startRecordingServer(host = '127.0.0.1') {
  const received: Received[] = [];
  const server = createServer(publicHandler(received));
  await listen(server, 0, host);
  const { port } = server.address() as AddressInfo;
  return { port, origin: `http://${host}:${port}`, received, close: () => close(server) };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startSsrfServers() {
  const state = { targetConnections: 0, targetRequests: [] as string[] };
  const publicReceived: Received[] = [];
  const target = () => {
    const server = createServer((req, res) => {
      state.targetRequests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('private');
    });
    server.on('connection', () => state.targetConnections++);
    return server;
  };
  // Bind the three on one port (one port for both sides makes DNS rebinding real: same URL, other host).
  for (let attempt = 1; ; attempt++) {
    const servers = [target(), target(), createServer(publicHandler(publicReceived))] as const;
    try {
      await listen(servers[0], 0, '127.0.0.1');
      const { port } = servers[0].address() as AddressInfo;
      await listen(servers[1], port, '::1');
      await listen(servers[2], port, '127.0.0.2');
      return {
        port,
        /** Connections the private target accepted (on 127.0.0.1 or ::1). */
        get targetConnections() {
          return state.targetConnections;
        },
        targetRequests: state.targetRequests,
        /** Requests the public stand-in received, in order. */
        publicReceived,
        reset() {
          state.targetConnections = 0;
          state.targetRequests.length = 0;
          publicReceived.length = 0;
        },
        close: () => Promise.all(servers.map(close)).then(() => undefined),
      };
    } catch (error) {
      await Promise.all(servers.map((server) => (server.listening ? close(server) : undefined)));
      if (attempt === 20) throw error;
    }
  }
}

export type SsrfServers = Awaited<ReturnType<typeof startSsrfServers>>;
