// Turning an HTTP response into the http node's output or error: body reading with a size cap,
// JSON detection, Retry-After, and which statuses are worth a retry.
import type { Response } from 'undici';
import { NodeExecutionError, NonRetriableError } from '../errors.js';

/** The http node's output. */
export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Responses larger than this fail the node rather than fill memory and the database. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Milliseconds to wait according to a `Retry-After` value (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isJson(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

async function readText(response: Response): Promise<string> {
  if (Number(response.headers.get('content-length')) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(): NonRetriableError {
  return new NonRetriableError(`response body is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`);
}

/** Reads the whole response: body parsed when its content type is JSON (kept as text if it is not valid JSON). */
export async function readResponse(response: Response): Promise<HttpOutput> {
  const text = await readText(response);
  let body: unknown = text;
  if (isJson(response.headers.get('content-type'))) {
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = text; // a server that mislabels its body still gets its text through
    }
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body };
}

/**
 * The error for a status ≥ 400: retriable for 408, 429 and 5xx (with `retryAfterMs` from
 * `Retry-After` on 429 and 503), NonRetriableError for the other 4xx.
 */
export function statusError(request: string, output: HttpOutput, now: number, redact: (text: string) => string): NodeExecutionError {
  const { body } = output;
  // Redacted before it is cut: a cut through a secret's value would leave part of it behind.
  const detail = redact(body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body));
  const snippet = detail ? `: ${detail.length > 200 ? `${detail.slice(0, 200)}...` : detail}` : '';
  const message = `${request} responded ${output.status}${snippet}`;
  const { status } = output;
  if (status !== 408 && status !== 429 && status < 500) return new NonRetriableError(message);
  const retryAfter = status === 429 || status === 503 ? output.headers['retry-after'] : undefined;
  const retryAfterMs = parseRetryAfter(retryAfter ?? null, now);
  return new NodeExecutionError(message, retryAfterMs === undefined ? {} : { retryAfterMs });
}
