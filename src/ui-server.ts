// The dashboard's files: `/` redirects to `/ui/`; `/ui/…` serves the built files of ui/ (ui/dist, built
// by `npm install`), any other `/ui/…` path the page itself (it routes in the browser). In dev mode the
// page carries the dev key, as GraphiQL does (dev mode answers loopback Hosts and its own origin only).
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Everything from this server; inline styles only because the graph positions its nodes with them. */
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

export const defaultUiRoot = fileURLToPath(new URL('../ui/dist/', import.meta.url));

export interface UiRoutes {
  /** Answers `/` and `/ui/…` (GET and HEAD); false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `devApiKey` is read at each request: it is known only once the server started. */
export function createUiRoutes(options: { root?: string; devApiKey: () => string | undefined }): UiRoutes {
  const root = resolve(options.root ?? defaultUiRoot);

  async function page(res: ServerResponse, head: boolean): Promise<void> {
    let html: string;
    try {
      html = await readFile(resolve(root, 'index.html'), 'utf8');
    } catch {
      const text = 'The dashboard is not built: run `npm install` (or `npm run ui:build`) and reload.\n';
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(head ? undefined : text);
      return;
    }
    const key = options.devApiKey();
    if (key) html = html.replace('</head>', `<meta name="braid-dev-key" content="${escapeHtml(key)}"></head>`);
    res.writeHead(200, {
      'content-type': types['.html'],
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
    });
    res.end(head ? undefined : html);
  }

  async function file(res: ServerResponse, relative: string, head: boolean): Promise<boolean> {
    const path = resolve(root, relative);
    if (!path.startsWith(root + sep) || !types[extname(path)]) return false;
    try {
      if (!(await stat(path)).isFile()) return false;
    } catch {
      return false;
    }
    const body = await readFile(path);
    res.writeHead(200, {
      'content-type': types[extname(path)]!,
      'content-length': body.length,
      // Vite names built assets by their content hash.
      'cache-control': relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(head ? undefined : body);
    return true;
  }

  return {
    async handle(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const head = req.method === 'HEAD';
      if (path === '/' || path === '/ui') {
        res.writeHead(302, { location: '/ui/', 'content-length': 0 }).end();
        return true;
      }
      if (!path.startsWith('/ui/')) return false;
      let relative: string;
      try {
        relative = decodeURIComponent(path.slice('/ui/'.length));
      } catch {
        relative = '';
      }
      if (relative !== '' && relative !== 'index.html' && !relative.includes('\0') && (await file(res, relative, head))) return true;
      await page(res, head);
      return true;
    },
  };
}
