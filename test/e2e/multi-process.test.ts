// Several server processes on one PostgreSQL (CONTRACT §5 "Leases", "Many processes"): a run whose owner
// is SIGKILLed finishes on a survivor, cancelRun works from any process, and an owner paused past its
// lease (SIGSTOP) writes nothing once it wakes. Only with DATABASE_URL: PGlite has one process.
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ChildServer,
  startChildServer,
  stopChildServers,
  useChildStorage,
} from '../helpers/child-server.js';
import {
  createOrganization,
  createWorkflow,
  eventProblems,
  readEvents,
  readRun,
  requestProblems,
  requestTag,
  startRun,
  waitForFinal,
  watchEvents,
  within,
  type EventView,
  type Fault,
} from '../helpers/child-runs.js';
import { startSlowServer } from '../helpers/slow-server.js';

const leaseMs = 2000;
const env = { RUN_LEASE_MS: String(leaseMs), SHUTDOWN_GRACE_MS: '2000' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const http = (slowUrl: string, id: string, path: string) => ({
  id,
  type: 'http',
  params: { url: `${slowUrl}${path}&tag={{ $run.id }}.${id}` },
});

describe.skipIf(!process.env.DATABASE_URL)('several processes share one PostgreSQL', () => {
  const shared = useChildStorage(startSlowServer);

  afterEach(stopChildServers);

  const startProcesses = () => Promise.all([0, 1, 2].map(() => startChildServer({ env: { ...shared.storage.env, ...env } })));

  /** `runs.owner` as stored: the opaque id of the process driving the run, or null. */
  async function ownerOf(runId: string): Promise<string | null> {
    const [row] = await shared.storage.database!.rows<{ owner: string | null }>(sql`select owner from runs where id = ${runId}`);
    return row?.owner ?? null;
  }

  /** Polls `runs.owner` of each run until every one has an owner; throws after `timeoutMs`. */
  async function owners(runIds: string[], timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await Promise.all(runIds.map(ownerOf));
      if (found.every((owner) => owner !== null)) return found as string[];
      if (Date.now() > deadline) throw new Error(`runs without an owner after ${timeoutMs} ms: ${JSON.stringify(found)}`);
      await sleep(100);
    }
  }

  /** The owner id of each process: each drives a probe run started on it (it has capacity). */
  async function processIds(servers: ChildServer[], key: string): Promise<string[]> {
    const workflowId = await createWorkflow(servers[0]!, key, 'probe', {
      nodes: [{ id: 'start', type: 'trigger' }, http(shared.target.url, 'hold', '/hold?x=1')],
      edges: [{ source: 'start', target: 'hold' }],
    });
    const probes = await Promise.all(servers.map((server) => startRun(server, key, workflowId)));
    const ids = await owners(probes);
    for (const probe of probes) shared.target.release(requestTag(probe, 'hold'));
    await waitForFinal(servers[0]!, key, probes, 10_000);
    return ids;
  }

  it('finishes the runs of a SIGKILLed owner on a survivor; subscribers elsewhere get every event once, in order', async () => {
    const servers = await startProcesses();
    const [a, b, c] = servers as [ChildServer, ChildServer, ChildServer];
    const key = await createOrganization(a, 'owner-killed');
    const ids = await processIds(servers, key);
    expect(new Set(ids).size).toBe(3);
    const workflowId = await createWorkflow(a, key, 'chain', {
      nodes: [
        { id: 'start', type: 'trigger' },
        http(shared.target.url, 's1', '/hold?x=1'),
        http(shared.target.url, 's2', '/slow?ms=600'),
        http(shared.target.url, 's3', '/slow?ms=600'),
        { id: 'pause', type: 'delay', params: { ms: 1000 } },
        { id: 'join', type: 'merge', params: { mode: 'ALL' } },
        { id: 'done', type: 'transform', params: { expression: '$nodes.s1.status + $nodes.s2.body.ms + $nodes.s3.body.ms' } },
      ],
      edges: [
        { source: 'start', target: 's1' },
        { source: 's1', target: 's2' },
        { source: 's2', target: 's3' },
        { source: 'start', target: 'pause' },
        { source: 's3', target: 'join' },
        { source: 'pause', target: 'join' },
        { source: 'join', target: 'done' },
      ],
    });
    const runIds = await Promise.all([1, 2, 3, 4, 5, 6].map(() => startRun(a, key, workflowId)));
    const onB = runIds.map((id) => watchEvents(b, key, id));
    const onC = runIds.map((id) => watchEvents(c, key, id));
    expect(await owners(runIds)).toEqual(runIds.map(() => ids[0]));
    // In flight: s1's call made, and its start stored (a run with nothing stored just starts elsewhere).
    await Promise.all(runIds.map((id) => shared.target.waitForRequest((r) => r.tag === requestTag(id, 's1'))));
    const s1Started = (item: { runEvents: EventView }) => item.runEvents.type === 'NODE_STARTED' && item.runEvents.nodeId === 's1';
    await Promise.all(onB.map((feed) => feed.until(s1Started)));

    // Killed with its s1 calls held open; the survivors' calls are answered at once.
    const kill: Fault = { sentAt: Date.now(), exitedAt: 0 };
    a.kill('SIGKILL');
    await a.exited;
    kill.exitedAt = Date.now();
    for (const id of runIds) shared.target.release(requestTag(id, 's1'));
    const ended = (feeds: typeof onB) => within(Promise.all(feeds.map((feed) => feed.done)), 30_000, 'the runs ending');
    const seenOnB = (await ended(onB)).map((items) => items.map((item) => item.runEvents));
    const seenOnC = (await ended(onC)).map((items) => items.map((item) => item.runEvents));
    const stored = await Promise.all(runIds.map((id) => readEvents(c, key, id)));
    const runs = await waitForFinal(b, key, runIds, 10_000);

    // Soft: one run of the test shows every property that fails.
    expect.soft(runs.map((run) => [run.status, run.output])).toEqual(runIds.map(() => ['SUCCEEDED', { done: 1400 }]));
    // Each subscriber saw exactly the stored events: gapless, in order, one final event, last.
    expect.soft(runIds.flatMap((id, i) => eventProblems(id, seenOnB[i]!))).toEqual([]);
    expect.soft(seenOnB).toEqual(stored);
    expect.soft(seenOnC).toEqual(stored);
    // A survivor took each run over (RUN_RESUMED) within RUN_LEASE_MS + 2 s of the kill.
    expect.soft(lateTakeovers(runIds, stored, kill)).toEqual([]);
    expect.soft(runs.flatMap((run) => requestProblems(run, shared.target.requests, [kill]))).toEqual([]);
  }, 120_000);

  it('stops a run within about 1 s when cancelRun reaches a process that does not drive it', async () => {
    const servers = await startProcesses();
    const key = await createOrganization(servers[0]!, 'cancel-elsewhere');
    const ids = await processIds(servers, key);
    const workflowId = await createWorkflow(servers[0]!, key, 'stuck', {
      nodes: [
        { id: 'start', type: 'trigger' },
        http(shared.target.url, 'hang', '/hold?x=1'),
        { id: 'after', type: 'transform', params: { expression: '$nodes.hang.status' } },
      ],
      edges: [
        { source: 'start', target: 'hang' },
        { source: 'hang', target: 'after' },
      ],
    });
    const runId = await startRun(servers[0]!, key, workflowId);
    const [owner] = await owners([runId]);
    const ownerIndex = ids.indexOf(owner!);
    expect(ownerIndex).toBeGreaterThanOrEqual(0);
    const other = servers[(ownerIndex + 1) % 3]!;
    const watcher = servers[(ownerIndex + 2) % 3]!;
    const call = await shared.target.waitForRequest((r) => r.tag === requestTag(runId, 'hang'));
    const feed = watchEvents(watcher, key, runId);

    const sentAt = Date.now();
    const answer = await other.request(
      `mutation ($id: ID!) { cancelRun(id: $id) { __typename ... on Run { id } ... on Error { message } } }`,
      { id: runId },
      key,
    );
    expect(answer.data?.cancelRun).toEqual({ __typename: 'Run', id: runId });
    await within(feed.until((item) => item.runEvents.type === 'RUN_CANCELLED'), 5000, 'RUN_CANCELLED');
    expect(Date.now() - sentAt).toBeLessThanOrEqual(1500);
    // The owner cut the call off, and every process reads the run as cancelled.
    await expect.poll(() => call.aborted, { timeout: 1000 }).toBe(true);
    const reads = await Promise.all(servers.map((server) => readRun(server, key, runId)));
    expect(reads.map((run) => [run.status, run.steps.find((step) => step.nodeId === 'hang')?.status])).toEqual(
      servers.map(() => ['CANCELLED', 'CANCELLED']),
    );
    expect(eventProblems(runId, (await feed.done).map((item) => item.runEvents))).toEqual([]);
  }, 120_000);

  it('an owner paused past its lease (SIGSTOP) writes nothing for the runs taken over once it wakes (SIGCONT)', async () => {
    const servers = await startProcesses();
    const [a, b, c] = servers as [ChildServer, ChildServer, ChildServer];
    const key = await createOrganization(a, 'paused-owner');
    const ids = await processIds(servers, key);
    const workflowId = await createWorkflow(a, key, 'two-calls', {
      nodes: [
        { id: 'start', type: 'trigger' },
        http(shared.target.url, 's1', '/hold?x=1'),
        http(shared.target.url, 's2', '/slow?ms={{ $run.input.ms }}'),
        { id: 'done', type: 'transform', params: { expression: '$nodes.s1.status + $nodes.s2.body.ms' } },
      ],
      edges: [
        { source: 'start', target: 's1' },
        { source: 's1', target: 's2' },
        { source: 's2', target: 'done' },
      ],
    });
    // Short runs end on the survivors before the owner wakes; long ones are still running there when it does.
    const short = await Promise.all([1, 2].map(() => startRun(a, key, workflowId, { input: { ms: 100 } })));
    const long = await Promise.all([1, 2].map(() => startRun(a, key, workflowId, { input: { ms: 4000 } })));
    const runIds = [...short, ...long];
    const onB = runIds.map((id) => watchEvents(b, key, id));
    expect(await owners(runIds)).toEqual(runIds.map(() => ids[0]));
    // In flight: s1's call made, and its start stored (a run with nothing stored just starts elsewhere).
    await Promise.all(runIds.map((id) => shared.target.waitForRequest((r) => r.tag === requestTag(id, 's1'))));
    const s1Started = (item: { runEvents: EventView }) => item.runEvents.type === 'NODE_STARTED' && item.runEvents.nodeId === 's1';
    await Promise.all(onB.map((feed) => feed.until(s1Started)));

    // Paused with its s1 calls held open, then answered: the answers wait in its sockets while survivors take over.
    const pause: Fault = { sentAt: Date.now(), exitedAt: Date.now() };
    a.kill('SIGSTOP');
    for (const id of runIds) shared.target.release(requestTag(id, 's1'));
    const resumed = Promise.all(onB.map((feed) => feed.until((item) => item.runEvents.type === 'RUN_RESUMED')));
    await within(resumed, leaseMs + 5000, 'a survivor taking every run over (RUN_RESUMED)');
    const ended = (feeds: typeof onB, what: string) => within(Promise.all(feeds.map((feed) => feed.done)), 30_000, what);
    await ended(onB.slice(0, short.length), 'the short runs ending on a survivor');
    const snapshot = () =>
      Promise.all(short.map(async (id) => ({ events: await readEvents(c, key, id), run: await readRun(c, key, id) })));
    const beforeWaking = await snapshot();
    a.kill('SIGCONT');
    const seenOnB = (await ended(onB, 'every run ending')).map((items) => items.map((item) => item.runEvents));
    // Awake and serving again; a whole lease period lets its renewals, timers and buffered answers all fire.
    expect((await fetch(`http://127.0.0.1:${a.port}/health`)).status).toBe(200);
    await sleep(leaseMs);
    const stored = await Promise.all(runIds.map((id) => readEvents(c, key, id)));
    const runs = await waitForFinal(c, key, runIds, 10_000);

    expect.soft(runs.map((run) => [run.status, run.output])).toEqual([
      ...short.map(() => ['SUCCEEDED', { done: 300 }]),
      ...long.map(() => ['SUCCEEDED', { done: 4200 }]),
    ]);
    // The runs that had ended before it woke: not one event or step changed since.
    expect.soft(await snapshot()).toEqual(beforeWaking);
    // The others: what subscribers saw is what is stored, gapless, each node settled once.
    expect.soft(stored).toEqual(seenOnB);
    expect.soft(runIds.flatMap((id, i) => eventProblems(id, stored[i]!))).toEqual([]);
    expect.soft(lateTakeovers(runIds, stored, pause)).toEqual([]);
    // The woken process made no call for these runs: only the paused attempt of s1 was made again.
    expect.soft(runs.flatMap((run) => requestProblems(run, shared.target.requests, [pause]))).toEqual([]);
  }, 120_000);
});

/** The runs not taken over (exactly one RUN_RESUMED) within RUN_LEASE_MS + 2 s of the fault, with what happened. */
function lateTakeovers(runIds: string[], stored: EventView[][], fault: Fault): string[] {
  return runIds.flatMap((id, i) => {
    const resumed = stored[i]!.filter((e) => e.type === 'RUN_RESUMED' && Date.parse(e.at) >= fault.sentAt);
    const ms = resumed.length === 1 ? Date.parse(resumed[0]!.at) - fault.sentAt : null;
    if (ms !== null && ms <= leaseMs + 2000) return [];
    return [`${id}: ${ms === null ? `${resumed.length} RUN_RESUMED` : `RUN_RESUMED ${ms} ms after the fault`}`];
  });
}
