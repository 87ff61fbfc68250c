// Fair share through the API: an organization's maxConcurrentRuns holds its other runs QUEUED with
// Run.waitingFor while another organization's runs start at once; priority picks the next run; a
// workflow's settings.maxConcurrentRuns; updateOrganizationLimits (ADMIN, partial updates, null =
// unlimited). The http nodes call a loopback gate the test releases request by request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../helpers/operations.js';
import { startGateTarget, type GateTarget } from '../helpers/gate-target.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let gate: GateTarget;
/** Run statuses are stored as the engine commits, which may come just after a node's request went out. */
const polling = { timeout: 10_000, interval: 50 };

beforeAll(async () => {
  [t, gate] = await Promise.all([startTestServer(), startGateTarget()]);
});

afterAll(async () => {
  await Promise.all([t?.close(), gate?.close()]);
});

interface RunView {
  id: string;
  status: string;
  waitingFor: string | null;
  priority: number;
  input: { tag: string };
}

const UpdateLimits = `mutation ($input: OrganizationLimitsInput!) {
  updateOrganizationLimits(input: $input) {
    __typename
    ... on Organization { id limits { maxConcurrentRuns maxRunningNodes } }
    ... on Error { message }
  }
}`;

type LimitsResult = {
  updateOrganizationLimits: {
    __typename: string;
    id?: string;
    limits?: { maxConcurrentRuns: number | null; maxRunningNodes: number | null };
    message?: string;
  };
};

async function setLimits(key: string, input: Record<string, number | null>) {
  const result = await t.request<LimitsResult, Record<string, unknown>>(UpdateLimits, { input }, key);
  return result;
}

/** A workflow whose one http node calls the gate in `group`, tagged with the run's input tag. */
function gated(key: string, group: string, settings: Record<string, unknown> = {}) {
  return createWorkflow(t, key, {
    nodes: [
      { id: 'start', type: 'trigger' },
      { id: 'call', type: 'http', params: { url: `${gate.url}/?group=${group}&tag={{ $run.input.tag }}` }, timeoutMs: 60_000 },
    ],
    edges: [{ source: 'start', target: 'call' }],
    settings,
  });
}

async function start(key: string, workflowId: string, tag: string, priority?: number): Promise<string> {
  const result = await t.request<{ startRun: { __typename: string; id?: string; message?: string } }, Record<string, unknown>>(
    `mutation ($workflowId: ID!, $input: JSON, $priority: Int) {
      startRun(workflowId: $workflowId, input: $input, priority: $priority) { __typename ... on Run { id } ... on Error { message } }
    }`,
    { workflowId, input: { tag }, ...(priority === undefined ? {} : { priority }) },
    key,
  );
  const id = result.data?.startRun.id;
  if (!id) throw new Error(`startRun failed: ${JSON.stringify(result)}`);
  return id;
}

/** The organization's runs by input tag. */
async function runsOf(key: string): Promise<Map<string, RunView>> {
  const result = await t.request<{ runs: { edges: { node: RunView }[] } }, Record<string, unknown>>(
    'query { runs(first: 100) { edges { node { id status waitingFor priority input } } } }',
    {},
    key,
  );
  if (!result.data) throw new Error(`runs failed: ${JSON.stringify(result)}`);
  return new Map(result.data.runs.edges.map(({ node }) => [node.input.tag, node]));
}

