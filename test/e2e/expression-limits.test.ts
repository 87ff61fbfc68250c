// CONTRACT §6 through the API: an expression that would freeze the server (exponential recursion, a
// pathological regex), exhaust its memory or build a huge result fails its step naming the limit,
// while /health keeps answering within 1 s and a run started at the same time succeeds.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinitionInput } from '../gql/graphql.js';
import { CancelRun, GetRun, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let client: Client;

beforeAll(async () => {
  t = await startTestServer({ expressionTimeoutMs: 1500, expressionMemoryMb: 32, expressionWorkers: 2 });
  ({ adminKey: key } = await t.createOrganization());
  client = t.wsClient(key);
  // A first run loads what a server loads on its first run (modules, JIT, the worker threads).
  const warmup = await startRun(t, key, await createWorkflow(t, key, wellBehaved), { input: { name: 'Ada' } });
  await watchRun(t, client, warmup).done;
});

afterAll(async () => {
  await t?.close();
});

/** GET /health every 50 ms until stopped; each answer's status and how long it took. */
function pollHealth(baseUrl: string) {
  const answers: { status: number; ms: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      answers.push({ status: response.status, ms: performance.now() - t0 });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return answers;
    },
  };
}

/** A workflow of one transform (or a node of the caller's) after the trigger. */
function oneNode(node: Omit<WorkflowDefinitionInput['nodes'][number], 'id'>): WorkflowDefinitionInput {
  return { nodes: [{ id: 'start', type: 'trigger' }, { id: 'evil', ...node }], edges: [{ source: 'start', target: 'evil' }] };
}

/** A run that needs the workers too (string building is never evaluated inline) and a condition. */
const wellBehaved: WorkflowDefinitionInput = {
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'greet', type: 'transform', params: { expression: '{ "text": "hello " & $input.name }' } },
    { id: 'check', type: 'condition', params: { expression: '$input.text = "hello Ada"' } },
    { id: 'done', type: 'transform', params: { expression: '$nodes.greet.text & "!"' } },
  ],
  edges: [
    { source: 'start', target: 'greet' },
    { source: 'greet', target: 'check' },
    { source: 'check', target: 'done', sourceHandle: 'true' },
  ],
};

/**
 * Starts the evil workflow and a well-behaved one together while polling /health; returns the evil
 * step once both runs ended, after checking the other run succeeded and every health answer came
 * within 1 s.
 */
async function survive(evil: WorkflowDefinitionInput) {
  const [evilId, goodId] = await Promise.all([createWorkflow(t, key, evil), createWorkflow(t, key, wellBehaved)]);
  const health = pollHealth(t.baseUrl);
  const t0 = performance.now();
  const [evilRun, goodRun] = await Promise.all([startRun(t, key, evilId), startRun(t, key, goodId, { input: { name: 'Ada' } })]);
  await Promise.all([watchRun(t, client, evilRun).done, watchRun(t, client, goodRun).done]);
  const elapsed = performance.now() - t0;
  const answers = await health.stop();

  const good = (await t.request(GetRun, { id: goodRun }, key)).data?.run;
  expect({ status: good?.status, errors: good?.steps.map((step) => step.error) }).toEqual({ status: 'SUCCEEDED', errors: good?.steps.map(() => null) });
  expect(good?.steps.find((step) => step.nodeId === 'done')?.output).toBe('hello Ada!');

  // The contract's bound, over the whole time the evil expression ran (≥ 1 answer per 1.1 s of it).
  expect(answers.length).toBeGreaterThanOrEqual(Math.max(1, Math.floor(elapsed / 1100)));
  expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
  expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(1000);

  const run = (await t.request(GetRun, { id: evilRun }, key)).data?.run;
  expect(run?.status).toBe('FAILED');
  const step = run!.steps.find((s) => s.nodeId === 'evil')!;
  expect(step.status).toBe('FAILED');
  return { step, run: run!, elapsed };
}

