// Fair share at the node level, through the API against loopback hosts the test answers by hand:
// HTTP_HOST_CONCURRENCY caps the requests in flight to one host (the others RUNNING, their Step.reason
// saying so, and /metrics showing the host), 429s lower the concurrency a host sees and successes raise
// it, a Retry-After pauses the host for every run, and an organization's maxRunningNodes keeps the rest
// of its nodes PENDING with a reason.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations } from '../../src/db/schema.js';
import { GetRun, createWorkflow, startRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A request the host holds until the test answers it. */
interface Held {
  path: string;
  /** Date.now() when it arrived. */
  arrivedAt: number;
  answer(status: number, headers?: Record<string, string>): void;
}

/** A loopback host that holds every request (or answers it at once with `auto`), counting what is in flight. */
async function startHost(auto?: (request: { index: number }) => { status: number; headers?: Record<string, string> } | null) {
  const held: Held[] = [];
  const arrivals: { path: string; arrivedAt: number; status: number | null }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const arrival = { path: req.url ?? '', arrivedAt: Date.now(), status: null as number | null };
    arrivals.push(arrival);
    const entry: Held = {
      path: arrival.path,
      arrivedAt: arrival.arrivedAt,
      answer(status, headers = {}) {
        held.splice(held.indexOf(entry), 1);
        arrival.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify({ status }));
      },
    };
    res.on('close', () => inFlight--);
    held.push(entry);
    const now = auto?.({ index: arrivals.length - 1 });
    if (now) entry.answer(now.status, now.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    held,
    arrivals,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Requests still held (a failed test) are cut off rather than waited for.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Host = Awaited<ReturnType<typeof startHost>>;
type StepRow = { nodeId: string; status: string; reason: string | null };

const fanOut = (url: string, count: number, node: Record<string, unknown> = {}) => ({
  nodes: [
    { id: 't', type: 'trigger' },
    ...Array.from({ length: count }, (_, i) => ({ id: `n${i}`, type: 'http', params: { url: `${url}/n${i}` }, ...node })),
  ],
  edges: Array.from({ length: count }, (_, i) => ({ source: 't', target: `n${i}` })),
});

async function stepsOf(t: TestServer, key: string, runIds: string[]): Promise<StepRow[]> {
  const all: StepRow[] = [];
  for (const id of runIds) all.push(...((await t.request(GetRun, { id }, key)).data?.run?.steps ?? []));
  return all;
}

async function statusOf(t: TestServer, key: string, runId: string): Promise<string | undefined> {
  return (await t.request(GetRun, { id: runId }, key)).data?.run?.status;
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The limiter's requests in flight to `host`, as GET /metrics shows them (0 when it lists no such host). */
async function limiterInFlight(t: TestServer, host: string): Promise<number> {
  const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((each) => each.startsWith(`braid_http_host_in_flight{host="${host}"} `));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/**
 * Waits until nothing is on its way to the host: the requests held there are exactly those the
 * process has in flight to it (/metrics) and exactly the RUNNING http steps without a reason (the API),
 * twice in a row. Returns how many are held then, and the steps as the API showed them.
 */
async function settled(t: TestServer, key: string, runIds: string[], host: Host): Promise<{ held: number; steps: StepRow[] }> {
  let previous = -1;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
    const inFlight = await limiterInFlight(t, host.host);
    const steps = await stepsOf(t, key, runIds);
    const sending = steps.filter((s) => s.nodeId !== 't' && s.status === 'RUNNING' && s.reason === null).length;
    const held = host.held.length;
    const quiet = held === sending && held === inFlight;
    if (quiet && held === previous) return { held, steps };
    previous = quiet ? held : -1;
    await turn();
  }
  throw new Error(`never settled: ${host.held.length} held, ${await limiterInFlight(t, host.host)} in flight, steps ${JSON.stringify(await stepsOf(t, key, runIds))}`);
}

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i > 1500) throw new Error('condition never held');
    await turn();
  }
}