async function untilAllSucceeded(key: string, count: number): Promise<Map<string, RunView>> {
  let runs = new Map<string, RunView>();
  await expect
    .poll(
      async () => {
        runs = await runsOf(key);
        return [...runs.values()].filter((run) => run.status === 'SUCCEEDED').length;
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(count);
  return runs;
}

describe('an organization limit', () => {
  it('keeps at most 2 runs running, the rest QUEUED saying why, while another organization starts at once', async () => {
    const limited = await t.createOrganization();
    const other = await t.createOrganization();
    expect((await setLimits(limited.adminKey, { maxConcurrentRuns: 2 })).data?.updateOrganizationLimits.limits).toEqual({
      maxConcurrentRuns: 2,
      maxRunningNodes: null,
    });
    const limitedWorkflow = await gated(limited.adminKey, 'limited');
    const otherWorkflow = await gated(other.adminKey, 'other');
    const tags = Array.from({ length: 10 }, (_, i) => `a${i}`);
    for (const tag of tags) await start(limited.adminKey, limitedWorkflow, tag);
    for (const tag of ['b0', 'b1', 'b2']) await start(other.adminKey, otherWorkflow, tag);

    // The other organization's three runs are all in flight while eight of the first wait.
    await gate.until(() => gate.inFlight('limited') === 2 && gate.inFlight('other') === 3, 'a0, a1 and b0-b2 in flight');
    await expect
      .poll(async () => {
        const held = await runsOf(limited.adminKey);
        return tags.map((tag) => [held.get(tag)?.status, held.get(tag)?.waitingFor]);
      }, polling)
      .toEqual([
        ['RUNNING', null],
        ['RUNNING', null],
        ...Array(8).fill(['QUEUED', 'organization limit of 2 running runs']),
      ]);
    await expect
      .poll(async () => [...(await runsOf(other.adminKey)).values()].map((run) => [run.status, run.waitingFor]), polling)
      .toEqual(Array(3).fill(['RUNNING', null]));

    // Each finished run lets exactly the next one start, in the order they were started.
    for (let done = 0; done < tags.length; done++) {
      gate.release(tags[done]!);
      const expected = Math.min(2, tags.length - done - 1);
      const arrived = Math.min(tags.length, done + 3);
      await gate.until(
        () => gate.inFlight('limited') === expected && gate.arrived('limited').length === arrived,
        `${expected} in flight after ${done + 1} released`,
      );
      const running = [...(await runsOf(limited.adminKey)).values()].filter((run) => run.status === 'RUNNING');
      expect(running.length).toBeLessThanOrEqual(2);
    }
    expect(gate.arrived('limited')).toEqual(tags);
    expect(gate.maxInFlight('limited')).toBe(2);
    const finished = await untilAllSucceeded(limited.adminKey, 10);
    expect([...finished.values()].map((run) => run.waitingFor)).toEqual(Array(10).fill(null));
    for (const tag of ['b0', 'b1', 'b2']) gate.release(tag);
    await untilAllSucceeded(other.adminKey, 3);
  });

  it('starts the highest priority next, then in the order runs were started', async () => {
    const org = await t.createOrganization();
    await setLimits(org.adminKey, { maxConcurrentRuns: 1 });
    const workflowId = await gated(org.adminKey, 'priority');
    await start(org.adminKey, workflowId, 'busy');
    await gate.until(() => gate.inFlight('priority') === 1, 'the first run in flight');
    await start(org.adminKey, workflowId, 'p0-first', 0);
    await start(org.adminKey, workflowId, 'p0-second');
    await start(org.adminKey, workflowId, 'p5', 5);
    const waiting = await runsOf(org.adminKey);
    expect(['p0-first', 'p0-second', 'p5'].map((tag) => [waiting.get(tag)?.status, waiting.get(tag)?.priority])).toEqual([
      ['QUEUED', 0],
      ['QUEUED', 0],
      ['QUEUED', 5],
    ]);
    expect(waiting.get('p5')?.waitingFor).toBe('organization limit of 1 running run');
    for (const [i, tag] of ['busy', 'p5', 'p0-first'].entries()) {
      gate.release(tag);
      await gate.until(() => gate.arrived('priority').length === i + 2, `run ${i + 2} arrived`);
    }
    gate.release('p0-second');
    expect(gate.arrived('priority')).toEqual(['busy', 'p5', 'p0-first', 'p0-second']);
    expect(gate.maxInFlight('priority')).toBe(1);
    await untilAllSucceeded(org.adminKey, 4);
  });

  it('starts the runs it held back once the limit is raised', async () => {
    const org = await t.createOrganization();
    await setLimits(org.adminKey, { maxConcurrentRuns: 1 });
    const workflowId = await gated(org.adminKey, 'raised');
    for (const tag of ['r0', 'r1', 'r2']) await start(org.adminKey, workflowId, tag);
    await gate.until(() => gate.inFlight('raised') === 1, 'one run in flight');
    expect((await runsOf(org.adminKey)).get('r2')?.waitingFor).toBe('organization limit of 1 running run');
    await setLimits(org.adminKey, { maxConcurrentRuns: null });
    await gate.until(() => gate.inFlight('raised') === 3, 'all three in flight');
    expect([...(await runsOf(org.adminKey)).values()].map((run) => run.waitingFor)).toEqual([null, null, null]);
    for (const tag of ['r0', 'r1', 'r2']) gate.release(tag);
    await untilAllSucceeded(org.adminKey, 3);
  });
});

describe('a workflow limit', () => {
  it("holds the workflow's runs beyond settings.maxConcurrentRuns; its organization's other workflows go on", async () => {
    const org = await t.createOrganization();
    const limited = await gated(org.adminKey, 'wf-limited', { maxConcurrentRuns: 1 });
    const free = await gated(org.adminKey, 'wf-free');
    for (const tag of ['l0', 'l1', 'l2']) await start(org.adminKey, limited, tag);
    for (const tag of ['f0', 'f1']) await start(org.adminKey, free, tag);
    await gate.until(() => gate.inFlight('wf-limited') === 1 && gate.inFlight('wf-free') === 2, 'l0, f0 and f1 in flight');
    await expect
      .poll(async () => {
        const runs = await runsOf(org.adminKey);
        return ['l0', 'l1', 'l2', 'f0', 'f1'].map((tag) => [runs.get(tag)?.status, runs.get(tag)?.waitingFor]);
      }, polling)
      .toEqual([
      ['RUNNING', null],
      ['QUEUED', 'workflow limit of 1 running run'],
      ['QUEUED', 'workflow limit of 1 running run'],
      ['RUNNING', null],
      ['RUNNING', null],
    ]);
    for (const [i, tag] of ['l0', 'l1'].entries()) {
      gate.release(tag);
      await gate.until(() => gate.arrived('wf-limited').length === i + 2 && gate.inFlight('wf-limited') === 1, `l${i + 1} in flight`);
    }
    for (const tag of ['l2', 'f0', 'f1']) gate.release(tag);
    expect(gate.maxInFlight('wf-limited')).toBe(1);
    await untilAllSucceeded(org.adminKey, 5);
  });
});

describe('updateOrganizationLimits', () => {
  it('is for ADMIN keys only', async () => {
    const org = await t.createOrganization();
    for (const role of ['EDITOR', 'VIEWER'] as const) {
      const key = await t.createKey(org.adminKey, role);
      const refused = await setLimits(key, { maxConcurrentRuns: 1 });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const read = await t.request<{ organization: { limits: unknown } }, Record<string, unknown>>(
      'query { organization { limits { maxConcurrentRuns maxRunningNodes } } }',
      {},
      org.adminKey,
    );
    expect(read.data?.organization.limits).toEqual({ maxConcurrentRuns: null, maxRunningNodes: null });
  });

  it('changes only the fields given; null removes a limit; a bad value is a ValidationError that changes nothing', async () => {
    const org = await t.createOrganization();
    const limits = async (input: Record<string, number | null>) => (await setLimits(org.adminKey, input)).data?.updateOrganizationLimits;
    expect((await limits({ maxConcurrentRuns: 3, maxRunningNodes: 10 }))?.limits).toEqual({ maxConcurrentRuns: 3, maxRunningNodes: 10 });
    expect((await limits({ maxConcurrentRuns: 5 }))?.limits).toEqual({ maxConcurrentRuns: 5, maxRunningNodes: 10 });
    expect((await limits({ maxRunningNodes: null }))?.limits).toEqual({ maxConcurrentRuns: 5, maxRunningNodes: null });
    expect((await limits({}))?.limits).toEqual({ maxConcurrentRuns: 5, maxRunningNodes: null });
    const bad = await limits({ maxConcurrentRuns: 0, maxRunningNodes: 4 });
    expect(bad?.__typename).toBe('ValidationError');
    expect(bad?.message).toContain('maxConcurrentRuns');
    const read = await t.request<{ organization: { id: string; limits: unknown } }, Record<string, unknown>>(
      'query { organization { id limits { maxConcurrentRuns maxRunningNodes } } }',
      {},
      org.adminKey,
    );
    expect(read.data?.organization).toEqual({ id: org.id, limits: { maxConcurrentRuns: 5, maxRunningNodes: null } });
  });
});

describe('organizations take turns for room', () => {
  it("starts another organization's run in the next free slot, ahead of one organization's backlog", async () => {
    const small = await startTestServer({ runCapacity: 2 });
    try {
      const busy = await small.createOrganization();
      const quiet = await small.createOrganization();
      const workflowOf = (key: string, group: string) =>
        createWorkflow(small, key, {
          nodes: [
            { id: 'start', type: 'trigger' },
            { id: 'call', type: 'http', params: { url: `${gate.url}/?group=${group}&tag={{ $run.input.tag }}` }, timeoutMs: 60_000 },
          ],
          edges: [{ source: 'start', target: 'call' }],
        });
      const busyWorkflow = await workflowOf(busy.adminKey, 'turns-busy');
      const quietWorkflow = await workflowOf(quiet.adminKey, 'turns-quiet');
      const startOn = async (key: string, workflowId: string, tag: string) => {
        const result = await small.request<{ startRun: { __typename: string } }, Record<string, unknown>>(
          'mutation ($w: ID!, $input: JSON) { startRun(workflowId: $w, input: $input) { __typename } }',
          { w: workflowId, input: { tag } },
          key,
        );
        expect(result.data?.startRun.__typename).toBe('Run');
      };
      for (let i = 0; i < 6; i++) await startOn(busy.adminKey, busyWorkflow, `t-busy${i}`);
      await gate.until(() => gate.inFlight('turns-busy') === 2, 'the process full with two runs');
      await startOn(quiet.adminKey, quietWorkflow, 't-quiet0');
      // One slot frees: the quiet organization's run takes it, though four of the busy one waited longer.
      gate.release('t-busy0');
      await gate.until(() => gate.inFlight('turns-quiet') === 1, "the quiet organization's run in flight");
      expect(gate.arrived('turns-busy')).toEqual(['t-busy0', 't-busy1']);
      for (const tag of ['t-quiet0', ...Array.from({ length: 6 }, (_, i) => `t-busy${i}`)]) gate.release(tag);
      await gate.until(() => gate.arrived('turns-busy').length === 6 && gate.inFlight('turns-busy') === 0, 'every run done');
    } finally {
      await small.close();
    }
  });
});
