// Where requests may come from: dev mode answers only requests addressed to a loopback name (so a page
// whose DNS name is rebound to 127.0.0.1 gets nothing), and browsers are let through CORS and onto
// WebSockets only from the server's own origin and the origins listed in CORS_ORIGINS.

const hostHeader = /^(?:\[([0-9a-f:.]+)\]|([^:[\]@/\\?#\s]+))(?::\d{1,5})?$/i;

/** Whether a Host header names a loopback host: `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`, any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  const match = host === undefined ? null : hostHeader.exec(host);
  if (!match) return false;
  let hostname: string;
  try {
    // The URL parser normalizes what a browser would send (`127.1`, `[0:0::1]`, a trailing dot, case).
    hostname = new URL(`http://${match[1] !== undefined ? `[${match[1]}]` : match[2]}`).hostname;
  } catch {
    return false;
  }
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  if (hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Whether a browser page on `origin` may call this server, addressed by the request's `host`: its own
 * origin (same host and port, http or https behind a proxy) or one of `allowed` (CORS_ORIGINS).
 */
export function isOriginAllowed(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // `null` (sandboxed frames, files) and anything else that is not an origin
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  return host !== undefined && parsed.host === host.toLowerCase();
}

/** Why a request is refused (403), or null when it may go on; for HTTP requests and WebSocket upgrades alike. */
export function refusal(
  headers: { host?: string | undefined; origin?: string | undefined },
  policy: { devMode: boolean; corsOrigins: readonly string[] },
): string | null {
  if (policy.devMode && !isLoopbackHost(headers.host)) {
    return (
      `dev mode answers only requests addressed to localhost or a loopback address (Host: ${headers.host ?? 'none'}); ` +
      'set ADMIN_TOKEN to serve other hosts'
    );
  }
  if (headers.origin !== undefined && !isOriginAllowed(headers.origin, headers.host, policy.corsOrigins)) {
    return `origin ${headers.origin} is not allowed: only the server's own origin and those in CORS_ORIGINS`;
  }
  return null;
}
