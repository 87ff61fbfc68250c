// The dashboard's files as the server serves them: / redirects to /ui/, every /ui/ page path answers
// the built page (dev mode: with its key, as GraphiQL has it) whose assets come from this server, and a
// server whose dashboard was not built says so instead of failing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUiRoutes } from '../../src/ui-server.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let dev: DevServer;

beforeAll(async () => {
  dev = await startDevServer();
});

afterAll(async () => {
  await dev?.close();
});

it('redirects / to /ui/', async () => {
  const response = await fetch(`${dev.baseUrl}/`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  expect(response.headers.get('location')).toBe('/ui/');
});

it('serves the page at /ui/ and at a run path, with the dev key and only local assets', async () => {
  for (const path of ['/ui/', '/ui/runs/run_abc']) {
    const response = await fetch(`${dev.baseUrl}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).toContain(`<meta name="braid-dev-key" content="${dev.devApiKey}">`);
    const assets = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith('data:'));
    expect(assets.length).toBeGreaterThanOrEqual(2); // the script and the stylesheet
    for (const asset of assets) {
      expect(asset).toMatch(/^\/ui\/assets\//);
      const file = await fetch(`${dev.baseUrl}${asset}`);
      expect(file.status, asset).toBe(200);
      expect(file.headers.get('content-type')).toMatch(/javascript|css/);
    }
  }
});

it('answers no file outside the build', async () => {
  const response = await fetch(`${dev.baseUrl}/ui/..%2F..%2Fpackage.json`);
  expect(await response.text()).not.toContain('"name": "braid"');
});

it('says the dashboard is not built, in one line, when it was not', async () => {
  const routes = createUiRoutes({ root: '/nonexistent/braid-ui', devApiKey: () => undefined });
  const server = createServer((req, res) => void routes.handle(req, res, (req.url ?? '/').split('?')[0]!));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ui/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/^The dashboard is not built: run `npm install`.*\n$/);
  } finally {
    server.close();
  }
});
