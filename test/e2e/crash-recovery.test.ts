// Fault injection: the real server (a child process) is SIGKILLed at seeded random moments while it
// starts and drives a mix of runs, and restarted at once on the same data (PGlite directory, or the
// PostgreSQL database with DATABASE_URL). Every run must end as it would have without the kills, with
// gapless events, and no http call of a settled step sent again (CONTRACT §5 "Crash").
import { isDeepStrictEqual } from 'node:util';
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
  readEvents,
  requestProblems,
  startRun,
  waitForFinal,
  type EventView,
  type Fault,
  type RunView,
} from '../helpers/child-runs.js';
import { startSlowServer } from '../helpers/slow-server.js';

const kills = 30;
const runsPerStart = 2;
const seed = Number(process.env.CRASH_SEED ?? 20_261_129);
const env = { RUN_LEASE_MS: '1500', SHUTDOWN_GRACE_MS: '2000' };

/** mulberry32: the kill moments and the run mix repeat for a seed. */
function seededRandom(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function workflows(slowUrl: string) {
  const http = (id: string, path: string, extra: Record<string, unknown> = {}) => ({
    id,
    type: 'http',
    params: { url: `${slowUrl}${path}&tag={{ $run.id }}.${id}` },
    ...extra,
  });
  const trigger = { id: 'start', type: 'trigger' };
  return {
    fanOut: {
      nodes: [
        trigger,
        http('a', '/slow?ms=200'),
        http('b', '/slow?ms=300'),
        http('c', '/slow?ms=400'),
        { id: 'join', type: 'merge', params: { mode: 'ALL' } },
        { id: 'sum', type: 'transform', params: { expression: '$nodes.a.body.ms + $nodes.b.body.ms + $nodes.c.body.ms' } },
      ],
      edges: [
        ...['a', 'b', 'c'].flatMap((id) => [{ source: 'start', target: id }, { source: id, target: 'join' }]),
        { source: 'join', target: 'sum' },
      ],
    },
    retry: {
      nodes: [
        trigger,
        http('flaky', '/flaky?fail=2', { retry: { maxAttempts: 3, backoff: 'FIXED', initialDelayMs: 100 } }),
        { id: 'pause', type: 'delay', params: { ms: 300 } },
        { id: 'done', type: 'transform', params: { expression: '$nodes.flaky.status' } },
      ],
      edges: [
        { source: 'start', target: 'flaky' },
        { source: 'flaky', target: 'pause' },
        { source: 'pause', target: 'done' },
      ],
    },
    route: {
      nodes: [
        trigger,
        { id: 'route', type: 'switch', params: { expression: '$input.kind', cases: ['fetch', 'wait'] } },
        http('fetch', '/slow?ms=250'),
        { id: 'wait', type: 'delay', params: { ms: 300 } },
        { id: 'reject', type: 'fail', params: { message: 'unknown kind' } },
        { id: 'joined', type: 'merge', params: { mode: 'ANY' } },
        { id: 'final', type: 'transform', params: { expression: "$join($keys($input), ',')" } },
      ],
      edges: [
        { source: 'start', target: 'route' },
        { source: 'route', target: 'fetch', sourceHandle: 'fetch' },
        { source: 'route', target: 'wait', sourceHandle: 'wait' },
        { source: 'route', target: 'reject', sourceHandle: 'default' },
        { source: 'fetch', target: 'joined' },
        { source: 'wait', target: 'joined' },
        { source: 'joined', target: 'final' },
      ],
    },
    check: {
      nodes: [
        trigger,
        http('probe', '/slow?ms=150'),
        { id: 'check', type: 'condition', params: { expression: '$input.status = $run.input.expect' } },
        { id: 'settle', type: 'delay', params: { ms: 200 } },
        { id: 'ok', type: 'transform', params: { expression: '$nodes.probe.body.ms' } },
        { id: 'bad', type: 'fail', params: { message: 'unexpected probe status' } },
      ],
      edges: [
        { source: 'start', target: 'probe' },
        { source: 'probe', target: 'check' },
        { source: 'check', target: 'settle', sourceHandle: 'true' },
        { source: 'settle', target: 'ok' },
        { source: 'check', target: 'bad', sourceHandle: 'false' },
      ],
    },
    failFast: {
      nodes: [trigger, http('slow', '/slow?ms=600'), { id: 'boom', type: 'fail', params: { message: 'boom' } }],
      edges: [
        { source: 'start', target: 'slow' },
        { source: 'start', target: 'boom' },
      ],
    },
  };
}

type WorkflowName = keyof ReturnType<typeof workflows>;

/** A run of the mix and how it ends without any crash: SUCCEEDED with `output`, or FAILED with an error containing `error`. */
type Scenario = { name: string; workflow: WorkflowName; input: unknown } & (
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string }
);

