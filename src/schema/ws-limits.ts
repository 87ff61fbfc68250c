// The limits per API key on graphql-ws (see rate-limits.ts): a socket is refused past the failed
// authentication throttle or MAX_SOCKETS_PER_KEY (closed with 4429); an operation past the rate or a
// subscription past MAX_SUBSCRIPTIONS_PER_KEY gets an `error` message and the socket stays open.
import type { IncomingMessage } from 'node:http';
import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import type { Caller } from './auth.js';
import type { Services } from './context.js';
import { isRefusal, rateLimitedError, tooManySocketsCloseCode } from './rate-limits.js';

interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

/** What one socket holds: its own slot and one per open subscription (by its subscribe payload). */
interface Held {
  socket: () => void;
  subscriptions: Map<object, () => void>;
}

export function createWsLimits(services: Services) {
  const held = new WeakMap<object, Held>();
  const heldBy = (extra: SocketExtra) => {
    let entry = held.get(extra);
    if (!entry) held.set(extra, (entry = { socket: () => {}, subscriptions: new Map() }));
    return entry;
  };

  return {
    /**
     * Authenticates a socket (onConnect) and takes its slot: the caller, or null once the socket is
     * being closed with 4429 (the address is throttled, or the key has MAX_SOCKETS_PER_KEY open).
     */
    async connect(extra: SocketExtra, authorization: unknown): Promise<Caller | null> {
      const authenticated = await services.authThrottle.authenticate(services, authorization, extra.request.socket.remoteAddress);
      const slot = authenticated.refusal ?? services.limits.socket(authenticated.caller);
      if (isRefusal(slot)) {
        // Close reasons are at most 123 bytes.
        extra.socket.close(tooManySocketsCloseCode, slot.message.slice(0, 120));
        return null;
      }
      heldBy(extra).socket = slot.release;
      return authenticated.caller!;
    },

    /**
     * Counts an operation (onSubscribe, once parsed and valid) and, for a subscription, takes its slot
     * until `complete` with the same `payload`: null, or the operation's RATE_LIMITED error.
     */
    async operation(
      extra: SocketExtra,
      caller: Caller,
      payload: { operationName?: string | null },
      document: DocumentNode,
    ): Promise<GraphQLError | null> {
      const refusal = await services.limits.operation(caller);
      if (refusal) return rateLimitedError(refusal, 'ws');
      if (getOperationAST(document, payload.operationName)?.operation !== 'subscription') return null;
      const slot = services.limits.subscription(caller);
      if (isRefusal(slot)) return rateLimitedError(slot, 'ws');
      heldBy(extra).subscriptions.set(payload, slot.release);
      return null;
    },

    /** The operation of `payload` ended (onComplete). */
    complete(extra: SocketExtra, payload: object): void {
      const entry = held.get(extra);
      entry?.subscriptions.get(payload)?.();
      entry?.subscriptions.delete(payload);
    },

    /** The socket closed (onClose): its slot and its subscriptions' are free. */
    close(extra: SocketExtra): void {
      const entry = held.get(extra);
      if (!entry) return;
      held.delete(extra);
      entry.socket();
      for (const release of entry.subscriptions.values()) release();
    },
  };
}
