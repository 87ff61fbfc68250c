// A loopback HTTP server that holds every request until `release()` and records when each run's
// request arrived (by the http node's Idempotency-Key, `<runId>:<nodeId>:<retries>`): a run waiting on
// it is mid-flight for as long as the bench wants, and a run taken over elsewhere shows by calling again.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startHoldServer() {
  /** The first arrival (Date.now()) of each run since the last `round()`. */
  let round = new Map<string, number>();
  let requests = 0;
  const held = new Set<ServerResponse>();
  let open = false;
  const waiters = new Set<() => void>();
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

  const server = createServer((req, res) => {
    const at = Date.now();
    requests++;
    const key = req.headers['idempotency-key'];
    const runId = typeof key === 'string' ? key.split(':')[0]! : '';
    if (!round.has(runId)) round.set(runId, at);
    if (open) answer(res);
    else {
      held.add(res);
      res.once('close', () => held.delete(res));
    }
    for (const check of waiters) check();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hold`,
    /** Starts counting arrivals afresh (e.g. at a kill): each run's first call from now on. */
    round(): void {
      round = new Map();
    },
    /** The first arrival of each run in this round, by run id. */
    get arrivals(): ReadonlyMap<string, number> {
      return round;
    },
    /** Requests received in all. */
    get requests(): number {
      return requests;
    },
    /** Resolves once `runs` runs called in this round; rejects after `timeoutMs` naming `what`. */
    until(runs: number, timeoutMs: number, what: string): Promise<void> {
      if (round.size >= runs) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (round.size < runs) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${what}: ${round.size} of ${runs} runs called within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    /** Answers every held request, and every later one at once. */
    release() {
      open = true;
      for (const res of held) answer(res);
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type HoldServer = Awaited<ReturnType<typeof startHoldServer>>;
