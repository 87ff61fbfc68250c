// The process's logger: pino writing JSON lines to stdout at LOG_LEVEL, and the plain `log` function
// the engine and the run service take, backed by it.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';
import type { Log } from '../engine/index.js';

export type { Logger } from 'pino';

/**
 * A pino logger at `level`: one JSON object per line (`level` as a word, `time` in ms since the
 * epoch, `msg`), on stdout unless `destination` says otherwise (tests pass a stream they read).
 */
export function createLogger(options: { level: LogLevel; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'braid' },
      formatters: { level: (label) => ({ level: label }) },
    },
    // pino's own default, synchronous: no line is lost when the process exits.
    options.destination ?? pino.destination(1),
  );
}

/**
 * The engine's and the run service's `log(message, data)` on `logger`: these lines report something
 * that went wrong or needs an operator's eye, at `warn`.
 */
export function logFunction(logger: Logger): Log {
  return (message, data) => {
    if (data === undefined) logger.warn(message);
    else logger.warn(data, message);
  };
}
