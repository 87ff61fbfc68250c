// Statements whose SQL text is built once and then run with positional parameters, and a transaction
// that runs them on either driver: on PostgreSQL as named (server-prepared) statements of postgres.js,
// parsed and planned once per connection; on PGlite through its own `query` (which parses every time).
import { is, Placeholder, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from './client.js';

/** A statement's text with `$n` parameters and the placeholder name of each, in order. */
export interface Statement {
  text: string;
  names: string[];
}

/** Runs `statement` with the named values; returns its rows (column values as the driver gives them). */
export type RunStatement = <T = Record<string, unknown>>(statement: Statement, values: Record<string, unknown>) => Promise<T[]>;

const dialect = new PgDialect();

/** The text of `query` (SQL, or a query builder), its values given as `sql.placeholder(name)`s. */
export function statement(query: SQL | { toSQL(): { sql: string; params: unknown[] } }): Statement {
  const built = 'toSQL' in query ? query.toSQL() : dialect.sqlToQuery(query);
  const names = built.params.map((param) => {
    const name = is(param, Placeholder) ? param.name : undefined;
    if (name === undefined) throw new Error(`statement parameter is not a placeholder: ${String(param)}`);
    return name;
  });
  return { text: built.sql, names };
}

const valuesOf = (s: Statement, values: Record<string, unknown>) =>
  s.names.map((name) => {
    if (!(name in values)) throw new Error(`no value for statement parameter "${name}"`);
    return values[name];
  });

/** Runs one statement on its own (atomic by itself), prepared as `statementTransaction`'s are. */
export async function runStatement<T = Record<string, unknown>>(
  database: Database,
  s: Statement,
  values: Record<string, unknown>,
): Promise<T[]> {
  if (database.driver === 'postgres') {
    return (await database.client.unsafe(s.text, valuesOf(s, values) as never[], { prepare: true })) as unknown as T[];
  }
  return (await database.client.query<T>(s.text, valuesOf(s, values))).rows;
}

/**
 * Runs `body` in one transaction of `database`, its statements through `run`. Commits when `body`
 * resolves, rolls back when it throws (the driver's error passes through, with its `code`).
 */
export async function statementTransaction<T>(database: Database, body: (run: RunStatement) => Promise<T>): Promise<T> {
  if (database.driver === 'postgres') {
    const result = await database.client.begin((tx) =>
      body(<R>(s: Statement, values: Record<string, unknown>) =>
        tx.unsafe(s.text, valuesOf(s, values) as never[], { prepare: true }) as unknown as Promise<R[]>,
      ),
    );
    return result as T;
  }
  return database.client.transaction((tx) =>
    body(async <R>(s: Statement, values: Record<string, unknown>) => (await tx.query<R>(s.text, valuesOf(s, values))).rows),
  );
}
