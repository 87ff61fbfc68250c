// Logs as an operator reads them: JSON lines from a real server, a line per run start and end with
// its runId, workflowId, status and duration, the fan-out lines with their runId (debug ones only at
// debug), and a line per failed request that holds nothing the client sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservedServer, type ObservedServer } from '../helpers/observed-server.js';

const fanOut = {
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'a', type: 'transform', params: { expression: '$input.n * 2' } },
    { id: 'b', type: 'transform', params: { expression: '$input.n + 1' } },
    { id: 'c', type: 'transform', params: { expression: '$input.n - 1' } },
    { id: 'join', type: 'merge', params: { mode: 'ALL' } },
  ],
  edges: [
    { source: 'start', target: 'a' },
    { source: 'start', target: 'b' },
    { source: 'start', target: 'c' },
    { source: 'a', target: 'join' },
    { source: 'b', target: 'join' },
    { source: 'c', target: 'join' },
  ],
};

const failing = {
  nodes: [
    { id: 'start', type: 'trigger' },
    { id: 'boom', type: 'fail', params: { message: 'on purpose' } },
  ],
  edges: [{ source: 'start', target: 'boom' }],
};

let t: ObservedServer;
let key: string;

beforeAll(async () => {
  t = await startObservedServer({}, 'debug');
  key = await t.createKey();
});

afterAll(async () => {
  await t?.close();
});

const linesOf = (runId: string) => t.lines.filter((line) => line.runId === runId);

describe('logs', () => {
  it('are JSON lines with a level word, a time and a message', async () => {
    expect(t.lines.length).toBeGreaterThan(0);
    for (const line of t.lines) {
      expect(typeof line.level).toBe('string');
      expect(typeof line.time).toBe('number');
      expect(typeof line.msg).toBe('string');
    }
  });

  it('log a run start and end, and the fan-out lines with the runId', async () => {
    const workflowId = await t.createWorkflow(key, fanOut);
    const runId = await t.startRun(key, workflowId, { n: 21 });
    const finished = await t.finished(runId);
    expect(finished).toMatchObject({ level: 'info', runId, workflowId, workflowVersion: 1, status: 'SUCCEEDED', error: null });
    expect(typeof finished.durationMs).toBe('number');
    expect(finished.durationMs).toBeGreaterThanOrEqual(0);
    const started = linesOf(runId).find((line) => line.msg === 'run started');
    expect(started).toMatchObject({ level: 'info', runId, workflowId, status: 'RUNNING' });

    const messages = linesOf(runId).map((line) => `${line.level} ${line.msg}`);
    expect(messages).toContain('debug Node start has 3 outgoing edge(s)');
    expect(messages).toContain('info Executing 3 parallel branches from node start');
    for (const id of ['a', 'b', 'c']) expect(messages).toContain(`debug Node ${id} has 1 outgoing edge(s)`);
    // One branch out of a node is no parallelism; a sink has no outgoing edge.
    expect(messages.filter((m) => m.startsWith('info Executing'))).toHaveLength(1);
    expect(messages.some((m) => m.includes('Node join has'))).toBe(false);
    expect(messages.indexOf('info run started')).toBeLessThan(messages.indexOf('info run finished'));
  });

  it('log a failed run as a warning with its error, and leave debug lines out at info', async () => {
    t.logger.level = 'info';
    try {
      const workflowId = await t.createWorkflow(key, failing);
      const runId = await t.startRun(key, workflowId);
      const finished = await t.finished(runId);
      expect(finished).toMatchObject({ level: 'warn', runId, workflowId, status: 'FAILED' });
      expect(finished.error).toContain('on purpose');
      expect(linesOf(runId).filter((line) => line.level === 'debug')).toEqual([]);

      const fanOutRun = await t.startRun(key, await t.createWorkflow(key, fanOut), { n: 1 });
      await t.finished(fanOutRun);
      const messages = linesOf(fanOutRun).map((line) => `${line.level} ${line.msg}`);
      expect(messages).toContain('info Executing 3 parallel branches from node start');
      expect(messages.filter((m) => m.startsWith('debug'))).toEqual([]);
    } finally {
      t.logger.level = 'debug';
    }
  });

  it('log every failed request without the key, the variables or the document', async () => {
    const badKey = 'braid_not-a-real-key-3f9a7c';
    const variableValue = 'variable-value-8c1e44';
    const literal = 'literal-in-document-5b72d0';

    const unauthenticated = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${badKey}` },
      body: JSON.stringify({ query: 'query Who { nodeTypes { type } }' }),
    });
    await unauthenticated.text();
    const invalid = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'query Bad($n: Int) { run(id: $n) { id } }', operationName: 'Bad', variables: { n: variableValue } }),
    });
    await invalid.text();
    const unknownField = await fetch(`${t.baseUrl}/graphql?token=${literal}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: `query Lit { nodeTypes(filter: "${literal}") { type } }` }),
    });
    await unknownField.text();
    const tooLarge = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: 'x'.repeat(t.server.services.config.maxBodyBytes + 1),
    });
    expect(tooLarge.status).toBe(413);
    await tooLarge.text();

    const failed = await t.waitForLine((line) => line.msg === 'request failed' && line.status === 413);
    expect(failed).toMatchObject({ level: 'warn', method: 'POST', path: '/graphql' });
    const graphqlFailures = t.lines.filter((line) => line.msg === 'GraphQL request failed');
    expect(graphqlFailures.find((line) => line.operationName === 'Bad')).toMatchObject({ level: 'warn', path: '/graphql' });
    expect(graphqlFailures.find((line) => line.operationName === 'Bad')!.errors.length).toBeGreaterThan(0);
    const codes = graphqlFailures.flatMap((line) => line.errors.map((error: { code: string }) => error.code));
    expect(codes).toContain('UNAUTHENTICATED');
    expect(graphqlFailures.length).toBeGreaterThanOrEqual(3);

    for (const secret of [badKey, variableValue, literal, key]) expect(t.text.includes(secret), secret).toBe(false);
  });
});
