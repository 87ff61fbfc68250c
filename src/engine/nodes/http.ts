// The `http` node: one HTTP request with undici's fetch, honouring the signal and a per-request timeout
// on the clock; redirects are followed by hand so that every hop is checked and rewritten (http-redirects),
// and every hop waits for a slot at its own host (the process's per-host limits, `ctx.acquireHost`).
import { fetch, Headers, type Agent, type Response } from 'undici';
import { z } from 'zod';
import { describeError, NodeExecutionError, NonRetriableError } from '../errors.js';
import { createHttpAgent, PrivateAddressError, privatePolicy, refuseLiteral, systemLookup, type LookupAll } from './http-guard.js';
import { parseRetryAfter, readResponse, statusError } from './http-response.js';
import { REDIRECT_STATUSES, redirectRequest, type HopRequest } from './http-redirects.js';
import type { HostAnswer, HostPermit, NodeContext, NodeType } from './node-type.js';

export type { LookupAll } from './http-guard.js';

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

function buildRequest(params: HttpParams): HopRequest {
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

interface Dispatchers {
  /** Connects only to checked addresses. */
  guarded: Agent;
  /** For HTTP_ALLOW_PRIVATE: the same resolver, nothing refused. */
  open: Agent;
  isPrivate: (address: string) => boolean;
}

/** Sends one hop; a refusal at connect time becomes the node's error, naming the origin. */
async function sendHop(request: HopRequest, ctx: NodeContext, dispatchers: Dispatchers, signal: AbortSignal): Promise<Response> {
  const { url, method, headers, body } = request;
  try {
    if (!ctx.allowPrivateNetwork) refuseLiteral(url, dispatchers.isPrivate);
    const dispatcher = ctx.allowPrivateNetwork ? dispatchers.open : dispatchers.guarded;
    return await fetch(url, { method, headers, body, redirect: 'manual', signal, dispatcher });
  } catch (error) {
    const refusal = error instanceof PrivateAddressError ? error : (error as { cause?: unknown }).cause;
    if (refusal instanceof PrivateAddressError) {
      throw new NonRetriableError(`refused ${url.origin}: ${refusal.message}`, { cause: refusal });
    }
    throw error;
  }
}

/** A response with its host's slot, held until its body was read. */
interface Answered {
  response: Response;
  permit: HostPermit | undefined;
}

/** The slot for one hop at its host (every hop waits for its own host's); none without per-host limits. */
async function hostSlot(request: HopRequest, ctx: NodeContext, signal: AbortSignal): Promise<HostPermit | undefined> {
  const { url } = request;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NonRetriableError(`only http: and https: URLs are allowed, not ${url.protocol}`);
  }
  return ctx.acquireHost?.(url.host, signal);
}

/** What the host said about its load: the status and Retry-After (seconds or an HTTP date). */
function hostAnswer(response: Response, ctx: NodeContext): HostAnswer {
  return { status: response.status, retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), ctx.clock.now()) };
}

/** Sends the request, following up to MAX_REDIRECTS redirects, each one checked like the first. */
async function send(
  first: HopRequest,
  ctx: NodeContext,
  dispatchers: Dispatchers,
  userHeaders: readonly string[],
  signal: AbortSignal,
): Promise<Answered> {
  let request = first;
  for (let hop = 0; ; hop++) {
    const permit = await hostSlot(request, ctx, signal);
    let response: Response;
    try {
      response = await sendHop(request, ctx, dispatchers, signal);
    } catch (error) {
      permit?.release();
      throw error;
    }
    const location = response.headers.get('location');
    if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, permit };
    try {
      await response.body?.cancel();
    } finally {
      permit?.release(hostAnswer(response, ctx));
    }
    if (hop === MAX_REDIRECTS) {
      throw new NonRetriableError(`more than ${MAX_REDIRECTS} redirects (last to ${location})`);
    }
    let next: URL;
    try {
      next = new URL(location, request.url);
    } catch (error) {
      throw new NonRetriableError(`invalid redirect location ${JSON.stringify(location)}`, { cause: error });
    }
    request = redirectRequest(request, response.status, next, userHeaders);
    // Every request carries one, also when the user's own went with the other credentials.
    if (!request.headers.has('idempotency-key')) request.headers.set('idempotency-key', ctx.idempotencyKey);
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

export interface HttpNodeOptions {
  /** The resolver every connection uses (the system's by default); tests script rebinding with it. */
  lookup?: LookupAll;
  /** Addresses to count as public though they are not: tests only, standing a loopback server in for a public host. */
  treatAsPublic?: readonly string[];
}

/** The http node type, on its own connection pools. */
export function createHttpNodeType(options: HttpNodeOptions = {}): NodeType<HttpParams> {
  const lookup = options.lookup ?? systemLookup;
  const isPrivate = privatePolicy(options.treatAsPublic);
  const dispatchers: Dispatchers = { guarded: createHttpAgent(lookup, isPrivate), open: createHttpAgent(lookup), isPrivate };
  return {
    type: 'http',
    description: 'Sends an HTTP request; outputs { status, headers, body } (body parsed when JSON).',
    params: paramsSchema,
    secretParams: ['url', 'headers', 'query', 'body'],
    run: async (params, ctx) => {
      ctx.signal.throwIfAborted();
      const request = buildRequest(params);
      // Tracing on: the receiver joins this attempt's trace (unless the workflow set its own header).
      if (ctx.traceparent !== undefined && !request.headers.has('traceparent')) request.headers.set('traceparent', ctx.traceparent);
      // A receiver can drop the repeat of a request that a crash made the node send twice.
      if (!request.headers.has('idempotency-key')) request.headers.set('idempotency-key', ctx.idempotencyKey);
      const label = `${request.method} ${request.url.origin}${request.url.pathname}`;
      const timer = deadline(params.timeoutMs, ctx);
      const signal = timer.signal ? AbortSignal.any([ctx.signal, timer.signal]) : ctx.signal;
      try {
        const { response, permit } = await send(request, ctx, dispatchers, Object.keys(params.headers), signal);
        let output;
        try {
          output = await readResponse(response);
        } finally {
          permit?.release(hostAnswer(response, ctx));
        }
        if (params.failOnHttpError && output.status >= 400) throw statusError(label, output, ctx.clock.now(), ctx.redact);
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
