// The seed's four scenarios and a diamond join, end to end: createWorkflow, startRun, runEvents over graphql-ws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { contiguous, runToEnd, type RunEventItem } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let client: Client;

beforeAll(async () => {
  t = await startTestServer();
  key = (await t.createOrganization()).adminKey;
  client = t.wsClient(key);
});

afterAll(async () => {
  await t?.close();
});

const http = (id: string, ms: number) => ({
  id,
  type: 'http',
  params: { url: `${t.slow.url}/slow?ms=${ms}&tag=${id}` },
});

const startedBeforeAnyFinished = (events: RunEventItem[], nodeIds: string[]) => {
  const started = nodeIds.map((id) => events.findIndex((e) => e.type === 'NODE_STARTED' && e.nodeId === id));
  const firstFinished = events.findIndex((e) => e.type === 'NODE_SUCCEEDED' && nodeIds.includes(e.nodeId ?? ''));
  return started.every((index) => index >= 0 && index < firstFinished);
};

describe('seed scenarios', () => {
  it('starts three parallel calls together', async () => {
    const ids = ['s1a', 's1b', 's1c'];
    const { run, events } = await runToEnd(t, key, client, {
      nodes: [{ id: 'start', type: 'trigger' }, ...ids.map((id) => http(id, 100))],
      edges: ids.map((id) => ({ source: 'start', target: id })),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(t.slow.overlapped(ids)).toBe(true);
    expect(startedBeforeAnyFinished(events, ids)).toBe(true);
    expect(contiguous(events)).toBe(true);
    expect(events.at(-1)?.type).toBe('RUN_SUCCEEDED');
    // Three live edges out of the trigger: three branches forked from main.
    expect(run.branches.map((b) => b.path).sort()).toEqual(['main', 'main/s1a', 'main/s1b', 'main/s1c']);
  });

  // Parallelism, not a stopwatch: the server sees all five calls in flight together, so the run takes
  // one call's time. The makespan itself is measured in bench/ (`npm run bench -- seed`).
  it('runs five 200 ms calls at once, not one after another', async () => {
    const ids = ['f1', 'f2', 'f3', 'f4', 'f5'];
    const { run, events } = await runToEnd(t, key, client, {
      nodes: [{ id: 'start', type: 'trigger' }, ...ids.map((id) => http(id, 200))],
      edges: ids.map((id) => ({ source: 'start', target: id })),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(t.slow.overlapped(ids)).toBe(true);
    expect(startedBeforeAnyFinished(events, ids)).toBe(true);
  });

  it('with CONTINUE, one failing branch of three leaves the other two to finish', async () => {
    const { run, events } = await runToEnd(t, key, client, {
      nodes: [
        { id: 'start', type: 'trigger' },
        http('ok1', 50),
        { id: 'bad', type: 'http', params: { url: `${t.slow.url}/status?code=500&tag=bad` } },
        http('ok2', 100),
        { id: 'after1', type: 'transform', params: { expression: '$input.status' } },
      ],
      edges: [
        { source: 'start', target: 'ok1' },
        { source: 'start', target: 'bad' },
        { source: 'start', target: 'ok2' },
        { source: 'ok1', target: 'after1' },
      ],
      settings: { errorStrategy: 'CONTINUE' },
    });
    expect(run.status).toBe('FAILED');
    const status = Object.fromEntries(run.steps.map((s) => [s.nodeId, s.status]));
    expect(status).toEqual({ start: 'SUCCEEDED', ok1: 'SUCCEEDED', bad: 'FAILED', ok2: 'SUCCEEDED', after1: 'SUCCEEDED' });
    expect(run.steps.find((s) => s.nodeId === 'bad')?.error).toMatch(/500/);
    expect(events.filter((e) => e.type === 'NODE_FAILED').map((e) => e.nodeId)).toEqual(['bad']);
    expect(run.branches.find((b) => b.path === 'main/bad')?.status).toBe('FAILED');
  });

  it('with FAIL_FAST, the failure cancels the running siblings with a reason', async () => {
    const { run } = await runToEnd(t, key, client, {
      nodes: [
        { id: 'start', type: 'trigger' },
        http('long', 5000),
        { id: 'boom', type: 'fail', params: { message: 'boom' } },
      ],
      edges: [
        { source: 'start', target: 'long' },
        { source: 'start', target: 'boom' },
      ],
    });
    expect(run.status).toBe('FAILED');
    const long = run.steps.find((s) => s.nodeId === 'long');
    expect(long?.status).toBe('CANCELLED');
    expect(long?.reason).toMatch(/boom/);
  });

  it('a condition chooses one side; its two calls run in parallel and the other side is skipped', async () => {
    const { run } = await runToEnd(
      t,
      key,
      client,
      {
        nodes: [
          { id: 'start', type: 'trigger' },
          { id: 'check', type: 'condition', params: { expression: '$input.approved = true' } },
          http('yes1', 100),
          http('yes2', 100),
          http('no1', 10),
        ],
        edges: [
          { source: 'start', target: 'check' },
          { source: 'check', target: 'yes1', sourceHandle: 'true' },
          { source: 'check', target: 'yes2', sourceHandle: 'true' },
          { source: 'check', target: 'no1', sourceHandle: 'false' },
        ],
      },
      { approved: true },
    );
    expect(run.status).toBe('SUCCEEDED');
    const steps = Object.fromEntries(run.steps.map((s) => [s.nodeId, s]));
    expect(steps.yes1?.status).toBe('SUCCEEDED');
    expect(steps.yes2?.status).toBe('SUCCEEDED');
    expect(steps.no1?.status).toBe('SKIPPED');
    expect(steps.no1?.reason).toBe('condition "check" chose "true"');
    expect(t.slow.overlapped(['yes1', 'yes2'])).toBe(true);
    expect(t.slow.requests.some((r) => r.tag === 'no1')).toBe(false);
  });

  it('joins a diamond: the merge waits for both sides and sees both outputs', async () => {
    const { run, events } = await runToEnd(t, key, client, {
      nodes: [
        { id: 'start', type: 'trigger' },
        http('left', 120),
        http('right', 40),
        { id: 'join', type: 'merge', params: { mode: 'ALL' } },
        { id: 'sum', type: 'transform', params: { expression: '$input.left.body.ms + $input.right.body.ms' } },
      ],
      edges: [
        { source: 'start', target: 'left' },
        { source: 'start', target: 'right' },
        { source: 'left', target: 'join' },
        { source: 'right', target: 'join' },
        { source: 'join', target: 'sum' },
      ],
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ sum: 160 });
    const index = (type: string, nodeId: string) => events.findIndex((e) => e.type === type && e.nodeId === nodeId);
    expect(index('NODE_STARTED', 'join')).toBeGreaterThan(index('NODE_SUCCEEDED', 'left'));
    expect(index('NODE_STARTED', 'join')).toBeGreaterThan(index('NODE_SUCCEEDED', 'right'));
    expect(events.filter((e) => e.type === 'NODE_STARTED' && e.nodeId === 'join')).toHaveLength(1);
    // The join continues the branch its inputs have in common.
    expect(run.steps.find((s) => s.nodeId === 'join')?.branch).toBe('main');
  });
});
