// The fuzz suite's body, shared by its files (one per mix of transports, so that they run side by side):
// a real server, batches of generated cases sent concurrently, and after each batch the properties:
// no answer 5xx or unmasked, /health answering within a second, no socket closed by the server, no row
// beyond what the successful mutations of the batch may have written, and no stack trace logged.
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { schema } from '../../src/schema/index.js';
import { fuzzCase, possibleWrites, problemWith, type FuzzCase, type IdPool } from './fuzz-cases.js';
import { createWorkflow, startRun } from './operations.js';
import { startTestServer, type TestServer } from './server.js';
import { fresh, send, type Answer, type Target, type Transport } from './transports.js';

export interface FuzzOptions {
  transports: readonly Transport[];
  /** Batches (fast-check runs) and cases per batch. */
  batches: number;
  batchSize: number;
}

/** Registers the suite's hooks and its one test in the calling file. */
export function fuzzSuite(options: FuzzOptions): void {
  let t: TestServer;
  let ws: Client;
  let target: Target;
  const ids: IdPool = { workflows: [], runs: [] };
  const serverCloses: number[] = [];
  const logged: string[] = [];
  let disposing = false;

  beforeAll(async () => {
    t = await startTestServer({ rateLimitPerSecond: 0, maxSubscriptionsPerKey: 0, maxSocketsPerKey: 0 });
    const key = (await t.createOrganization()).adminKey;
    ids.workflows.push(await createWorkflow(t, key, { nodes: [{ id: 't', type: 'trigger' }], edges: [] }));
    ids.workflows.push(
      await createWorkflow(t, key, { nodes: [{ id: 't', type: 'trigger' }, { id: 'd', type: 'delay', params: { ms: 1 } }], edges: [{ source: 't', target: 'd' }] }),
    );
    ids.runs.push(await startRun(t, key, ids.workflows[0]!));
    ws = createClient({ url: t.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, lazy: false, retryAttempts: 0 });
    ws.on('closed', (event) => {
      if (!disposing) serverCloses.push((event as { code?: number }).code ?? -1);
    });
    target = { url: t.url, key, ws, wsUrl: t.wsUrl };
    for (const level of ['error', 'warn', 'log'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((arg) => (arg instanceof Error ? `${arg.name}: ${arg.message}\n${arg.stack ?? ''}` : String(arg))).join(' '));
      });
    }
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    disposing = true;
    await ws?.dispose();
    await t?.close();
  });

  async function rows(): Promise<{ workflows: number; runs: number }> {
    const [row] = await t.database.rows<{ workflows: number; runs: number }>(
      sql`select (select count(*) from workflows)::int as workflows, (select count(*) from runs)::int as runs`,
    );
    return row!;
  }

  async function answer(c: FuzzCase): Promise<Answer> {
    // Only a subscription may still be open after 60 ms; anything else gets its whole answer waited for.
    if (c.body === undefined) return send(target, c.transport, c.query, c.variables, /subscription/.test(c.query) ? 60 : 30_000);
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.key}` },
      body: c.body,
      dispatcher: fresh,
    } as RequestInit);
    const text = await response.text();
    try {
      return { status: response.status, ...(JSON.parse(text) as object) };
    } catch {
      return { status: response.status, raw: text };
    }
  }

  const count = options.batches * options.batchSize;
  it(`answers ${count} generated requests over ${[...new Set(options.transports)].join(', ')} without a 5xx, an unmasked error, a closed socket or a stray row`, async () => {
    let sent = 0;
    const slow: [number, string][] = [];
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzCase(schema, ids, options.transports), { minLength: options.batchSize, maxLength: options.batchSize }), async (cases) => {
        const before = await rows();
        const answers = await Promise.all(
          cases.map(async (c) => {
            const started = performance.now();
            const a = await answer(c).catch(async (error: unknown): Promise<Answer> => {
              if (process.env.FUZZ_STATS) (await import('node:fs')).writeFileSync(`${process.env.FUZZ_STATS}.fail`, JSON.stringify(c));
              return { status: null, raw: `request failed: ${String(error)} (${String((error as { cause?: unknown }).cause)})` };
            });
            if (process.env.FUZZ_STATS) slow.push([performance.now() - started, `${c.kind}/${c.transport} ${c.query.slice(0, 150)}`]);
            return a;
          }),
        );
        sent += cases.length;
        if (process.env.FUZZ_STATS) {
          (await import('node:fs')).writeFileSync(process.env.FUZZ_STATS, JSON.stringify(slow.sort((a, b) => b[0] - a[0]).slice(0, 40), null, 1));
        }
        for (const c of cases) kinds.set(`${c.kind}/${c.transport}`, (kinds.get(`${c.kind}/${c.transport}`) ?? 0) + 1);
        answers.forEach((a, i) => {
          const problem = problemWith(a);
          if (problem) throw new Error(`${problem}\nfor ${JSON.stringify(cases[i]).slice(0, 2000)}`);
        });
        const health = await fetch(`${t.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
        expect(health.status).toBe(200);
        expect(serverCloses).toEqual([]);
        const after = await rows();
        const writes = answers.reduce((sum, a, i) => sum + (/mutation/.test(cases[i]!.query) ? possibleWrites(a) : 0), 0);
        const mutations = () =>
          answers
            .map((a, i) => [cases[i]!, a] as const)
            .filter(([c]) => /mutation/.test(c.query))
            .map(([c, a]) => `${c.query.slice(0, 300)} → ${JSON.stringify({ data: a.data, errors: a.errors }).slice(0, 300)}`)
            .join('\n');
        expect(after.workflows - before.workflows, mutations()).toBeLessThanOrEqual(writes);
        expect(after.runs - before.runs, mutations()).toBeLessThanOrEqual(writes);
      }),
      { numRuns: options.batches, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
    );
    if (process.env.FUZZ_STATS) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.FUZZ_STATS, JSON.stringify(slow.sort((a, b) => b[0] - a[0]).slice(0, 40), null, 1));
    }
    expect(sent).toBe(count);
    // Every kind of case went over every transport of this file at least once.
    for (const transport of new Set(options.transports)) {
      for (const kind of ['schema', 'broken', 'extreme', 'random-variables']) expect(kinds.get(`${kind}/${transport}`) ?? 0, `${kind}/${transport}`).toBeGreaterThan(0);
    }
    expect(logged.filter((line) => /RangeError|call stack|Unexpected error|\n\s+at /.test(line))).toEqual([]);
  }, 300_000);
}
