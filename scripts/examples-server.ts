// `npm run examples:server`: the local service the example workflows call — `GET /slow?ms=N&tag=T`
// answers `{ "tag": T, "ms": N }` after N ms (at most 60,000), on 127.0.0.1 (PORT, default 9000).
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 9000);

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

server.listen(port, '127.0.0.1', () => console.log(`examples server: http://127.0.0.1:${port}/slow?ms=200&tag=a`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
