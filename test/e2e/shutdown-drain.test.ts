// SIGTERM drains, it does not cancel (CONTRACT §5): the real server (a child process) gets the signal with
// runs in flight and a client still starting runs on a keep-alive connection; it refuses new runs, lets
// running calls finish within SHUTDOWN_GRACE_MS, exits 0, and a restart finishes every run.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  type ChildServer,
  startChildServer,
  useChildStorage,
} from '../helpers/child-server.js';
import {
  createOrganization,
  createWorkflow,
  eventProblems,
  idempotencyKey,
  readEvents,
  requestProblems,
  requestTag,
  StartRunDocument,
  startRun,
  waitForFinal,
} from '../helpers/child-runs.js';
import { startSlowServer } from '../helpers/slow-server.js';

const graceMs = 3000;
const env = { SHUTDOWN_GRACE_MS: String(graceMs), RUN_LEASE_MS: '2000' };
const shutdownEvents = ['NODE_CANCELLED', 'NODE_FAILED', 'RUN_CANCELLED', 'RUN_FAILED'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  connection: string | undefined;
  /** The request went over a connection an earlier request had used (keep-alive). */
  reusedSocket: boolean;
  body: { data?: { startRun?: { __typename: string; id?: string } } | null; errors?: { extensions?: { code?: string } }[] };
}

/**
 * POSTs startRun through `agent` with node:http (fetch hides `Connection`). With `hold`, the request asks
 * `Expect: 100-continue` and sends its body only once `hold` resolves; `inProgress` resolves when the
 * server has read the headers (its 100 Continue): from then on the request is in progress on its socket.
 */
function postStartRun(agent: http.Agent, server: ChildServer, key: string, workflowId: string, hold?: Promise<unknown>) {
  const payload = Buffer.from(JSON.stringify({ query: StartRunDocument, variables: { workflowId } }));
  let onContinue!: () => void;
  const inProgress = new Promise<void>((resolve) => (onContinue = resolve));
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = http.request(server.url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': payload.length,
        authorization: `Bearer ${key}`,
        ...(hold ? { expect: '100-continue' } : {}),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reusedSocket: req.reusedSocket,
          body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Answer['body'],
        }),
      );
    });
    if (!hold) return void req.end(payload);
    req.on('continue', () => {
      onContinue();
      void hold.then(() => req.end(payload));
    });
    req.flushHeaders();
  });
  return { inProgress, answer };
}

type Outcome =
  | { kind: 'run'; id: string; sentAt: number }
  | { kind: 'unavailable'; connection: string | undefined; sentAt: number }
  | { kind: 'connection failed'; detail: string; sentAt: number }
  | { kind: 'other'; detail: string; sentAt: number };

/** The id of the run the answer started; throws unless it started one. */
function startedRun(answer: Answer): string {
  const run = answer.body.data?.startRun;
  if (run?.__typename !== 'Run') throw new Error(`startRun: ${answer.status} ${JSON.stringify(answer.body)}`);
  return run.id!;
}

async function startOnce(agent: http.Agent, server: ChildServer, key: string, workflowId: string): Promise<Outcome> {
  const sentAt = Date.now();
  try {
    const answer = await postStartRun(agent, server, key, workflowId).answer;
    const run = answer.body.data?.startRun;
    if (run?.__typename === 'Run') return { kind: 'run', id: run.id!, sentAt };
    const code = answer.body.errors?.[0]?.extensions?.code;
    if (code === 'UNAVAILABLE') return { kind: 'unavailable', connection: answer.connection, sentAt };
    return { kind: 'other', detail: `${answer.status} ${JSON.stringify(answer.body)}`, sentAt };
  } catch (error) {
    return { kind: 'connection failed', detail: String((error as { code?: string }).code ?? error), sentAt };
  }
}

