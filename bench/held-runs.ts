// Runs held mid-flight for the recovery benchmark: trigger → one http call that a loopback hold server
// keeps waiting, started from concurrent clients; and what the bench reads of them from the database.
import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import type { Api } from './client.js';
import type { HoldServer } from './hold-server.js';
import { sleep } from './stats.js';

const clients = 24;

/** trigger → one http call that the hold server keeps waiting. */
export const heldDefinition = (url: string) => ({
  nodes: [{ id: 'start', type: 'trigger' }, { id: 'call', type: 'http', params: { url, timeoutMs: 600_000 } }],
  edges: [{ source: 'start', target: 'call' }],
});

/** Starts `runs` held runs through `api` from concurrent clients; resolves once each one's call arrived. */
export async function startHeldRuns(api: Api, hold: HoldServer, runs: number): Promise<string[]> {
  const workflowId = await api.createWorkflow('held', heldDefinition(hold.url));
  hold.round();
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < runs) ids.push(await api.startRun(workflowId, { i: next++ }));
    }),
  );
  await hold.until(runs, 120_000, 'first calls');
  return ids;
}

/** Waits (bounded) until `count()` reaches `runs`: the state the bench needs is stored. */
export async function untilStored(what: string, runs: number, count: () => Promise<number>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let seen = await count(); seen < runs; seen = await count()) {
    if (performance.now() > deadline) throw new Error(`${what}: ${seen} of ${runs} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

interface RunPage {
  edges: { node: { steps: { nodeId: string; status: string }[] } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Runs whose `call` step is stored RUNNING, read through the API (PGlite cannot be opened twice). */
export async function runningCallsByApi(api: Api): Promise<number> {
  let count = 0;
  let after: string | null = null;
  for (;;) {
    const { runs }: { runs: RunPage } = await api.query(
      `query($after: String) { runs(status: RUNNING, first: 100, after: $after) {
        edges { node { steps { nodeId status } } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    count += runs.edges.filter((e) => e.node.steps.some((s) => s.nodeId === 'call' && s.status === 'RUNNING')).length;
    if (!runs.pageInfo.hasNextPage) return count;
    after = runs.pageInfo.endCursor;
  }
}

/** Each run's RUN_RESUMED `at` (ms since the epoch); throws unless every run has exactly one. */
export async function resumedAt(database: Database, runIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await database.rows<{ runId: string; at: number }>(sql`
    select run_id as "runId", (extract(epoch from at) * 1000)::float8 as at from run_events
    where type = 'RUN_RESUMED' and run_id in (select jsonb_array_elements_text(${JSON.stringify(runIds)}::jsonb))`);
  const at = new Map<string, number>();
  for (const row of rows) {
    if (at.has(row.runId)) throw new Error(`run ${row.runId} has more than one RUN_RESUMED`);
    at.set(row.runId, Math.round(Number(row.at)));
  }
  const missing = runIds.filter((id) => !at.has(id));
  if (missing.length > 0) throw new Error(`${missing.length} of ${runIds.length} runs have no RUN_RESUMED (e.g. ${missing[0]})`);
  return at;
}

export async function countRows(database: Database, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await database.rows<{ n: number }>(query);
  return Number(row?.n ?? 0);
}

export const among = (runIds: readonly string[]) => sql`(select jsonb_array_elements_text(${JSON.stringify(runIds)}::jsonb))`;

/** The runs of `runIds` that did not succeed, with their steps and events (for a failure's message). */
export async function unfinished(database: Database, runIds: readonly string[]) {
  return database.rows(sql`
    select r.id, r.status, r.owner, r.epoch, r.error,
      (select json_agg(json_build_object('node', s.node_id, 'status', s.status, 'attempt', s.attempt, 'error', s.error)) from steps s where s.run_id = r.id) as steps,
      (select json_agg(json_build_object('seq', e.seq, 'type', e.type, 'at', e.at, 'node', e.node_id) order by e.seq) from run_events e where e.run_id = r.id) as events
    from runs r where r.status <> 'SUCCEEDED' and r.id in ${among(runIds)} limit 5`);
}