const scenarios: Scenario[] = [
  { name: 'fan-out', workflow: 'fanOut', input: {}, status: 'SUCCEEDED', output: { sum: 900 } },
  { name: 'retry', workflow: 'retry', input: {}, status: 'SUCCEEDED', output: { done: 200 } },
  { name: 'switch fetch', workflow: 'route', input: { kind: 'fetch' }, status: 'SUCCEEDED', output: { final: 'fetch' } },
  { name: 'switch wait', workflow: 'route', input: { kind: 'wait' }, status: 'SUCCEEDED', output: { final: 'wait' } },
  { name: 'switch default', workflow: 'route', input: { kind: 'other' }, status: 'FAILED', error: 'unknown kind' },
  { name: 'condition true', workflow: 'check', input: { expect: 200 }, status: 'SUCCEEDED', output: { ok: 150 } },
  { name: 'condition false', workflow: 'check', input: { expect: 201 }, status: 'FAILED', error: 'unexpected probe status' },
  { name: 'fail fast', workflow: 'failFast', input: {}, status: 'FAILED', error: 'boom' },
];

/** How `run` ended, unless it ended as `scenario` says (status, output or error, and last event). */
function unexpectedEnding(run: RunView, events: EventView[], scenario: Scenario): string[] {
  const lastEvent = events.at(-1)?.type;
  const ended =
    run.status === scenario.status &&
    lastEvent === `RUN_${scenario.status}` &&
    (scenario.status === 'SUCCEEDED' ? isDeepStrictEqual(run.output, scenario.output) : (run.error ?? '').includes(scenario.error));
  const result = run.status === 'SUCCEEDED' ? JSON.stringify(run.output) : JSON.stringify(run.error);
  return ended ? [] : [`${run.id} (${scenario.name}): ${run.status} ${result}, last event ${lastEvent}`];
}

interface PlannedRun {
  scenario: Scenario;
  idempotencyKey: string;
  id?: string;
}

