// Limits per API key: requests and operations per second (every HTTP GraphQL request, SSE subscription
// and graphql-ws operation), open subscriptions (graphql-ws and SSE together) and open graphql-ws
// sockets. Past one, a RATE_LIMITED error; the yoga plugin here applies them to HTTP and SSE, graphql-ws.ts
// to WebSockets. The admin token and callers without a key have no budget (see auth-throttle.ts).
import type { Plugin } from '@envelop/core';
import { GraphQLError } from 'graphql';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Caller } from './auth.js';
import type { Context } from './context.js';
import { createKeyBudget } from './key-budget.js';

/** Why an operation, subscription or socket was refused, and when to try again. */
export interface Refusal {
  message: string;
  retryAfterMs: number;
}

/** The close code of a graphql-ws socket refused past MAX_SOCKETS_PER_KEY (graphql-ws' 4400s mirror HTTP). */
export const tooManySocketsCloseCode = 4429;

export interface KeyLimits {
  /** Counts one request or operation of `caller`: null when within RATE_LIMIT_PER_SECOND. */
  operation(caller: Caller): Promise<Refusal | null>;
  /** Opens a subscription of `caller`: its release (call once, when it ends), or the refusal. */
  subscription(caller: Caller): { release: () => void } | Refusal;
  /** Opens a graphql-ws socket of `caller`: its release (call once, when it closes), or the refusal. */
  socket(caller: Caller): { release: () => void } | Refusal;
}

export interface KeyLimitsOptions {
  config: Pick<Config, 'rateLimitPerSecond' | 'maxSubscriptionsPerKey' | 'maxSocketsPerKey'>;
  database: Database;
  /** The rate limit's window (default 1000 ms); tests widen it so that counts do not depend on timing. */
  windowMs?: number;
}

export function createKeyLimits(options: KeyLimitsOptions): KeyLimits {
  const { config, database } = options;
  const budget = createKeyBudget({ limit: config.rateLimitPerSecond, windowMs: options.windowMs ?? 1000, database });
  const subscriptions = createOpenCount(config.maxSubscriptionsPerKey, 'open subscriptions');
  const sockets = createOpenCount(config.maxSocketsPerKey, 'open WebSockets');
  return {
    async operation(caller) {
      if (!caller.auth) return null;
      const retryAfterMs = await budget.take(caller.auth.keyId);
      if (retryAfterMs === null) return null;
      return { message: `Rate limit exceeded: at most ${config.rateLimitPerSecond} requests and operations per second for this API key.`, retryAfterMs };
    },
    subscription: (caller) => subscriptions.open(caller),
    socket: (caller) => sockets.open(caller),
  };
}

/** Counts what a key holds open in this process (counts are per process, not shared). */
function createOpenCount(max: number, what: string) {
  const open = new Map<string, number>();
  const none = { release: () => {} };
  return {
    open(caller: Caller): { release: () => void } | Refusal {
      const key = caller.auth?.keyId;
      if (key === undefined || max === 0) return none;
      const count = open.get(key) ?? 0;
      if (count >= max) return { message: `Too many ${what}: at most ${max} per API key.`, retryAfterMs: 1000 };
      open.set(key, count + 1);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const left = (open.get(key) ?? 1) - 1;
          if (left > 0) open.set(key, left);
          else open.delete(key);
        },
      };
    },
  };
}

export const isRefusal = (value: object): value is Refusal => 'retryAfterMs' in value;

/** Seconds for a Retry-After header: whole, at least 1. */
export const retryAfterSeconds = (refusal: Refusal) => Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));

/**
 * The error a refused client gets, `extensions.code` RATE_LIMITED and `retryAfter` in seconds; over
 * HTTP also status 429 and a Retry-After header (yoga reads and strips `extensions.http`).
 */
export function rateLimitedError(refusal: Refusal, transport: 'http' | 'ws'): GraphQLError {
  const retryAfter = retryAfterSeconds(refusal);
  return new GraphQLError(refusal.message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfter,
      ...(transport === 'http' ? { http: { status: 429, headers: { 'Retry-After': String(retryAfter) } } } : {}),
    },
  });
}

/**
 * Applies the limits to HTTP requests and SSE subscriptions. graphql-ws operations, which also run
 * through yoga's envelop, are limited in graphql-ws.ts instead, where a refusal can be the operation's
 * `error` message; they carry `wsCaller` in their context.
 */
export function useKeyLimits(limits: KeyLimits): Plugin<Context> {
  const callerOf = (context: Context): Caller | null =>
    'wsCaller' in context ? null : { auth: context.auth, adminToken: context.adminToken };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const caller = callerOf(args.contextValue);
      const refusal = caller && (await limits.operation(caller));
      if (refusal) setResultAndStopExecution({ errors: [rateLimitedError(refusal, 'http')] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const caller = callerOf(args.contextValue);
      if (!caller) return;
      const refusal = await limits.operation(caller);
      const slot = refusal ?? limits.subscription(caller);
      if (isRefusal(slot)) return setResultAndStopExecution({ errors: [rateLimitedError(slot, 'http')] });
      return {
        onSubscribeResult({ result, setResult }) {
          if (Symbol.asyncIterator in result) setResult(releasedAtEnd(result, slot.release));
          else slot.release();
        },
      };
    },
  };
}

/** The same stream, calling `release` once it ends: done, returned (the client left) or thrown. */
function releasedAtEnd<T>(stream: AsyncIterable<T>, release: () => void): AsyncIterableIterator<T> {
  const iterator = stream[Symbol.asyncIterator]();
  const ending = <R>(promise: Promise<R>, always: boolean) =>
    promise.then(
      (result) => {
        if (always || (result as IteratorResult<T>).done) release();
        return result;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  const released: AsyncIterableIterator<T> = {
    next: () => ending(iterator.next(), false),
    return: (value?: unknown) =>
      ending(iterator.return ? iterator.return(value) : Promise.resolve({ value: undefined, done: true as const }), true),
    throw: (error?: unknown) => ending(iterator.throw ? iterator.throw(error) : Promise.reject(error), true),
    [Symbol.asyncIterator]: () => released,
  };
  return released;
}
