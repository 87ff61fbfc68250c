// Many rows in one statement through one json parameter: json_to_recordset, typed from the drizzle columns.
// One parameter instead of one per value keeps clear of Postgres' 65,535-parameter limit, and the SQL
// text does not depend on the number of rows, so each statement is prepared once (postgres.js
// `prepare: true` would otherwise keep one prepared statement per distinct row count).
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/** Columns by property name, as `getTableColumns(table)` returns them. */
export type Columns = Record<string, PgColumn>;

/**
 * `json_to_recordset($1::json) as <alias>(<"prop"> <sql type>, …)`: a FROM item yielding `rows`
 * (a JSON array of objects keyed by property name, or a placeholder for it) as typed columns. Missing keys and JSON nulls
 * become SQL NULL; a jsonb column takes the nested JSON value as it is.
 */
export function recordsetSource(columns: Columns, json: string | Placeholder, alias: string): SQL {
  const definitions = Object.entries(columns).map(
    ([property, column]) => sql`${sql.identifier(property)} ${sql.raw(column.getSQLType())}`,
  );
  return sql`json_to_recordset(${json}::json) as ${sql.identifier(alias)}(${sql.join(definitions, sql`, `)})`;
}

/** `select <alias>."prop", … from <recordsetSource> [where …]`: the columns in order, ready for `insert().select()`. */
export function recordsetSelect(columns: Columns, json: string | Placeholder, alias = 'r', where?: SQL): SQL {
  const selected = Object.keys(columns).map((property) => sql`${sql.identifier(alias)}.${sql.identifier(property)}`);
  const from = sql`select ${sql.join(selected, sql`, `)} from ${recordsetSource(columns, json, alias)}`;
  return where ? sql`${from} where ${where}` : from;
}

/** `{ prop: <alias>."prop" }` for each column: the SET of an update whose values come from a recordset. */
export function setFrom(columns: Columns, alias: string): Record<string, SQL> {
  return Object.fromEntries(
    Object.keys(columns).map((property) => [property, sql`${sql.identifier(alias)}.${sql.identifier(property)}`]),
  );
}

/** `{ prop: excluded."column" }` for every column but the conflict target: ON CONFLICT DO UPDATE's SET. */
export function excludedSet(columns: Columns, target: readonly PgColumn[]): Record<string, SQL> {
  return Object.fromEntries(
    Object.entries(columns)
      .filter(([, column]) => !target.includes(column))
      .map(([property, column]) => [property, sql`excluded.${sql.identifier(column.name)}`]),
  );
}

/**
 * JSON arrays of `rows`, each at most about `maxChars` long (a single larger row gets an array of its
 * own): one statement per array keeps each parameter, and each step of a PGlite write, bounded.
 */
export function jsonChunks(rows: readonly object[], maxChars: number): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const row of rows) {
    const part = JSON.stringify(row);
    if (parts.length > 0 && size + part.length > maxChars) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      size = 0;
    }
    parts.push(part);
    size += part.length + 1;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}
