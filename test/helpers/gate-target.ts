// A loopback HTTP target that holds every request until the test releases it, counting the requests
// in flight per group (`?group=g&tag=t`) and the most that ever overlapped; tests wait on its state
// changes (no sleeps). A request whose client goes away (a killed server) stops counting at once.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GateRequest {
  group: string;
  tag: string;
  /** Answered (released), or its client went away. */
  done: boolean;
}

export interface GateTarget {
  url: string;
  /** Every request so far, in the order they arrived. */
  readonly requests: readonly GateRequest[];
  inFlight(group: string): number;
  maxInFlight(group: string): number;
  /** The tags of a group's requests, in the order they arrived. */
  arrived(group: string): string[];
  /** Answers the held requests of `tag` (200, `{ tag }`), and from now on answers that tag at once. */
  release(tag: string): void;
  /** Resolves once `predicate` holds (checked now and after every change); rejects after `timeoutMs`. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startGateTarget(): Promise<GateTarget> {
  const requests: GateRequest[] = [];
  const answers = new Map<GateRequest, () => void>();
  const released = new Set<string>();
  const flying = new Map<string, number>();
  const most = new Map<string, number>();
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const request: GateRequest = { group: url.searchParams.get('group') ?? '', tag: url.searchParams.get('tag') ?? '', done: false };
    requests.push(request);
    const count = (flying.get(request.group) ?? 0) + 1;
    flying.set(request.group, count);
    most.set(request.group, Math.max(most.get(request.group) ?? 0, count));
    const end = () => {
      if (request.done) return false;
      request.done = true;
      answers.delete(request);
      flying.set(request.group, flying.get(request.group)! - 1);
      return true;
    };
    answers.set(request, () => {
      if (end()) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tag: request.tag }));
      changed();
    });
    res.on('close', () => {
      if (end()) changed();
    });
    changed();
    if (released.has(request.tag)) answers.get(request)?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inFlight: (group) => flying.get(group) ?? 0,
    maxInFlight: (group) => most.get(group) ?? 0,
    arrived: (group) => requests.filter((r) => r.group === group).map((r) => r.tag),
    release(tag) {
      released.add(tag);
      for (const [request, answer] of [...answers]) if (request.tag === tag) answer();
    },
    until(predicate, what, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`gate: not ${what} within ${timeoutMs} ms; in flight: ${JSON.stringify([...flying])}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
