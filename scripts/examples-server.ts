// The local service the example workflows call — `GET /slow?ms=N&tag=T` answers `{ "tag": T, "ms": N }`
// after N ms (at most 60,000), on 127.0.0.1. `npm run examples:server` serves it on EXAMPLES_PORT
// (default 9000); `npm run example` starts one of its own.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface ExamplesServer {
  port: number;
  /** The base URL, e.g. http://127.0.0.1:9000 */
  url: string;
  close(): Promise<void>;
}

/** Serves /slow on 127.0.0.1:`port` (0: a free port). */
export async function startExamplesServer(port: number): Promise<ExamplesServer> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/slow') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'try /slow?ms=200&tag=a' }));
      return;
    }
    const ms = Math.min(Math.max(Number(url.searchParams.get('ms')) || 0, 0), 60_000);
    const tag = url.searchParams.get('tag');
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tag, ms })), ms);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.EXAMPLES_PORT || 9000);
  const server = await startExamplesServer(port).catch((error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `examples server: port ${port} on 127.0.0.1 is already in use; set EXAMPLES_PORT to another port`
        : `examples server: ${error.message}`,
    );
    process.exit(1);
  });
  console.log(`examples server: ${server.url}/slow?ms=200&tag=a`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.close().then(() => process.exit(0)));
}