describe('HTTP_HOST_CONCURRENCY=2', () => {
  let t: TestServer;
  let key: string;
  let host: Host;

  beforeAll(async () => {
    [t, host] = await Promise.all([startTestServer({ httpHostConcurrency: 2 }), startHost()]);
    key = (await t.createOrganization()).adminKey;
  });

  afterAll(async () => {
    await t?.close();
    await host?.close();
  });

  it('never has a third request in flight at a host; the waiting nodes are RUNNING and say why; /metrics shows the host', async () => {
    const three = await createWorkflow(t, key, fanOut(host.url, 3));
    const two = await createWorkflow(t, key, fanOut(host.url, 2));
    const runIds = [await startRun(t, key, three), await startRun(t, key, two)];
    const { held, steps } = await settled(t, key, runIds, host);
    expect(held).toBe(2);
    const waiting = steps.filter((s) => s.status === 'RUNNING' && s.reason !== null);
    expect(waiting).toHaveLength(3);
    for (const step of waiting) expect(step.reason).toMatch(new RegExp(`^waiting for host ${host.host.replace(/\./g, '\\.')} \\(limit 2, [123] waiting\\)$`));

    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toContain(`braid_http_host_limit{host="${host.host}"} 2`);
    expect(metrics).toContain(`braid_http_host_in_flight{host="${host.host}"} 2`);
    expect(metrics).toMatch(/# TYPE braid_http_host_paused_total counter/);

    // One answer at a time: each lets exactly one waiting node in.
    for (const left of [3, 2, 1]) {
      host.held[0]!.answer(200);
      const now = await settled(t, key, runIds, host);
      expect(now.held).toBe(2);
      expect(now.steps.filter((s) => s.status === 'RUNNING' && s.reason !== null)).toHaveLength(left - 1);
    }
    while (host.held.length > 0) host.held[0]!.answer(200);
    await until(async () => (await statusOf(t, key, runIds[0]!)) === 'SUCCEEDED' && (await statusOf(t, key, runIds[1]!)) === 'SUCCEEDED');
    expect(host.arrivals).toHaveLength(5);
    expect(host.maxInFlight).toBe(2);
    expect((await stepsOf(t, key, runIds)).map((s) => s.reason)).toEqual(new Array(7).fill(null));
  });

  it('names a host written with a secret [secret:NAME] in the waiting step and in /metrics', async () => {
    const secretHost = await startHost();
    try {
      const [address, port] = secretHost.host.split(':') as [string, string];
      const created = await t.request('mutation { createSecret(name: "API_HOST", value: "' + address + '") { __typename } }', {}, key);
      expect(created.data).toEqual({ createSecret: { __typename: 'Secret' } });
      const runId = await startRun(t, key, await createWorkflow(t, key, fanOut(`http://{{ $secrets.API_HOST }}:${port}`, 3)));
      await until(async () => (await stepsOf(t, key, [runId])).some((s) => s.reason !== null));
      const waiting = (await stepsOf(t, key, [runId])).find((s) => s.reason !== null)!;
      expect(waiting.reason).toMatch(/^waiting for host \[secret:API_HOST\]:\d+ \(limit 2, 1 waiting\)$/);
      const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
      expect(metrics).toContain(`braid_http_host_in_flight{host="[secret:API_HOST]:${port}"} 2`);
      expect(metrics).not.toContain(secretHost.host);
      await until(async () => {
        for (const each of [...secretHost.held]) each.answer(200);
        return (await statusOf(t, key, runId)) === 'SUCCEEDED';
      });
    } finally {
      await secretHost.close();
    }
  });
});

describe('adaptive limits and Retry-After (HTTP_HOST_CONCURRENCY=4)', () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer({ httpHostConcurrency: 4 });
    key = (await t.createOrganization()).adminKey;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('lowers the concurrency a host sees at repeated 429s and raises it again with successes', async () => {
    const host = await startHost();
    try {
      const workflowId = await createWorkflow(t, key, fanOut(host.url, 12, { onError: 'CONTINUE' }));
      const runIds = [await startRun(t, key, workflowId)];
      const seen: number[] = [];
      const answerAll = (status: number) => {
        for (const each of [...host.held]) each.answer(status);
      };
      // Each round: what the host sees in flight once nothing more is on its way, then every one answered.
      for (const status of [429, 429, 200, 200, 200]) {
        seen.push((await settled(t, key, runIds, host)).held);
        answerAll(status);
      }
      expect(seen).toEqual([4, 2, 1, 2, 3]);
      await until(async () => (await statusOf(t, key, runIds[0]!)) === 'SUCCEEDED');
      expect(host.maxInFlight).toBe(4);
      const statuses = (await stepsOf(t, key, runIds)).filter((s) => s.nodeId !== 't').map((s) => s.status);
      expect(statuses.filter((s) => s === 'FAILED')).toHaveLength(6);
      expect(statuses.filter((s) => s === 'SUCCEEDED')).toHaveLength(6);
    } finally {
      await host.close();
    }
  });

  it('holds every request to a host that answered 429 with Retry-After: 1 until then, from every run', async () => {
    const host = await startHost(({ index }) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    try {
      const retried = await createWorkflow(
        t,
        key,
        fanOut(host.url, 1, { retry: { maxAttempts: 2, backoff: 'FIXED', initialDelayMs: 10 } }),
      );
      const plain = await createWorkflow(t, key, fanOut(host.url, 1));
      const first = await startRun(t, key, retried);
      await until(() => host.arrivals.length === 1 && host.arrivals[0]!.status === 429);
      const others = [await startRun(t, key, plain), await startRun(t, key, plain)];
      let pauseEnd = 0;
      await until(async () => {
        // Nothing reaches the host while it is paused (the retry included).
        expect(host.arrivals).toHaveLength(1);
        const steps = await stepsOf(t, key, others);
        const reasons = steps.filter((s) => s.nodeId === 'n0').map((s) => s.reason);
        const match = reasons.map((r) => /^host (\S+) paused until (\S+) \(Retry-After\)$/.exec(r ?? '')).filter(Boolean);
        if (match.length < 2) return false;
        expect(match[0]![1]).toBe(host.host);
        pauseEnd = Date.parse(match[0]![2]!);
        return true;
      });
      expect(pauseEnd - host.arrivals[0]!.arrivedAt).toBeGreaterThanOrEqual(1000);
      for (const runId of [first, ...others]) await until(async () => (await statusOf(t, key, runId)) === 'SUCCEEDED');
      // The 429, then the retry and the two other runs' requests: none before the pause ended.
      expect(host.arrivals.map((a) => a.status)).toEqual([429, 200, 200, 200]);
      for (const later of host.arrivals.slice(1)) expect(later.arrivedAt).toBeGreaterThanOrEqual(pauseEnd);
      expect((await stepsOf(t, key, [first, ...others])).map((s) => s.reason)).toEqual(new Array(6).fill(null));
      const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
      expect(metrics).toContain(`braid_http_host_paused_total{host="${host.host}"} 1`);
    } finally {
      await host.close();
    }
  });

  it("keeps an organization's nodes beyond maxRunningNodes PENDING with a reason, across its runs", async () => {
    const host = await startHost();
    try {
      // An organization of its own: its limit is read when its first node starts.
      const organization = await t.createOrganization();
      await t.database.db.update(organizations).set({ maxRunningNodes: 2 }).where(eq(organizations.id, organization.id));
      const workflowId = await createWorkflow(t, organization.adminKey, fanOut(host.url, 3));
      const runIds = [await startRun(t, organization.adminKey, workflowId), await startRun(t, organization.adminKey, workflowId)];
      const first = await settled(t, organization.adminKey, runIds, host);
      expect(first.held).toBe(2);
      expect(first.steps.filter((s) => s.status === 'RUNNING')).toHaveLength(2);
      const pending = first.steps.filter((s) => s.status === 'PENDING' && s.reason !== null);
      expect(pending.length).toBeGreaterThan(0);
      for (const step of pending) expect(step.reason).toBe('organization limit of 2 running nodes');
      // Each answer frees a slot for the next node (a trigger first, for the run that had none).
      for (const expected of [2, 2, 2, 2, 1, 0]) {
        host.held[0]!.answer(200);
        const now = await settled(t, organization.adminKey, runIds, host);
        expect(now.held).toBe(expected);
        expect(now.steps.filter((s) => s.status === 'RUNNING').length).toBeLessThanOrEqual(2);
      }
      for (const runId of runIds) await until(async () => (await statusOf(t, organization.adminKey, runId)) === 'SUCCEEDED');
      expect(host.arrivals).toHaveLength(6);
      expect(host.maxInFlight).toBe(2);
    } finally {
      await host.close();
    }
  });
});
