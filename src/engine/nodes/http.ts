// The `http` node: one HTTP request with fetch, honouring the signal and a per-request timeout on the
// clock; redirects are followed by hand so the private-network guard sees every hop.
import { lookup as dnsLookup } from 'node:dns/promises';
import { z } from 'zod';
import { describeError, NodeExecutionError, NonRetriableError } from '../errors.js';
import { readResponse, statusError } from './http-response.js';
import type { NodeContext, NodeType } from './node-type.js';
import { isPrivateAddress } from './private-address.js';

/** Resolves a host name to every address it has (`dns.promises.lookup` with `all: true`). */
export type LookupAll = (hostname: string) => Promise<{ address: string }[]>;

const paramsSchema = z.strictObject({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  url: z.string().min(1).max(8192),
  headers: z.record(z.string(), z.string()).default({}),
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  body: z.unknown().optional(),
  timeoutMs: z.int().min(1).max(86_400_000).optional(),
  failOnHttpError: z.boolean().default(true),
});
export type HttpParams = z.output<typeof paramsSchema>;

export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Request {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
}

function buildRequest(params: HttpParams): Request {
  let url: URL;
  try {
    url = new URL(params.url);
  } catch (error) {
    throw new NonRetriableError(`invalid URL ${JSON.stringify(params.url)}`, { cause: error });
  }
  if (url.username || url.password) {
    throw new NonRetriableError('credentials in the URL are not supported; send an Authorization header instead');
  }
  for (const [key, value] of Object.entries(params.query)) url.searchParams.append(key, String(value));
  let headers: Headers;
  try {
    headers = new Headers(params.headers);
  } catch (error) {
    throw new NonRetriableError(`invalid headers: ${describeError(error)}`, { cause: error });
  }
  let body: string | undefined;
  if (params.body !== undefined) {
    if (params.method === 'GET' || params.method === 'HEAD') {
      throw new NonRetriableError(`a ${params.method} request cannot have a body`);
    }
    if (typeof params.body === 'string') body = params.body;
    else {
      body = JSON.stringify(params.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
  }
  return { url, method: params.method, headers, body };
}

/** Rejects with the signal's reason as soon as it aborts (for work that cannot be aborted itself). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function guard(url: URL, ctx: NodeContext, lookup: LookupAll, signal: AbortSignal): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NonRetriableError(`only http: and https: URLs are allowed, not ${url.protocol}`);
  }
  if (ctx.allowPrivateNetwork) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string }[];
  try {
    addresses = await untilAborted(lookup(host), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new NodeExecutionError(`cannot resolve ${host}: ${describeError(error)}`, { cause: error });
  }
  const refused = addresses.length === 0 ? host : addresses.find((a) => isPrivateAddress(a.address))?.address;
  if (refused !== undefined) {
    throw new NonRetriableError(
      `refused ${url.origin}: ${host} resolves to the private address ${refused} ` +
        '(private networks are not allowed: HTTP_ALLOW_PRIVATE)',
    );
  }
}

/** Sends the request, following up to MAX_REDIRECTS redirects, each one checked like the first. */
async function send(request: Request, ctx: NodeContext, lookup: LookupAll, signal: AbortSignal): Promise<Response> {
  let { url, method, headers, body } = request;
  for (let hop = 0; ; hop++) {
    await guard(url, ctx, lookup, signal);
    const response = await fetch(url, { method, headers, body, redirect: 'manual', signal });
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel();
    if (hop === MAX_REDIRECTS) {
      throw new NonRetriableError(`more than ${MAX_REDIRECTS} redirects (last to ${location})`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (error) {
      throw new NonRetriableError(`invalid redirect location ${JSON.stringify(location)}`, { cause: error });
    }
    if (response.status === 303 ? method !== 'HEAD' : response.status <= 302 && method === 'POST') {
      method = 'GET';
      body = undefined;
      headers.delete('content-type');
    }
    if (next.origin !== url.origin) {
      headers = new Headers(headers); // credentials are for the origin they were written for
      headers.delete('authorization');
      headers.delete('cookie');
    }
    url = next;
  }
}

/** Aborts its signal after `ms` on the clock, unless disposed first. */
function deadline(ms: number | undefined, ctx: NodeContext): { signal: AbortSignal | null; dispose(): void } {
  if (ms === undefined) return { signal: null, dispose: () => undefined };
  const timeout = new AbortController();
  const stop = new AbortController();
  ctx.clock.sleep(ms, stop.signal).then(
    () => timeout.abort(new NodeExecutionError(`request timed out after ${ms} ms`)),
    () => undefined, // disposed: the request ended first
  );
  return { signal: timeout.signal, dispose: () => stop.abort() };
}

/** The http node type; `lookup` is injectable for tests of the private-network guard. */
export function createHttpNodeType(options: { lookup?: LookupAll } = {}): NodeType<HttpParams> {
  const lookup = options.lookup ?? ((hostname: string) => dnsLookup(hostname, { all: true }));
  return {
    type: 'http',
    description: 'Sends an HTTP request; outputs { status, headers, body } (body parsed when JSON).',
    params: paramsSchema,
    run: async (params, ctx) => {
      ctx.signal.throwIfAborted();
      const request = buildRequest(params);
      // A receiver can drop the repeat of a request that a crash made the node send twice.
      if (!request.headers.has('idempotency-key')) request.headers.set('idempotency-key', ctx.idempotencyKey);
      const label = `${request.method} ${request.url.origin}${request.url.pathname}`;
      const timer = deadline(params.timeoutMs, ctx);
      const signal = timer.signal ? AbortSignal.any([ctx.signal, timer.signal]) : ctx.signal;
      try {
        const output = await readResponse(await send(request, ctx, lookup, signal));
        if (params.failOnHttpError && output.status >= 400) throw statusError(label, output, ctx.clock.now());
        return { output };
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (timer.signal?.aborted) {
          throw new NodeExecutionError(`${label}: ${describeError(timer.signal.reason)}`, { cause: error });
        }
        if (error instanceof NodeExecutionError) throw error;
        const cause = (error as { cause?: unknown }).cause;
        const detail = cause === undefined ? describeError(error) : `${describeError(error)} (${describeError(cause)})`;
        throw new NodeExecutionError(`${label} failed: ${detail}`, { cause: error });
      } finally {
        timer.dispose();
      }
    },
  };
}

/** The http node type on the system resolver. */
export const httpNodeType = createHttpNodeType();
