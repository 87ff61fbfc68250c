// A loopback HTTP server that holds every request until `release()`: an `http` node pointed at it
// keeps a run waiting at a known point (e.g. while subscribers connect), with no sleep involved.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startGateServer() {
  const held: (() => void)[] = [];
  const server = createServer((_req, res) => {
    held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"i":0}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`,
    /** Answers every request held so far. */
    release: () => held.splice(0).forEach((answer) => answer()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type GateServer = Awaited<ReturnType<typeof startGateServer>>;
