// The logger of test and bench servers that do not read their lines: silent unless LOG_LEVEL asks
// for them (LOG_LEVEL=debug npx vitest run … shows what the servers of a test did).
import { loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** A pino logger at LOG_LEVEL, or `fallback` (silent) when it is unset. */
export function quietLogger(fallback: 'silent' | 'warn' = 'silent'): Logger {
  return createLogger({ level: loadConfig({ LOG_LEVEL: process.env.LOG_LEVEL || fallback }).logLevel });
}