/** A client starting a run every 100 ms over one keep-alive connection until stopped. */
function keepStarting(server: ChildServer, key: string, workflowId: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const outcomes: Outcome[] = [];
  let stopped = false;
  let onRun: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      outcomes.push(await startOnce(agent, server, key, workflowId));
      onRun?.();
      await sleep(100);
    }
  })();
  const runs = () => outcomes.filter((o) => o.kind === 'run').length;
  return {
    outcomes,
    /** Resolves once `n` runs were started. */
    started: (n: number) => new Promise<void>((resolve) => (onRun = () => runs() >= n && resolve())),
    /** Stops the loop, then sends one last start (the server is gone by then). */
    async stop() {
      stopped = true;
      await loop;
      outcomes.push(await startOnce(agent, server, key, workflowId));
      agent.destroy();
    },
  };
}

/** Polls until the server shows it drains: /ready answers 503 on a new connection, or none is accepted. */
async function draining(server: ChildServer): Promise<void> {
  const ready = () =>
    new Promise<number | 'refused'>((resolve) => {
      const req = http.get(`http://127.0.0.1:${server.port}/ready`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve('refused'));
    });
  const deadline = Date.now() + 2000;
  for (;;) {
    const status = await ready();
    if (status === 503 || status === 'refused') return;
    if (Date.now() > deadline) throw new Error(`the server did not show it drains (/ready answered ${status})`);
    await sleep(50);
  }
}