describe('runs survive SIGKILL of the server process', () => {
  const shared = useChildStorage(startSlowServer);

  it(`ends every run as without crashes across ${kills} kills at random moments`, async () => {
    const random = seededRandom(seed);
    const started = Date.now();
    let server = await startChildServer({ env: { ...shared.storage.env, ...env } });
    const key = await createOrganization(server, 'crash');
    const definitions = workflows(shared.target.url);
    const workflowIds = {} as Record<WorkflowName, string>;
    for (const name of Object.keys(definitions) as WorkflowName[]) {
      workflowIds[name] = await createWorkflow(server, key, name, definitions[name]);
    }

    const planned: PlannedRun[] = [];
    const start = async (target: ChildServer, run: PlannedRun) => {
      const { workflow, input } = run.scenario;
      run.id = await startRun(target, key, workflowIds[workflow], { input, idempotencyKey: run.idempotencyKey });
    };
    // Starts a kill cut off (no answer) are sent again, with the same idempotency key, after the restart.
    const unstarted = () => planned.filter((run) => run.id === undefined);

    const faults: Fault[] = [];
    const restartTimes: number[] = [];
    for (let kill = 0; kill < kills; kill++) {
      await Promise.all(unstarted().map((run) => start(server, run)));
      // New runs start at random moments of the window before the kill, which may cut their startRun off.
      const window = 100 + random() * 800;
      const target = server;
      const sends: Promise<void>[] = [];
      const timers = Array.from({ length: runsPerStart }, () => {
        const run = { scenario: scenarios[Math.floor(random() * scenarios.length)]!, idempotencyKey: `crash-${planned.length}` };
        planned.push(run);
        return setTimeout(() => sends.push(start(target, run).catch(() => undefined)), random() * window);
      });
      await sleep(window);

      const sentAt = Date.now();
      server.kill('SIGKILL');
      await server.exited;
      faults.push({ sentAt, exitedAt: Date.now() });
      timers.forEach(clearTimeout);
      await Promise.all(sends);
      const restarting = Date.now();
      server = await startChildServer({ env: { ...shared.storage.env, ...env } });
      restartTimes.push(Date.now() - restarting);
    }

    await Promise.all(unstarted().map((run) => start(server, run)));
    const ids = planned.map((run) => run.id!);
    const runs = await waitForFinal(server, key, ids, 60_000);
    const events = await Promise.all(ids.map((id) => readEvents(server, key, id)));
    const listed = await server.request(`{ runs(first: 100) { edges { node { id } } } }`, {}, key);
    console.log(
      `crash-recovery (${shared.storage.driver}, seed ${seed}): ${planned.length} runs, ${faults.length} kills, ` +
        `restart ${Math.min(...restartTimes)}–${Math.max(...restartTimes)} ms, total ${Date.now() - started} ms`,
    );

    // Soft: one run shows every property that fails.
    // Each run ends as it would have without a crash, and its last event says so.
    expect.soft(planned.flatMap((p, i) => unexpectedEnding(runs[i]!, events[i]!, p.scenario))).toEqual([]);
    // A start sent again after a kill found its run instead of making another.
    const listedIds = (listed.data?.runs.edges as { node: { id: string } }[]).map((edge) => edge.node.id);
    expect.soft(listedIds.sort()).toEqual([...ids].sort());
    // No step is left behind unsettled.
    const unsettled = runs.flatMap((run) =>
      run.steps.filter((step) => step.status === 'PENDING' || step.status === 'RUNNING').map((step) => `${run.id}/${step.nodeId}`),
    );
    expect.soft(unsettled).toEqual([]);
    // Events: 1..n, one final event, last.
    expect.soft(ids.flatMap((id, i) => eventProblems(id, events[i]!))).toEqual([]);
    // A run a kill cut off was taken over (RUN_RESUMED) by a later process; enough kills hit live runs.
    const interrupted = faults.flatMap((fault) =>
      ids.flatMap((id, i) => {
        const runEvents = events[i]!;
        const first = Date.parse(runEvents[0]?.at ?? '');
        const last = Date.parse(runEvents.at(-1)?.at ?? '');
        return first < fault.sentAt && last > fault.exitedAt ? [{ id, runEvents, fault }] : [];
      }),
    );
    expect.soft(interrupted.length).toBeGreaterThanOrEqual(10);
    const notResumed = interrupted
      .filter(({ runEvents, fault }) => !runEvents.some((e) => e.type === 'RUN_RESUMED' && Date.parse(e.at) >= fault.exitedAt))
      .map(({ id, fault }) => `${id} (kill at ${fault.sentAt})`);
    expect.soft(notResumed).toEqual([]);
    // No http call of a settled step was made again; only a cut-off or failed attempt was repeated.
    expect.soft(runs.flatMap((run) => requestProblems(run, shared.target.requests, faults))).toEqual([]);
  }, 600_000);
});
