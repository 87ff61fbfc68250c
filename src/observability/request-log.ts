// Failed requests in the log: an HTTP answer of 400 or more, and a GraphQL answer holding errors.
// Nothing of what the client sent is logged (no headers, no query string, no variables, no document,
// no error messages, which can quote them): method, path, status, operation name, error codes and paths.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from './logger.js';

/** Logs the answer to `req` once sent, if it is a failure (status 400 or more). */
export function logIfFailed(logger: Logger, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  res.once('finish', () => {
    if (res.statusCode < 400) return;
    const line = {
      method: req.method,
      path: (req.url ?? '/').split('?')[0],
      status: res.statusCode,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      remoteAddress: req.socket.remoteAddress,
    };
    if (res.statusCode >= 500) logger.error(line, 'request failed');
    else logger.warn(line, 'request failed');
  });
}

/** The operation a request named, kept from its params until its result is processed. */
const operationNames = new WeakMap<Request, string>();

/**
 * A yoga plugin logging every HTTP GraphQL answer that holds errors (status 200 included): the
 * operation's name and each error's `extensions.code` and `path`. Streams (SSE) are not inspected.
 */
export function useErrorLog(logger: Logger): Plugin {
  return {
    onParams({ params, request }) {
      if (params.operationName) operationNames.set(request, params.operationName);
    },
    onResultProcess({ request, result }) {
      if (!Array.isArray(result) && Symbol.asyncIterator in (result as object)) return;
      const results = (Array.isArray(result) ? result : [result]) as ExecutionResult[];
      const errors = results.flatMap((each) => each.errors ?? []);
      if (errors.length === 0) return;
      const operationName = operationNames.get(request);
      logger.warn(
        {
          path: new URL(request.url).pathname,
          ...(operationName ? { operationName } : {}),
          errors: errors.map((error) => ({
            code: typeof error.extensions?.code === 'string' ? error.extensions.code : 'GRAPHQL_ERROR',
            ...(error.path ? { path: error.path.join('.') } : {}),
          })),
        },
        'GraphQL request failed',
      );
    },
  };
}

/** yoga's logger on pino (yoga logs an unexpected error it masks with `error`). */
export function yogaLogger(logger: Logger) {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]): void => {
      if (!logger.isLevelEnabled(level)) return;
      const [first] = args;
      if (first instanceof Error) logger[level]({ err: first }, `graphql-yoga: ${first.message}`);
      else logger[level](`graphql-yoga: ${String(first)}`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
