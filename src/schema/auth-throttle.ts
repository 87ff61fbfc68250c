// Failed authentication slowed down per source address: past `failures` secrets that match nothing
// within a window, that address's unknown secrets are refused RATE_LIMITED until the window ends —
// while a valid API key from the same address is always served.
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { anonymous, authenticate, type Caller } from './auth.js';
import type { Services } from './context.js';
import { rateLimitedError, type Refusal } from './rate-limits.js';

export interface AuthThrottleOptions {
  /** Failed authentications allowed per address and window (default 20). */
  failures?: number;
  /** The window, in seconds (default 60). */
  windowSeconds?: number;
}

export type Authenticated = { caller: Caller; refusal?: undefined } | { refusal: Refusal; caller?: undefined };

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;

export function createAuthThrottle(options: AuthThrottleOptions = {}) {
  const failures = options.failures ?? 20;
  const limiter = new RateLimiterMemory({ keyPrefix: 'auth', points: failures, duration: options.windowSeconds ?? 60 });
  const refusal = (res: RateLimiterRes): Refusal => ({
    message: `Too many failed authentications from this address: at most ${failures} per ${limiter.duration} s.`,
    retryAfterMs: Math.max(1, res.msBeforeNext),
  });

  return {
    /**
     * Authenticates as `authenticate` does, counting failures (an Authorization value that names neither
     * an API key nor the admin token) per `address`. Once an address is past the limit, a valid API key
     * from it is still served (keys are 256-bit random: nothing to guess), but the admin token is
     * refused like any other unknown secret, so that a short ADMIN_TOKEN cannot be guessed from there.
     */
    async authenticate(services: Services, authorization: unknown, address: string | undefined): Promise<Authenticated> {
      if (authorization === undefined || authorization === null || authorization === '') return { caller: anonymous };
      const where = address ?? 'unknown';
      const state = await limiter.get(where);
      const caller = await authenticate(services, authorization);
      if (caller.auth) return { caller };
      if (state && state.consumedPoints >= failures && state.msBeforeNext > 0) return { refusal: refusal(state) };
      if (caller.adminToken) return { caller };
      return limiter.consume(where).then(
        () => ({ caller }),
        (res: unknown) => {
          if (res instanceof RateLimiterRes) return { refusal: refusal(res) };
          throw res;
        },
      );
    },
  };
}

/**
 * The caller of an HTTP request (yoga's initial context; `req` is node's request, for the peer address).
 * Throws the RATE_LIMITED error (429, Retry-After) when its address is throttled.
 */
export async function callerOfRequest(
  services: Services,
  initial: { request?: Request; req?: IncomingMessage },
): Promise<Caller> {
  const authenticated = await services.authThrottle.authenticate(
    services,
    initial.request?.headers.get('authorization'),
    initial.req?.socket.remoteAddress,
  );
  if (authenticated.refusal) throw rateLimitedError(authenticated.refusal, 'http');
  return authenticated.caller;
}
