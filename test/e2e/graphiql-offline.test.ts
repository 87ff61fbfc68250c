// GraphiQL works with no internet: the page at /graphql brings its scripts and styles inline and
// loads nothing from another host; in dev mode the key is already in its headers.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let dev: DevServer;

beforeAll(async () => {
  dev = await startDevServer();
});

afterAll(async () => {
  await dev?.close();
});

/** Every URL the page would load by itself: src/href attributes, CSS url() and @import, module imports. */
function loadedUrls(html: string): string[] {
  const patterns = [
    /\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi,
    /url\(\s*["']?([^"')\s]+)/gi,
    /@import\s+["']([^"']+)/gi,
    /\bimport\s*\(\s*["']([^"']+)/gi,
    /\bfrom\s+["'](https?:[^"']+)/gi,
  ];
  return patterns.flatMap((pattern) => [...html.matchAll(pattern)].map((match) => match[1]!));
}

it('serves GraphiQL with every asset from the server itself, the dev key pre-filled', async () => {
  const response = await fetch(dev.url, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/html/);
  const html = await response.text();
  expect(html).toContain('GraphiQL');
  expect(html).toContain(`Bearer ${dev.devApiKey}`);
  const urls = loadedUrls(html);
  expect(urls.length).toBeGreaterThan(0); // the favicon at least: the patterns do find URLs
  const offServer = urls.filter((url) => /^(?:https?:)?\/\//i.test(url) && !url.startsWith(dev.baseUrl));
  expect(offServer).toEqual([]);
  // yoga's default page names its CDN; this one must not.
  expect(html).not.toMatch(/unpkg\.com|jsdelivr\.net|cdnjs/);
});
