// One measured run of `scale`: startRun → final runUpdates message, checked complete through the API,
// with its phases from the stored steps; and a sampler of the server's peak RSS while a body runs.
import type { Api, RunWatcher } from './client.js';
import type { BenchServer } from './server-launch.js';
import { sleep } from './stats.js';

export type ScaleRun =
  | { ok: true; time: number; lead: number; makespan: number; tail: number; longestStep: number }
  | { ok: false; error: string };

interface StoredStep {
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Samples the server's RSS every 20 ms while `body` runs; returns the peak seen. */
export async function peakRss<T>(server: BenchServer, body: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = await server.rss();
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await server.rss());
      await sleep(20);
    }
  })();
  try {
    return { result: await body(), peak };
  } finally {
    running = false;
    await sampler;
    peak = Math.max(peak, await server.rss());
  }
}

/** Runs the n-node fan-out `workflowId` once; a run that fails or does not finish in 10 minutes is kept as an error. */
export async function scaleRun(api: Api, watcher: RunWatcher, workflowId: string, n: number): Promise<ScaleRun> {
  try {
    const t0 = performance.now();
    const wallT0 = performance.timeOrigin + t0;
    const runId = await api.startRun(workflowId, { i: 0 });
    const finished = await watcher.waitFor(runId, 600_000);
    const { run } = await api.query<{ run: { status: string; error: string | null; steps: StoredStep[] } }>(
      'query($id: ID!) { run(id: $id) { status error steps { status startedAt finishedAt } } }',
      { id: runId },
    );
    const succeeded = run.steps.filter((s) => s.status === 'SUCCEEDED').length;
    if (run.status !== 'SUCCEEDED' || succeeded !== n + 1) {
      return { ok: false, error: `${n}-node run ${runId} ${run.status} with ${succeeded} steps SUCCEEDED: ${run.error}` };
    }
    // Loops, not Math.min(...spread): 100,001 arguments would overflow the stack.
    let first = Infinity;
    let last = -Infinity;
    let longestStep = 0;
    for (const step of run.steps) {
      const start = Date.parse(step.startedAt!);
      const end = Date.parse(step.finishedAt!);
      first = Math.min(first, start);
      last = Math.max(last, end);
      longestStep = Math.max(longestStep, end - start);
    }
    return {
      ok: true,
      time: finished.receivedAt - t0,
      lead: first - wallT0,
      makespan: last - first,
      tail: performance.timeOrigin + finished.receivedAt - last,
      longestStep,
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
