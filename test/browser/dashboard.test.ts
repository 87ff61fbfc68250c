// The dashboard in a real browser (Chromium through playwright-core), with the page's DOM hooks:
// sign-in (dev mode by itself, the key form otherwise), the runs list live, a fan-out's node statuses
// changing live behind a loopback gate with overlapping timeline bars, a condition's edges LIVE and
// DEAD, and cancel then retry from the run page. One browser for the whole file.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runs, steps } from '../../src/db/schema.js';
import { browserTestsRequired, findChromium, launchChromium, screenshotDir } from '../helpers/browser.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { createWorkflow, runToEnd, startRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const chromiumPath = findChromium();
if (!chromiumPath && browserTestsRequired) throw new Error('BRAID_BROWSER_TESTS=required but no Chromium was found (apt-get install chromium, or set CHROMIUM_PATH)');
if (!chromiumPath) console.warn('browser tests NOT run: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');

// Attached, not necessarily visible: the edge list is folded away by default.
const wait = { timeout: 30_000, state: 'attached' } as const;

describe.skipIf(!chromiumPath)('the dashboard in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  let t: TestServer;
  let key: string;
  let organizationId: string;

  beforeAll(async () => {
    [browser, t] = await Promise.all([launchChromium(chromiumPath!), startTestServer()]);
    ({ adminKey: key, id: organizationId } = await t.createOrganization());
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  let shared: Page | undefined;

  /** The one tab signed in through the form (signed in at its first use), at the runs list. */
  async function signedIn(): Promise<Page> {
    if (shared) {
      await shared.goto(`${t.baseUrl}/ui/`);
    } else {
      shared = await browser.newPage();
      shared.on('pageerror', (error) => console.error('page error:', error));
      await shared.goto(`${t.baseUrl}/ui/`);
      await shared.fill('input[name="apiKey"]', key);
      await shared.press('input[name="apiKey"]', 'Enter');
    }
    await shared.waitForSelector('h1:has-text("Runs")', wait);
    return shared;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

  it('dev mode signs in by itself from /', async () => {
    let dev: DevServer | undefined;
    try {
      dev = await startDevServer();
      const page = await browser.newPage();
      await page.goto(`${dev.baseUrl}/`);
      expect(new URL(page.url()).pathname).toBe('/ui/');
      await page.waitForSelector('h1:has-text("Runs")', wait);
      expect(await page.locator('input[name="apiKey"]').count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.getItem('braid.apiKey'))).toBe(dev.devApiKey);
      await shot(page, 'dev-sign-in');
      await page.close();
    } finally {
      await dev?.close();
    }
  }, 120_000);

  it('the form refuses a bad key, takes a good one with Enter, keeps it in session storage and goes away', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/ui/`);
    await page.fill('input[name="apiKey"]', 'brd_not_a_key');
    await page.press('input[name="apiKey"]', 'Enter');
    await page.waitForSelector('[role="alert"]:has-text("not valid")', wait);
    await page.fill('input[name="apiKey"]', key);
    await page.press('input[name="apiKey"]', 'Enter');
    await page.waitForSelector('h1:has-text("Runs")', wait);
    expect(await page.locator('input[name="apiKey"]').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('braid.apiKey'))).toBe(key);
    // A reload keeps the session.
    await page.reload();
    await page.waitForSelector('h1:has-text("Runs")', wait);
    await page.close();
  });

  it('lists a new run live and follows its status without a reload, counting the runs', async () => {
    const counted = await t.request<{ runs: { totalCount: number } }, Record<string, never>>('{ runs(first: 1) { totalCount } }', {}, key);
    const before = counted.data!.runs.totalCount;
    const page = await signedIn();
    if (before > 0) await page.waitForSelector(`[data-total-runs="${before}"]`, wait);
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'held', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.held` } },
      ],
      edges: [{ source: 't', target: 'held' }],
    });
    const runId = await startRun(t, key, workflowId);
    await page.waitForSelector(`tr[data-run-id="${runId}"][data-status="RUNNING"]`, wait);
    t.slow.release(`${runId}.held`);
    await page.waitForSelector(`tr[data-run-id="${runId}"][data-status="SUCCEEDED"]`, wait);
    await page.waitForSelector(`[data-total-runs="${before + 1}"]`, wait);
    const second = await startRun(t, key, workflowId);
    t.slow.release(`${second}.held`);
    await page.waitForSelector(`tr[data-run-id="${second}"]`, wait);
    // Status changes of a listed run are not new runs.
    await page.waitForSelector(`tr[data-run-id="${second}"][data-status="SUCCEEDED"]`, wait);
    expect(await page.getAttribute('[data-total-runs]', 'data-total-runs')).toBe(String(before + 2));
    // Newest first.
    expect(await page.locator('tr[data-run-id]').first().getAttribute('data-run-id')).toBe(second);
    await shot(page, 'runs-list');
  });

  it("a fan-out's node statuses change live on the run page; its parallel steps overlap on the timeline", async () => {
    const fan = ['h1', 'h2', 'h3'];
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 't', type: 'trigger' },
        ...fan.map((id) => ({ id, type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.${id}` } })),
        { id: 'join', type: 'merge', params: { mode: 'ALL' } },
      ],
      edges: [...fan.map((id) => ({ source: 't', target: id })), ...fan.map((id) => ({ source: id, target: 'join' }))],
    });
    const page = await signedIn();
    const runId = await startRun(t, key, workflowId);
    await page.goto(`${t.baseUrl}/ui/runs/${runId}`);
    for (const id of fan) await page.waitForSelector(`[data-node-id="${id}"][data-status="RUNNING"]`, wait);
    expect(await page.getAttribute('[data-node-id="join"]', 'data-status')).toBe('PENDING');
    expect(await page.getAttribute('[data-edge="h1->join"]', 'data-state')).toBe('PENDING');
    await shot(page, 'fan-out-running');

    t.slow.release(`${runId}.h1`);
    await page.waitForSelector('[data-node-id="h1"][data-status="SUCCEEDED"]', wait);
    await page.waitForSelector('[data-edge="h1->join"][data-state="LIVE"]', wait);
    expect(await page.getAttribute('[data-node-id="h2"]', 'data-status')).toBe('RUNNING');

    t.slow.release(`${runId}.h2`);
    t.slow.release(`${runId}.h3`);
    await page.waitForSelector('[data-run-status="SUCCEEDED"]', wait);
    await page.waitForSelector('[data-node-id="join"][data-status="SUCCEEDED"]', wait);
    // The three calls were held together: their bars overlap on the one time axis.
    const bars = await Promise.all(
      fan.map(async (id) => {
        const bar = page.locator(`[data-timeline-node="${id}"]`);
        return { start: Number(await bar.getAttribute('data-start')), end: Number(await bar.getAttribute('data-end')) };
      }),
    );
    const latestStart = Math.max(...bars.map((b) => b.start));
    expect(bars.every((b) => b.end >= latestStart)).toBe(true);
    await page.waitForSelector('.critical-path', wait);
    expect(Number(await page.getAttribute('.critical-path', 'data-parallelism'))).toBeGreaterThan(1);
    await shot(page, 'fan-out-done');
  });

  it("a condition's chosen edge turns LIVE and the other DEAD", async () => {
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'c', type: 'condition', params: { expression: '$input.ok = true' } },
        { id: 'yes', type: 'transform', params: { expression: '"yes"' } },
        { id: 'no', type: 'transform', params: { expression: '"no"' } },
      ],
      edges: [
        { source: 't', target: 'c' },
        { source: 'c', target: 'yes', sourceHandle: 'true' },
        { source: 'c', target: 'no', sourceHandle: 'false' },
      ],
    });
    const page = await signedIn();
    const runId = await startRun(t, key, workflowId, { input: { ok: true } });
    await page.goto(`${t.baseUrl}/ui/runs/${runId}`);
    await page.waitForSelector('[data-edge="c->yes"][data-state="LIVE"]', wait);
    await page.waitForSelector('[data-edge="c->no"][data-state="DEAD"]', wait);
    await page.waitForSelector('[data-node-id="no"][data-status="SKIPPED"]', wait);
    // Selecting a node shows its step.
    await page.click('[data-node-id="no"]');
    await page.waitForSelector('[data-step="no"] [data-field="reason"]:has-text("chose")', wait);
    await shot(page, 'condition');
  });

  it('shows every node of a 1,000-node run with its status, drawing only what is in view', async () => {
    const fan = Array.from({ length: 999 }, (_, i) => `n${i}`);
    const workflowId = await createWorkflow(t, key, {
      nodes: [{ id: 't', type: 'trigger' }, ...fan.map((id) => ({ id, type: 'transform', params: { expression: '1' } }))],
      edges: fan.map((target) => ({ source: 't', target })),
    });
    // The run as stored once finished, written directly: the page is under test here, not the engine.
    const runId = 'run_browser_thousand';
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + ms);
    await t.database.db.insert(runs).values({
      id: runId, organizationId, workflowId, workflowVersion: 1, status: 'SUCCEEDED', createdAt: at(0), startedAt: at(0), finishedAt: at(500),
    });
    await t.database.db.insert(steps).values(
      ['t', ...fan].map((nodeId, i) => ({
        runId, nodeId, nodeType: i === 0 ? 'trigger' : 'transform', status: 'SUCCEEDED' as const, attempt: 1, branch: 'main',
        startedAt: at(i === 0 ? 0 : 10), finishedAt: at(i === 0 ? 10 : 10 + (i % 50)),
      })),
    );
    const page = await signedIn();
    await page.goto(`${t.baseUrl}/ui/runs/${runId}`);
    await page.waitForSelector('[data-run-status="SUCCEEDED"]', wait);
    await page.waitForFunction(() => document.querySelectorAll('[data-node-id][data-status="SUCCEEDED"]').length === 1000, null, wait);
    expect(await page.locator('[data-edge][data-state="LIVE"]').count()).toBe(999);
    // The graph draws only what is in view: far fewer node elements than nodes.
    await page.waitForSelector('.react-flow__node', wait);
    expect(await page.locator('.react-flow__node').count()).toBeLessThan(500);
    await shot(page, 'thousand-nodes');
  });

  it("reads a finished run's state once: the replay of its events does not read it again", async () => {
    const client = t.wsClient(key);
    const { runId, run } = await runToEnd(t, key, client, {
      nodes: [{ id: 't', type: 'trigger' }, ...['a', 'b', 'c'].map((id) => ({ id, type: 'transform', params: { expression: '1' } }))],
      edges: ['a', 'b', 'c'].map((target) => ({ source: 't', target })),
    });
    await client.dispose();
    expect(run.status).toBe('SUCCEEDED');
    const page = await signedIn();
    // The page's timers run only when the test says: the state is read again 100 ms after events arrive.
    await page.clock.install();
    const stateReads: string[] = [];
    page.on('request', (request) => {
      const body = request.postData() ?? '';
      if (body.includes('DashboardRunState')) stateReads.push(body);
    });
    const replayed = new Promise<void>((resolve) => {
      page.on('websocket', (socket) =>
        socket.on('framereceived', ({ payload }) => {
          if (String(payload).includes('"type":"complete"')) resolve();
        }),
      );
    });
    await page.goto(`${t.baseUrl}/ui/runs/${runId}`);
    await page.waitForSelector('[data-run-status="SUCCEEDED"]', wait);
    await replayed;
    await page.clock.runFor(1_000);
    // A request made after the timers ran: any read they started was requested before it.
    const probe = page.waitForRequest((request) => request.url().endsWith('/health'));
    await page.evaluate(() => fetch('/health'));
    await probe;
    expect(stateReads).toHaveLength(1);
    await page.close();
    shared = undefined;
  });

  it('cancels a running run from its page, then retries it', async () => {
    const workflowId = await createWorkflow(t, key, {
      nodes: [
        { id: 't', type: 'trigger' },
        { id: 'held', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}.held` } },
      ],
      edges: [{ source: 't', target: 'held' }],
    });
    const page = await signedIn();
    const runId = await startRun(t, key, workflowId);
    await page.goto(`${t.baseUrl}/ui/runs/${runId}`);
    await page.waitForSelector('[data-node-id="held"][data-status="RUNNING"]', wait);
    expect(await page.locator('button[name="retry"]').count()).toBe(0);
    await page.click('button[name="cancel"]');
    await page.waitForSelector('[data-run-status="CANCELLED"]', wait);
    await page.waitForSelector('[data-node-id="held"][data-status="CANCELLED"]', wait);
    expect(await page.locator('button[name="cancel"]').count()).toBe(0);
    await shot(page, 'cancelled');

    t.slow.release(`${runId}.held`);
    await page.click('button[name="retry"]');
    await page.waitForSelector('[data-run-status="SUCCEEDED"]', wait);
    await page.waitForSelector('[data-node-id="held"][data-status="SUCCEEDED"]', wait);
    await shot(page, 'retried');
  });
});