describe('SIGTERM drains the server instead of cancelling its runs', () => {
  const shared = useChildStorage(startSlowServer);

  it('refuses new runs, lets running calls finish, exits 0, and a restart finishes every run', async () => {
    let server = await startChildServer({ env: { ...shared.storage.env, ...env } });
    const key = await createOrganization(server, 'drain');
    const workflowId = await createWorkflow(server, key, 'drain', {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'a', type: 'http', params: { url: `${shared.target.url}/slow?ms=1500&tag={{ $run.id }}.a` } },
        { id: 'pause', type: 'delay', params: { ms: 1000 } },
        { id: 'join', type: 'merge', params: { mode: 'ALL' } },
        { id: 'tail', type: 'http', params: { url: `${shared.target.url}/slow?ms=200&tag={{ $run.id }}.tail` } },
      ],
      edges: [
        { source: 'start', target: 'a' },
        { source: 'start', target: 'pause' },
        { source: 'a', target: 'join' },
        { source: 'pause', target: 'join' },
        { source: 'join', target: 'tail' },
      ],
    });
    const early = await Promise.all([1, 2, 3].map(() => startRun(server, key, workflowId)));
    await Promise.all(early.map((id) => shared.target.waitForRequest((r) => r.tag === requestTag(id, 'a'))));
    const client = keepStarting(server, key, workflowId);
    await client.started(2);
    // One more request on a kept-alive socket, in progress (headers read, body held back) when the signal comes.
    const heldAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const warmUpRun = startedRun(await postStartRun(heldAgent, server, key, workflowId).answer);
    let sendRest!: () => void;
    const held = postStartRun(heldAgent, server, key, workflowId, new Promise<void>((resolve) => (sendRest = resolve)));
    const heldAnswer = held.answer.catch((error: unknown) => String(error));
    await held.inProgress;

    const signalledAt = Date.now();
    server.kill('SIGTERM');
    try {
      await draining(server);
    } finally {
      sendRest();
    }
    const afterSignal = await heldAnswer;
    const exit = await server.exited;
    const exitMs = Date.now() - signalledAt;
    await client.stop();
    heldAgent.destroy();

    // Soft: one run of the test shows every property that fails.
    expect.soft(exit).toEqual({ code: 0, signal: null });
    expect.soft(exitMs).toBeLessThanOrEqual(graceMs + 1500);
    // The start sent after the signal on a kept-alive connection is refused, and the server closes it.
    const refusal =
      typeof afterSignal === 'string'
        ? afterSignal
        : {
            reused: afterSignal.reusedSocket,
            code: afterSignal.body.errors?.[0]?.extensions?.code,
            connection: afterSignal.connection,
          };
    expect.soft(refusal).toEqual({ reused: true, code: 'UNAVAILABLE', connection: 'close' });
    // The client's starts: runs until the first refusal, then only UNAVAILABLE or a closed port.
    const { outcomes } = client;
    const firstRefusal = outcomes.findIndex((o) => o.kind !== 'run');
    expect.soft(firstRefusal).toBeGreaterThanOrEqual(2);
    const refused = outcomes.slice(firstRefusal);
    expect.soft(refused.filter((o) => o.kind !== 'unavailable' && o.kind !== 'connection failed')).toEqual([]);
    // The calls in flight at the signal were answered, not cut off.
    const inFlight = shared.target.requests.filter((r) => r.tag.endsWith('.a') && r.receivedAt < signalledAt);
    expect.soft(inFlight.length).toBeGreaterThanOrEqual(early.length);
    expect.soft(inFlight.filter((r) => r.status !== 200).map((r) => `${r.tag}: ${r.status ?? 'cut off'}`)).toEqual([]);

    server = await startChildServer({ env: { ...shared.storage.env, ...env } });
    const ids = [...early, warmUpRun, ...outcomes.flatMap((o) => (o.kind === 'run' ? [o.id] : []))];
    const runs = await waitForFinal(server, key, ids, 30_000);
    expect.soft(runs.map((run) => run.status)).toEqual(ids.map(() => 'SUCCEEDED'));
    const events = await Promise.all(ids.map((id) => readEvents(server, key, id)));
    expect.soft(ids.flatMap((id, i) => eventProblems(id, events[i]!))).toEqual([]);
    const stoppedBy = ids.flatMap((id, i) =>
      events[i]!.filter((e) => shutdownEvents.includes(e.type)).map((e) => `${id}: ${e.type} ${e.nodeId ?? ''}`),
    );
    expect.soft(stoppedBy).toEqual([]);
    // A call that finished during the drain was stored and not made again after the restart.
    expect.soft(runs.flatMap((run) => requestProblems(run, shared.target.requests, []))).toEqual([]);
    server.kill('SIGKILL');
    await server.exited;
  }, 90_000);

  it('does not wait past the grace period for a stuck call, and the restart makes that call again', async () => {
    let server = await startChildServer({ env: { ...shared.storage.env, ...env } });
    const key = await createOrganization(server, 'stuck');
    const workflowId = await createWorkflow(server, key, 'stuck', {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'hang', type: 'http', params: { url: `${shared.target.url}/hold?tag={{ $run.id }}.hang` } },
        { id: 'after', type: 'transform', params: { expression: '$nodes.hang.status' } },
      ],
      edges: [
        { source: 'start', target: 'hang' },
        { source: 'hang', target: 'after' },
      ],
    });
    const runId = await startRun(server, key, workflowId);
    const tag = requestTag(runId, 'hang');
    const first = await shared.target.waitForRequest((r) => r.tag === tag);

    const signalledAt = Date.now();
    server.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = Date.now() - signalledAt;
    expect.soft(exit).toEqual({ code: 0, signal: null });
    // It waited for the call up to the grace period, not longer.
    expect.soft(exitMs).toBeGreaterThanOrEqual(graceMs - 250);
    expect.soft(exitMs).toBeLessThanOrEqual(graceMs + 1500);
    await expect.poll(() => first.aborted, { timeout: 1000 }).toBe(true);

    const restartedAt = Date.now();
    server = await startChildServer({ env: { ...shared.storage.env, ...env } });
    const again = await shared.target.waitForRequest((r) => r.tag === tag && r.receivedAt >= restartedAt, 15_000);
    shared.target.release(tag);
    const [run] = await waitForFinal(server, key, [runId], 30_000);
    expect.soft({ status: run!.status, output: run!.output }).toEqual({ status: 'SUCCEEDED', output: { after: 200 } });
    const events = await readEvents(server, key, runId);
    expect.soft(eventProblems(runId, events)).toEqual([]);
    expect.soft(events.filter((e) => shutdownEvents.includes(e.type)).map((e) => `${e.type} ${e.nodeId ?? ''}`)).toEqual([]);
    expect.soft(events.filter((e) => e.type === 'RUN_RESUMED')).toHaveLength(1);
    // Both calls carried the step's Idempotency-Key: the receiver can tell the second is a repeat.
    expect([first.idempotencyKey, again.idempotencyKey]).toEqual([idempotencyKey(runId, 'hang'), idempotencyKey(runId, 'hang')]);
  }, 90_000);
});
