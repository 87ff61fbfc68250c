// A loopback HTTP server for tests and benchmarks: `/slow?ms=N&tag=x` answers after N ms,
// `/status?code=N` answers with that status, `/flaky?fail=N&tag=x` answers 503 to the first N requests
// of each Idempotency-Key and 200 after, `/hold?tag=x` answers once the test calls `release(tag)`.
// It records when each request started and ended, its Idempotency-Key and the status it answered.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  tag: string;
  path: string;
  startedAt: number;
  endedAt: number | null;
  /** True when the client went away before the answer. */
  aborted: boolean;
  /** The request's `Idempotency-Key` header, or null without one. */
  idempotencyKey: string | null;
  /** Wall clock (`Date.now()`) when it arrived: comparable with times another process on this machine stored. */
  receivedAt: number;
  /** The status it was answered with; null until then, and for good when the client went away first. */
  status: number | null;
}

export async function startSlowServer() {
  const requests: RecordedRequest[] = [];
  const waiters: { predicate: (request: RecordedRequest) => boolean; resolve: (request: RecordedRequest) => void }[] = [];
  // Requests answered per Idempotency-Key (per tag for requests without one), for /flaky.
  const flakyCounts = new Map<string, number>();
  const held = new Map<string, (() => void)[]>();
  const released = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const header = req.headers['idempotency-key'];
    const record: RecordedRequest = {
      tag: url.searchParams.get('tag') ?? url.pathname,
      path: url.pathname,
      startedAt: performance.now(),
      endedAt: null,
      aborted: false,
      idempotencyKey: typeof header === 'string' ? header : null,
      receivedAt: Date.now(),
      status: null,
    };
    requests.push(record);
    for (const waiter of waiters.filter((w) => w.predicate(record))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(record);
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const finish = (status: number, body: unknown) => {
      if (record.endedAt !== null) return;
      record.endedAt = performance.now();
      record.status = status;
      inFlight--;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const onAbort = (cleanup: () => void) =>
      res.on('close', () => {
        if (record.endedAt === null) {
          cleanup();
          record.aborted = true;
          record.endedAt = performance.now();
          inFlight--;
        }
      });
    if (url.pathname === '/slow') {
      const ms = Number(url.searchParams.get('ms') ?? 0);
      const timer = setTimeout(() => finish(200, { tag: record.tag, ms }), ms);
      onAbort(() => clearTimeout(timer));
    } else if (url.pathname === '/status') {
      finish(Number(url.searchParams.get('code') ?? 500), { tag: record.tag });
    } else if (url.pathname === '/flaky') {
      const key = record.idempotencyKey ?? `tag:${record.tag}`;
      const count = (flakyCounts.get(key) ?? 0) + 1;
      flakyCounts.set(key, count);
      const fail = Number(url.searchParams.get('fail') ?? 1);
      finish(count <= fail ? 503 : 200, { tag: record.tag, count });
    } else if (url.pathname === '/hold') {
      const answer = () => finish(200, { tag: record.tag });
      if (released.has(record.tag)) answer();
      else {
        const list = held.get(record.tag) ?? [];
        held.set(record.tag, [...list, answer]);
        onAbort(() => held.set(record.tag, (held.get(record.tag) ?? []).filter((a) => a !== answer)));
      }
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
    /** The first request (already recorded or still to come) matching `predicate`; rejects after `timeoutMs`. */
    waitForRequest(predicate: (request: RecordedRequest) => boolean, timeoutMs = 30_000): Promise<RecordedRequest> {
      const found = requests.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (request: RecordedRequest) => {
            clearTimeout(timer);
            resolve(request);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    /** Answers the held `/hold` requests of `tag`, and from now on answers that tag at once. */
    release(tag: string): void {
      released.add(tag);
      for (const answer of held.get(tag) ?? []) answer();
      held.delete(tag);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type SlowServer = Awaited<ReturnType<typeof startSlowServer>>;
