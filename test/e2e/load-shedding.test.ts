// Load shedding end to end, with the signal injected (no real overload): /ready answers 503 with the
// reason while the server sheds load and 200 after, /metrics and the log say so; a run started while
// shedding waits QUEUED and unclaimed until shedding ends, then completes; a running run's next node
// waits PENDING until shedding ends; on PostgreSQL another server on the same database takes the run.
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client.js';
import { createLoadSwitch } from '../../src/observability/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { buildServer } from '../../src/server.js';
import { createWorkflow, GetRun, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type LogLine = { level: string; msg: string } & Record<string, unknown>;

/** A pino destination keeping every line, parsed. */
function lineSink(lines: LogLine[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
}

const overload = 'event-loop delay 340 ms is over 200 ms';
const RunWaiting = 'query RunWaiting($id: ID!) { run(id: $id) { status waitingFor } }';

describe('a server shedding load', () => {
  const load = createLoadSwitch();
  const lines: LogLine[] = [];
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer({}, { load, logger: createLogger({ level: 'info', destination: lineSink(lines) }) });
    key = (await t.createOrganization()).adminKey;
  });
  afterEach(() => load.set(null));
  afterAll(() => t?.close());

  async function ready() {
    const response = await fetch(`${t.baseUrl}/ready`);
    return { status: response.status, body: await response.json() };
  }
  const metrics = async () => (await fetch(`${t.baseUrl}/metrics`)).text();

  it('answers /ready with 503 and the reason while it sheds load, 200 once it stopped; /metrics and the log say so', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await metrics()).toMatch(/^braid_shedding 0$/m);

    load.set(overload, { eventLoopDelayMs: 340, heapFraction: 0.4 });
    expect(await ready()).toEqual({ status: 503, body: { status: 'unavailable', reason: `shedding load: ${overload}` } });
    const shedding = await metrics();
    expect(shedding).toMatch(/^braid_shedding 1$/m);
    expect(shedding).toMatch(/^braid_event_loop_delay_seconds 0\.34$/m);

    load.set(null, { eventLoopDelayMs: 12, heapFraction: 0.4 });
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
    const calm = await metrics();
    expect(calm).toMatch(/^braid_shedding 0$/m);
    expect(calm).toMatch(/^braid_event_loop_delay_seconds 0\.012$/m);

    const said = lines.filter((line) => /shedding/.test(line.msg));
    expect(said.map((line) => [line.level, line.msg, line.reason])).toEqual([
      ['warn', 'shedding load: taking no new runs and delaying node starts', overload],
      ['info', 'load shedding ended: taking runs again', undefined],
    ]);
  });

  it('leaves a run started while shedding QUEUED and unclaimed, and runs it to the end once shedding stopped', async () => {
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'call', type: 'http', params: { url: `${t.slow.url}/slow?ms=0&tag=queued-while-shedding` } },
      ],
      edges: [{ source: 'start', target: 'call' }],
    });
    load.set(overload);
    const runId = await startRun(t, key, workflowId);
    const owner = async () =>
      (await t.database.rows<{ owner: string | null; status: string }>(sql`select owner, status from runs where id = ${runId}`))[0];
    expect(await owner()).toEqual({ owner: null, status: 'QUEUED' });
    // A slot that frees (a run ending here) wakes the claims: still none while shedding.
    t.server.services.runs.wake();
    expect(await owner()).toEqual({ owner: null, status: 'QUEUED' });
    const waiting = await t.request<{ run: { status: string; waitingFor: string | null } | null }, { id: string }>(RunWaiting, { id: runId }, key);
    expect(waiting.data?.run).toEqual({ status: 'QUEUED', waitingFor: expect.stringMatching(/^this server is shedding load/) });

    const events = watchRun(t, t.wsClient(key), runId);
    expect(t.slow.requests.some((request) => request.tag === 'queued-while-shedding')).toBe(false);
    load.set(null);
    await events.until((event) => event.type === 'RUN_SUCCEEDED');
    expect(t.slow.requests.filter((request) => request.tag === 'queued-while-shedding')).toHaveLength(1);
    const finished = await t.request<{ run: { status: string; waitingFor: string | null } | null }, { id: string }>(RunWaiting, { id: runId }, key);
    expect(finished.data?.run).toEqual({ status: 'SUCCEEDED', waitingFor: null });
  });

  it("holds a running run's next node PENDING while shedding, saying why, and starts it once shedding stopped", async () => {
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'first', type: 'http', params: { url: `${t.slow.url}/hold?tag=gate-first` } },
        { id: 'second', type: 'http', params: { url: `${t.slow.url}/slow?ms=0&tag=gate-second` } },
      ],
      edges: [
        { source: 'start', target: 'first' },
        { source: 'first', target: 'second' },
      ],
    });
    const runId = await startRun(t, key, workflowId);
    const events = watchRun(t, t.wsClient(key), runId);
    await t.slow.waitForRequest((request) => request.tag === 'gate-first');
    load.set(overload);
    t.slow.release('gate-first');
    // The step that held `second` back is stored with the commit of `first`'s success.
    await events.until((event) => event.type === 'NODE_SUCCEEDED' && event.nodeId === 'first');
    const held = (await t.request(GetRun, { id: runId }, key)).data?.run;
    expect(held?.status).toBe('RUNNING');
    expect(held?.steps.find((step) => step.nodeId === 'second')).toMatchObject({ status: 'PENDING', reason: expect.stringMatching(/shedding load/) });
    expect(t.slow.requests.some((request) => request.tag === 'gate-second')).toBe(false);
    expect(events.items.some((event) => event.nodeId === 'second')).toBe(false);

    load.set(null);
    await events.until((event) => event.type === 'RUN_SUCCEEDED');
    expect(t.slow.requests.filter((request) => request.tag === 'gate-second')).toHaveLength(1);
    const done = (await t.request(GetRun, { id: runId }, key)).data?.run;
    expect(done?.steps.find((step) => step.nodeId === 'second')).toMatchObject({ status: 'SUCCEEDED', reason: null });
  });
});

describe.skipIf(!process.env.DATABASE_URL)('two servers on one PostgreSQL, one shedding load', () => {
  it('the run started on the shedding server is taken and completed by the other', async () => {
    const shedding = createLoadSwitch();
    shedding.set(overload);
    const t = await startTestServer({}, { load: shedding });
    const second = await openDb({ databaseUrl: t.database.url!, dataDir: 'memory://', maxConnections: 4 });
    const other = buildServer({ config: t.config, database: second, load: createLoadSwitch(), logger: createLogger({ level: 'silent' }) });
    try {
      await other.start(0, '127.0.0.1');
      const key = (await t.createOrganization()).adminKey;
      const workflowId = await createWorkflow(t, key, {
        nodes: [
          { id: 'start', type: 'trigger' },
          { id: 'call', type: 'http', params: { url: `${t.slow.url}/slow?ms=0&tag=taken-elsewhere` } },
        ],
        edges: [{ source: 'start', target: 'call' }],
      });
      const runId = await startRun(t, key, workflowId);
      await watchRun(t, t.wsClient(key), runId).until((event) => event.type === 'RUN_SUCCEEDED');
      expect(t.slow.requests.filter((request) => request.tag === 'taken-elsewhere')).toHaveLength(1);
      expect(await other.metrics.text()).toMatch(/^braid_runs_started_total 1$/m);
      expect(await t.server.metrics.text()).toMatch(/^braid_runs_started_total 0$/m);
      expect(shedding.shedding()).toBe(overload);
    } finally {
      await other.stop();
      await second.close();
      await t.close();
    }
  });
});
