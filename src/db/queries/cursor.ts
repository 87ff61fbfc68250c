// Keyset pagination over (created_at, id), newest first: opaque cursors and the SQL condition for a page.
import { asc, desc, sql, type AnyColumn, type SQL } from 'drizzle-orm';

/** A position in a (created_at, id) ordering. */
export interface Position {
  createdAt: Date;
  id: string;
}

/** What a connection asks for: resolveCursorConnection's parameters. */
export interface PageRequest {
  after?: string | undefined;
  before?: string | undefined;
  limit: number;
  /** True for `last`/`before`: read from the other end (the caller reverses). */
  inverted: boolean;
}

/** The bad-cursor case: clients get a GraphQL error naming the argument (`after` or `before`). */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
  constructor(readonly argument: string) {
    super(`"${argument}" is not a cursor of this connection: pass an edge's cursor (or endCursor) as it came`);
  }
}

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`).toString('base64url');
}

// What encodeCursor writes: a timestamp of years 0001–9999 (PostgreSQL's timestamptz holds those;
// new Date() takes years down to -271821, which the database refuses) and an id.
const cursorText = /^((?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([^\u0000]{1,255})$/;

/** The position in `cursor`; throws InvalidCursorError naming `argument` when it is not one encodeCursor wrote. */
export function decodeCursor(cursor: string, argument = 'after'): Position {
  const match = cursor.length <= 400 ? cursorText.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  const createdAt = match ? new Date(match[1]!) : null;
  if (!match || !createdAt || Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== match[1]) {
    throw new InvalidCursorError(argument);
  }
  return { createdAt, id: match[2]! };
}

/**
 * The WHERE parts and ORDER BY for one page, newest first: `after` goes towards older rows,
 * `before` towards newer ones (read ascending when inverted).
 */
export function pageClauses(
  columns: { createdAt: AnyColumn; id: AnyColumn },
  page: PageRequest,
): { where: SQL[]; orderBy: SQL[] } {
  const where: SQL[] = [];
  const row = sql`(${columns.createdAt}, ${columns.id})`;
  const at = (p: Position) => sql`(${p.createdAt.toISOString()}::timestamptz, ${p.id})`;
  if (page.after) where.push(sql`${row} < ${at(decodeCursor(page.after, 'after'))}`);
  if (page.before) where.push(sql`${row} > ${at(decodeCursor(page.before, 'before'))}`);
  const orderBy = page.inverted
    ? [asc(columns.createdAt), asc(columns.id)]
    : [desc(columns.createdAt), desc(columns.id)];
  return { where, orderBy };
}

