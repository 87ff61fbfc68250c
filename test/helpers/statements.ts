// The statements a database sends, read at the drivers' query entry points (their text), for tests that
// assert how many round trips an operation costs.
import type { Database } from '../../src/db/client.js';

/** Starts recording the statements `database` sends; `stop()` puts the driver back. */
export function countStatements(database: Database): { texts: string[]; stop(): void } {
  const texts: string[] = [];
  const client = database.client as unknown as Record<string, (...args: unknown[]) => unknown>;
  const name = database.driver === 'pglite' ? 'query' : 'unsafe';
  const original = client[name]!;
  client[name] = function (this: unknown, ...args: unknown[]) {
    texts.push(String(args[0]));
    return original.apply(this, args);
  };
  return { texts, stop: () => void (client[name] = original) };
}

/** The statements `database` sends while `action` runs. */
export async function statementsDuring(database: Database, action: () => Promise<unknown>): Promise<string[]> {
  const counter = countStatements(database);
  try {
    await action();
  } finally {
    counter.stop();
  }
  return counter.texts;
}
