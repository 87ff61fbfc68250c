// `seed`: the seed's headline through the real server — startRun of trigger → 5 HTTP calls of 200 ms
// to a loopback server — against the seed's "before": the same 5 calls one after another with fetch.
import { startSlowServer } from '../test/helpers/slow-server.js';
import { createApi, watchRuns } from './client.js';
import { benchDrivers, skippedPostgres, withDatabase } from './databases.js';
import { benchEnv, startServer } from './server-launch.js';
import { fmt, median, smoke, table, verdict } from './stats.js';
import { httpFanDefinition, makespan, runStepsQuery, type StoredRun } from './workflows.js';

const calls = 5;
const callMs = 200;
const maxMakespan = 1.05 * callMs;
const minSpeedUp = 4.7;

async function measure(driver: 'pglite' | 'postgres', reps: number) {
  const slow = await startSlowServer();
  try {
    return await withDatabase(driver, async (spec) => {
      const server = await startServer(benchEnv(spec));
      const api = createApi(server);
      const watcher = watchRuns(api);
      try {
        const urls = Array.from({ length: calls }, (_, i) => `${slow.url}/slow?ms=${callMs}&tag=call${i}`);
        const workflowId = await api.createWorkflow('seed', httpFanDefinition(urls));
        await watcher.ready();
        const stored: number[] = [];
        const endToEnd: number[] = [];
        const sequential: number[] = [];
        for (let rep = -1; rep < reps; rep++) {
          let t0 = performance.now();
          const runId = await api.startRun(workflowId);
          const finished = await watcher.waitFor(runId);
          const e2e = finished.receivedAt - t0;
          const { run } = await api.query<{ run: StoredRun }>(runStepsQuery, { id: runId });
          if (run.status !== 'SUCCEEDED') throw new Error(`seed run ${runId} ended ${run.status}`);
          t0 = performance.now();
          for (const url of urls) await (await fetch(url)).json();
          const seq = performance.now() - t0;
          if (rep < 0) continue; // rep -1 warms up
          stored.push(makespan(run.steps));
          endToEnd.push(e2e);
          sequential.push(seq);
        }
        return { stored: median(stored), endToEnd: median(endToEnd), sequential: median(sequential) };
      } finally {
        await watcher.close();
        await server.stop();
      }
    });
  } finally {
    await slow.close();
  }
}

export async function benchSeed() {
  const reps = smoke ? 2 : 7;
  const rows: (string | number)[][] = [];
  for (const driver of benchDrivers()) {
    const m = await measure(driver, reps);
    for (const [what, braid] of [['makespan (stored steps)', m.stored], ['startRun → final update', m.endToEnd]] as const) {
      const speedUp = m.sequential / braid;
      rows.push([
        driver, what, fmt(braid, 0), fmt(m.sequential, 0), `${fmt(speedUp, 2)}×`,
        `≤ ${fmt(maxMakespan, 0)} ms, ≥ ${minSpeedUp}×`, verdict(braid <= maxMakespan && speedUp >= minSpeedUp),
      ]);
    }
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', skippedPostgres, '', '', '', '', '']);
  return {
    title: `seed — trigger → ${calls} HTTP calls of ${callMs} ms (loopback), Braid vs sequential fetch, median of ${reps}`,
    table: table(['database', 'Braid measure', 'Braid ms', 'sequential fetch ms', 'speed-up', 'target', 'verdict'], rows),
    notes: [
      `critical path ${callMs} ms; the server runs in this process with HTTP_ALLOW_PRIVATE on.`,
      'makespan: first step startedAt → last step finishedAt as stored; startRun → final update: the client\'s view ' +
        '(from sending startRun to receiving the final runUpdates message), held to the same targets.',
      `sequential fetch: the same ${calls} calls one after another with fetch from this process (the seed's "before").`,
    ],
  };
}
