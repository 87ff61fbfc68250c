// Database faults under load (PostgreSQL only): while every backend is killed (pg_terminate_backend)
// again and again, the server process lives, and once the database is left alone every run ends —
// none stuck QUEUED or RUNNING — with gapless events.
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { startChildServer, useChildStorage } from '../helpers/child-server.js';
import { createOrganization, createWorkflow, eventProblems, readEvents, startRun, waitForFinal } from '../helpers/child-runs.js';
import { startSlowServer } from '../helpers/slow-server.js';

/** `read()`, tried again (up to 5 times) if it throws. */
async function retried<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt === 5) throw error;
    }
  }
}

describe.skipIf(!process.env.DATABASE_URL)('connection kills under load', () => {
  const shared = useChildStorage(startSlowServer);

  it('the process lives, and every run started during the kills ends, gapless', async () => {
    const server = await startChildServer({ env: { ...shared.storage.env, RUN_LEASE_MS: '2000' } });
    const key = await createOrganization(server, 'kills');
    const workflowId = await createWorkflow(server, key, 'fan', {
      nodes: [
        { id: 'start', type: 'trigger' },
        ...['a', 'b', 'c'].map((id) => ({ id, type: 'http', params: { url: `${shared.target.url}/slow?ms=300&tag={{ $run.id }}.${id}` } })),
        { id: 'pause', type: 'delay', params: { ms: 1500 } },
        { id: 'join', type: 'merge', params: { mode: 'ALL' } },
      ],
      edges: [
        ...['a', 'b', 'c', 'pause'].map((id) => ({ source: 'start', target: id })),
        ...['a', 'b', 'c', 'pause'].map((id) => ({ source: id, target: 'join' })),
      ],
    });

    // Runs in flight, then another connection kills the server's backends every 250 ms for 3 s while
    // their steps commit and clients keep starting runs.
    const runIds = await Promise.all(Array.from({ length: 20 }, () => startRun(server, key, workflowId)));
    const killer = postgres(shared.storage.database!.url!, { max: 1, onnotice: () => {} });
    const name = shared.storage.database!.name;
    let killing = true;
    let kills = 0;
    const killLoop = (async () => {
      while (killing) {
        const rows = await killer`select pg_terminate_backend(pid) as killed from pg_stat_activity
          where datname = ${name} and pid <> pg_backend_pid() and application_name like 'braid%'`;
        kills += rows.filter((row) => row.killed).length;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const stopAt = Date.now() + 3000;
    while (Date.now() < stopAt) {
      // A start may fail while its connection is killed: the client sees an error, nothing is half-written.
      const started = await Promise.allSettled([1, 2, 3, 4].map(() => startRun(server, key, workflowId)));
      for (const result of started) if (result.status === 'fulfilled') runIds.push(result.value);
    }
    killing = false;
    await killLoop;
    await killer.end();

    expect(kills).toBeGreaterThan(10);
    expect(runIds.length).toBeGreaterThanOrEqual(20);
    // The first query on a connection the driver just reopened may still fail once (postgres.js #1223).
    const runs = await retried(() => waitForFinal(server, key, runIds, 60_000));
    // Writes that met a killed connection were tried again: every run succeeded.
    expect(runs.filter((run) => run.status !== 'SUCCEEDED').map((run) => [run.status, run.error])).toEqual([]);
    const events = await retried(() => Promise.all(runIds.map((id) => readEvents(server, key, id))));
    expect(runIds.flatMap((id, i) => eventProblems(id, events[i]!))).toEqual([]);
    // The process lived through it all.
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
  }, 120_000);
});
