// Statements built once per database: drizzle's prepared queries, kept per drizzle instance. On PostgreSQL
// (postgres.js) a named query is also prepared by the server once per connection, so neither drizzle
// rebuilds its SQL nor the server parses and plans it on each call; PGlite has no named statements
// (its `query` parses every time), so there only drizzle's building is saved.
import type { Db } from './client.js';

/** `build(db)` once per drizzle instance (a transaction's `tx` gets its own). */
export function preparedPer<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let statements = built.get(db);
    if (statements === undefined) built.set(db, (statements = build(db)));
    return statements;
  };
}
