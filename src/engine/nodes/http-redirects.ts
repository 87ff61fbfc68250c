// What the http node sends after a redirect: the method and body rules of browsers, and on a hop to
// another origin no credentials (the user's own headers included) and, for 307/308, no body.
import { Headers } from 'undici';

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** One hop of a request, as sent. */
export interface HopRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
}

/** Headers that carry credentials on every request, whoever set them. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
/** Headers that describe a body, gone with it. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * The request to send after `request` was answered `status` with a redirect to `next`:
 * - 303 (but for HEAD), and 301/302 after a POST, become a GET without body;
 * - to another origin (scheme, host or port differ), `Authorization`, `Cookie`,
 *   `Proxy-Authorization` and every header named in `userHeaders` (the node's `headers` param) are
 *   dropped, and no body follows (a 307/308 keeps its method, sent without a body);
 * - otherwise (same origin, 307/308) method, headers and body go on unchanged.
 */
export function redirectRequest(request: HopRequest, status: number, next: URL, userHeaders: readonly string[]): HopRequest {
  const headers = new Headers(request.headers);
  let { method, body } = request;
  const crossOrigin = next.origin !== request.url.origin;
  if (status === 303 ? method !== 'HEAD' : status <= 302 && method === 'POST') {
    method = 'GET';
    body = undefined;
  }
  if (crossOrigin) {
    for (const name of [...CREDENTIAL_HEADERS, ...userHeaders]) headers.delete(name);
    body = undefined;
  }
  if (method !== request.method || (request.body !== undefined && body === undefined)) {
    for (const name of BODY_HEADERS) headers.delete(name);
  }
  return { url: next, method, headers, body };
}
