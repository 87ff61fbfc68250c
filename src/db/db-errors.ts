// Which database errors are worth retrying: the connection went away or the server asked to try again.

const connectionCodes = new Set([
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  // Node's sockets
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  // PostgreSQL: admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now,
  // serialization_failure, deadlock_detected
  '57P01',
  '57P02',
  '57P03',
  '40001',
  '40P01',
]);

/**
 * True when `error` (or a cause it wraps, as drizzle's DrizzleQueryError does) says the connection was
 * lost or the statement should simply be tried again; false for errors in the data or the SQL.
 */
export function isTransientDbError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (connectionCodes.has(code) || code.startsWith('08'))) return true;
  }
  return false;
}