describe('expressions that would stop the server', () => {
  it('exponential recursion is stopped at the node timeoutMs', async () => {
    const expression = '( $f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(25) )';
    const { step } = await survive(oneNode({ type: 'transform', params: { expression }, timeoutMs: 1000 }));
    expect(step.error).toMatch(/^expression ".*" timed out after 1000 ms \(timeoutMs\)$/);
    expect(step.attempt).toBe(1);
    expect(step.durationMs).toBeGreaterThanOrEqual(1000);
    expect(step.durationMs).toBeLessThan(3000);
  });

  it('a limit is never retried', async () => {
    const expression = '( $f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(25) )';
    const node = { type: 'transform', params: { expression }, timeoutMs: 300, retry: { maxAttempts: 3, backoff: 'FIXED' as const, initialDelayMs: 10 } };
    const { step } = await survive(oneNode(node));
    expect(step.error).toMatch(/timed out after 300 ms \(timeoutMs\)$/);
    expect(step.attempt).toBe(1);
  });

  it('frees the threads of expressions stopped at timeoutMs: later expressions get them at once', async () => {
    const expression = '( $f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(25) )';
    // As many stuck expressions as there are threads; left running, they would hold both for ~30 s.
    const evil: WorkflowDefinitionInput = {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'evil', type: 'transform', params: { expression }, timeoutMs: 500 },
        { id: 'evil2', type: 'transform', params: { expression: `${expression} + 1` }, timeoutMs: 500 },
      ],
      edges: [
        { source: 'start', target: 'evil' },
        { source: 'start', target: 'evil2' },
      ],
      settings: { errorStrategy: 'CONTINUE' },
    };
    const { run } = await survive(evil);
    expect(run.steps.find((step) => step.nodeId === 'evil2')?.error).toMatch(/timed out after 500 ms \(timeoutMs\)$/);
    // The well-behaved run after them needs a thread within EXPRESSION_TIMEOUT_MS (1.5 s).
    const goodRun = await startRun(t, key, await createWorkflow(t, key, wellBehaved), { input: { name: 'Ada' } });
    await watchRun(t, client, goodRun).done;
    const good = (await t.request(GetRun, { id: goodRun }, key)).data?.run;
    expect(good?.steps.map((step) => step.error)).toEqual(good?.steps.map(() => null));
    expect(good?.status).toBe('SUCCEEDED');
  });

  it('cancelRun stops the expressions it was running and frees their threads', async () => {
    const expression = '( $f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(25) )';
    const evil: WorkflowDefinitionInput = {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'evil', type: 'transform', params: { expression }, timeoutMs: 60_000 },
        { id: 'evil2', type: 'transform', params: { expression: `${expression} + 1` }, timeoutMs: 60_000 },
      ],
      edges: [
        { source: 'start', target: 'evil' },
        { source: 'start', target: 'evil2' },
      ],
    };
    const runId = await startRun(t, key, await createWorkflow(t, key, evil));
    const events = watchRun(t, client, runId);
    await events.until((event) => event.type === 'NODE_STARTED' && event.nodeId === 'evil');
    await events.until((event) => event.type === 'NODE_STARTED' && event.nodeId === 'evil2');
    const cancelled = await t.request(CancelRun, { id: runId }, key);
    expect(cancelled.data?.cancelRun).toMatchObject({ __typename: 'Run', status: 'CANCELLED' });
    // Both threads were busy with the run; a well-behaved run needs one within EXPRESSION_TIMEOUT_MS (1.5 s).
    const goodRun = await startRun(t, key, await createWorkflow(t, key, wellBehaved), { input: { name: 'Ada' } });
    await watchRun(t, client, goodRun).done;
    const good = (await t.request(GetRun, { id: goodRun }, key)).data?.run;
    expect(good?.steps.map((step) => step.error)).toEqual(good?.steps.map(() => null));
    expect(good?.status).toBe('SUCCEEDED');
  });

  it('a pathological regex is stopped at EXPRESSION_TIMEOUT_MS when the node sets no timeout', async () => {
    const expression = '$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)';
    const { step } = await survive(oneNode({ type: 'condition', params: { expression } }));
    expect(step.error).toMatch(/^expression ".*" timed out after 1500 ms \(EXPRESSION_TIMEOUT_MS\)$/);
    expect(step.durationMs).toBeLessThan(4000);
  });

  it('the same regex in a template of an http node is stopped at its timeoutMs, with nothing sent', async () => {
    const before = t.slow.requests.length;
    const url = `${t.slow.url}/slow?ms=1&x={{ $match("aaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/) }}`;
    const { step } = await survive(oneNode({ type: 'http', params: { url }, timeoutMs: 800 }));
    expect(step.error).toMatch(/^template in params\.url: expression ".*" timed out after 800 ms \(timeoutMs\)$/);
    expect(step.durationMs).toBeLessThan(3000);
    expect(t.slow.requests.length).toBe(before);
  });

  it('the issue\'s $count([1..10000000].[1..10000000]) fails on the sequence bound before it allocates', async () => {
    const { step } = await survive(oneNode({ type: 'transform', params: { expression: '$count([1..10000000].[1..10000000])' } }));
    expect(step.error).toMatch(/exceeded the sequence limit of 1000000 items \(JSONata sequence bound\)$/);
  });

  it('an expression that outgrows the heap fails on EXPRESSION_MEMORY_MB', async () => {
    // Strings doubling, each one copied (uppercased): 26 × 2^24 characters at the end, far past 32 MB.
    const expression = '( $f := function($s, $n) { $n = 0 ? $s : $f($uppercase($s & $s), $n - 1) }; $length($f("abcdefghijklmnopqrstuvwxyz", 24)) )';
    // A time bound well past the few seconds a 32 MB heap takes to fill on a loaded machine.
    const { step } = await survive(oneNode({ type: 'transform', params: { expression }, timeoutMs: 20_000 }));
    expect(step.error).toMatch(/^expression ".*" exceeded the memory limit of 32 MB \(EXPRESSION_MEMORY_MB\)$/);
  });

  it('a huge result fails on EXPRESSION_RESULT_BYTES', async () => {
    const { step } = await survive(oneNode({ type: 'transform', params: { expression: '[1..500000]' } }));
    expect(step.error).toBe('expression "[1..500000]" gave a result larger than 1048576 bytes (EXPRESSION_RESULT_BYTES)');
  });
});

/** Threads of this process at nice +10: the expression workers (Linux). */
function expressionThreads(): number {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16] === '10';
    } catch {
      return false; // the thread ended while being read
    }
  }).length;
}

describe('the expression threads of a server', () => {
  it.runIf(existsSync('/proc/self/task'))('start with it, run below the event loop\'s priority, and end with its stop', async () => {
    const before = expressionThreads();
    const other = await startTestServer({ expressionWorkers: 3 });
    try {
      // Warm: started with the engine, before any expression.
      const deadline = performance.now() + 10_000;
      while (expressionThreads() < before + 3 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(expressionThreads()).toBe(before + 3);
    } finally {
      await other.close();
    }
    expect(expressionThreads()).toBe(before);
  });
});
