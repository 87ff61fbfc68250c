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

/** The bad-cursor case: clients get a GraphQL error naming the argument. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const createdAt = new Date(text.slice(0, bar));
  if (bar < 0 || Number.isNaN(createdAt.getTime()) || text.includes('\u0000')) {
    throw new InvalidCursorError(`invalid cursor "${cursor}"`);
  }
  return { createdAt, id: text.slice(bar + 1) };
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
  if (page.after) where.push(sql`${row} < ${at(decodeCursor(page.after))}`);
  if (page.before) where.push(sql`${row} > ${at(decodeCursor(page.before))}`);
  const orderBy = page.inverted
    ? [asc(columns.createdAt), asc(columns.id)]
    : [desc(columns.createdAt), desc(columns.id)];
  return { where, orderBy };
}

