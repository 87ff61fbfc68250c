// Relay connections over keyset pages of (created_at, id), newest first; bad cursors are input errors.
// Every connection has `totalCount`, counted only when a query selects it.
import { PothosValidationError } from '@pothos/core';
import { resolveCursorConnection, type DefaultConnectionArguments } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { encodeCursor, InvalidCursorError, type PageRequest } from '../db/queries/cursor.js';
import { builder } from './builder.js';

const defaultSize = 20;
const maxSize = 100;

/** A resolved connection of `T`. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string | null; endCursor?: string | null };
  /** How many rows the connection's filter matches, ignoring first/after/last/before; called only when selected. */
  totalCount: () => Promise<number>;
}

builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: "How many items match the connection's filter in all, whatever page this is.",
    resolve: (connection) => connection.totalCount(),
  }),
);

/**
 * Resolves a connection (default 20, at most 100 per page) from `fetch`, which reads asked size + 1
 * rows; `count` counts what the same filter matches, run only if the query selects `totalCount`.
 */
export async function keysetConnection<T extends { createdAt: Date; id: string }>(
  args: DefaultConnectionArguments,
  fetch: (page: PageRequest) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<Connection<T>> {
  try {
    const connection = await resolveCursorConnection<Promise<T[]>>(
      { args, defaultSize, maxSize, toCursor: (row) => encodeCursor(row) },
      (page) => fetch(page),
    );
    return { ...(connection as Omit<Connection<T>, 'totalCount'>), totalCount: count };
  } catch (error) {
    // A cursor we did not write, or first/last out of range (Pothos checks them): the client's input.
    if (error instanceof InvalidCursorError || error instanceof PothosValidationError) {
      throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    throw error;
  }
}
