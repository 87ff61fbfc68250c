// What an API key opened, ended when the key is revoked: its graphql-ws sockets close with 4403, its
// HTTP streams (SSE, multipart) are cut. Every operation also notes the key's use (lastUsedAt).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Caller } from './auth.js';
import type { KeyCache } from './key-cache.js';

/** The close code and reason of a socket whose key was revoked (graphql-ws clients do not retry 4403). */
export const revokedClose = { code: CloseCode.Forbidden, reason: 'API key revoked' } as const;

const streaming = /text\/event-stream|multipart\/mixed/i;

/**
 * An operation of `caller` (HTTP, or graphql-ws with no `res`): notes the key's use and, when an HTTP
 * request asks for a stream, ends the response on revocation. A response still being computed is left alone (the revoking request itself
 * may be one of the key's own): only a stream already answering is cut.
 */
export function noteOperation(
  keys: KeyCache,
  caller: Caller,
  initial: { request?: unknown; req?: IncomingMessage; res?: ServerResponse },
): void {
  if (!caller.auth) return;
  keys.used(caller.auth.keyId, Date.now());
  const { req, res } = initial;
  if (!req || !res || !streaming.test(req.headers.accept ?? '')) return;
  const release = keys.hold(caller.auth.keyId, () => {
    if (res.headersSent) res.destroy();
  });
  res.once('close', release);
}

/** A graphql-ws socket authenticated as `caller`: closed with 4403 when its key is revoked. */
export function holdSocket(keys: KeyCache, caller: Caller, socket: WebSocket): void {
  if (!caller.auth) return;
  keys.used(caller.auth.keyId, Date.now());
  const release = keys.hold(caller.auth.keyId, () => socket.close(revokedClose.code, revokedClose.reason));
  socket.once('close', release);
}
