// A loopback HTTP server for tests and benchmarks: `/slow?ms=N&tag=x` answers after N ms,
// `/status?code=N` answers with that status. It records when each request started and ended.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  tag: string;
  path: string;
  startedAt: number;
  endedAt: number | null;
  /** True when the client went away before the answer. */
  aborted: boolean;
}

export async function startSlowServer() {
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record: RecordedRequest = {
      tag: url.searchParams.get('tag') ?? url.pathname,
      path: url.pathname,
      startedAt: performance.now(),
      endedAt: null,
      aborted: false,
    };
    requests.push(record);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const finish = (status: number, body: unknown) => {
      record.endedAt = performance.now();
      inFlight--;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname === '/slow') {
      const ms = Number(url.searchParams.get('ms') ?? 0);
      const timer = setTimeout(() => finish(200, { tag: record.tag, ms }), ms);
      res.on('close', () => {
        if (record.endedAt === null) {
          clearTimeout(timer);
          record.aborted = true;
          record.endedAt = performance.now();
          inFlight--;
        }
      });
    } else if (url.pathname === '/status') {
      finish(Number(url.searchParams.get('code') ?? 500), { tag: record.tag });
    } else {
      finish(404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    /** The latest request of each tag had started before any of them ended. */
    overlapped(tags: string[]): boolean {
      const chosen = tags.flatMap((tag) => requests.findLast((r) => r.tag === tag) ?? []);
      const lastStart = Math.max(...chosen.map((r) => r.startedAt));
      return chosen.length === tags.length && chosen.every((r) => r.endedAt === null || r.endedAt >= lastStart);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type SlowServer = Awaited<ReturnType<typeof startSlowServer>>;
