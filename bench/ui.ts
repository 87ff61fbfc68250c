// `ui`: how long the real dashboard takes to show a finished run in Chromium — from navigation to
// /ui/runs/<id> until every node's `[data-node-id]` element is there with its final `data-status` —
// for a 1,000-node run beside a 10-node one. Each load is a fresh browser context (no cache, dev-mode
// sign-in included), as a first visit is.
import type { Browser } from 'playwright-core';
import { findChromium, launchChromium } from '../test/helpers/browser.js';
import { createApi, finalStatuses, type Api } from './client.js';
import { benchEnv, startServer } from './server-launch.js';
import { fmt, median, smoke, table } from './stats.js';
import { fanDefinition } from './workflows.js';

interface Load {
  /** Navigation → the first `[data-node-id]` element. */
  firstNodeMs: number;
  /** Navigation → every node present with its final status. */
  allFinalMs: number;
}

/** Starts a run of `definition` and waits until it is final (the page then shows a settled run). */
async function finishedRun(api: Api, name: string, nodes: number): Promise<string> {
  const workflowId = await api.createWorkflow(name, fanDefinition(nodes - 1));
  const runId = await api.startRun(workflowId, { i: 0 });
  for (let i = 0; i < 600; i++) {
    const { run } = await api.query<{ run: { status: string } }>('query ($id: ID!) { run(id: $id) { status } }', { id: runId });
    if (finalStatuses.has(run.status)) {
      if (run.status !== 'SUCCEEDED') throw new Error(`ui bench run ${runId} ended ${run.status}`);
      return runId;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ui bench run ${runId} not final after 60 s`);
}

/** One cold load of the run page; `nodes` distinct node ids must all show SUCCEEDED. */
async function load(browser: Browser, url: string, nodes: number): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const t0 = performance.now();
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForSelector('[data-node-id]', { state: 'attached', timeout: 120_000 });
    const firstNodeMs = performance.now() - t0;
    await page.waitForFunction(
      (count) => {
        const elements = document.querySelectorAll('[data-node-id]');
        const ids = new Set<string>();
        for (const element of elements) {
          if (element.getAttribute('data-status') !== 'SUCCEEDED') return false;
          ids.add(element.getAttribute('data-node-id')!);
        }
        return ids.size === count;
      },
      nodes,
      { polling: 'raf', timeout: 120_000 },
    );
    const allFinalMs = performance.now() - t0;
    if (errors.length) throw new Error(`page errors on ${url}: ${errors.join('; ')}`);
    return { firstNodeMs, allFinalMs };
  } finally {
    await context.close();
  }
}

export async function benchUi() {
  const chromium = findChromium();
  if (!chromium) throw new Error('no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
  const loads = smoke ? 2 : 5;
  const sizes = [10, 1000];
  const [browser, server] = await Promise.all([launchChromium(chromium), startServer(benchEnv({ driver: 'pglite' }))]);
  const rows: (string | number)[][] = [];
  const measured = new Map<number, number>();
  try {
    const api = createApi(server);
    const base = server.url.replace(/\/graphql$/, '');
    for (const nodes of sizes) {
      const runId = await finishedRun(api, `ui ${nodes}`, nodes);
      const url = `${base}/ui/runs/${runId}`;
      await load(browser, url, nodes); // warm-up: the server's first page, the JIT
      const samples: Load[] = [];
      for (let i = 0; i < loads; i++) samples.push(await load(browser, url, nodes));
      const all = samples.map((s) => s.allFinalMs);
      measured.set(nodes, median(all));
      rows.push([
        `${nodes.toLocaleString('en-US')} nodes (trigger → ${nodes - 1} transforms side by side), SUCCEEDED`,
        fmt(median(samples.map((s) => s.firstNodeMs)), 0),
        fmt(median(all), 0),
        `${fmt(Math.min(...all), 0)}–${fmt(Math.max(...all), 0)}`,
      ]);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const ratio = measured.get(1000)! / measured.get(10)!;
  return {
    title: 'ui: a finished run page in the dashboard (Chromium)',
    table: table(['run', 'first node (ms, median)', 'every node final (ms, median)', 'range (ms)'], rows),
    notes: [
      `${loads} cold loads each (a new browser context: no cache, the dev-mode sign-in included) after one warm-up; from page.goto to every [data-node-id] element present with data-status SUCCEEDED (checked each animation frame).`,
      `1,000 nodes take ${fmt(ratio, 1)}× the 10-node page. The server runs in the bench process (PGlite in memory); Chromium is Debian's, headless, --disable-gpu.`,
    ],
  };
}
