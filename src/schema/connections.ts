// Relay connections over keyset pages of (created_at, id), newest first; bad cursors are input errors.
import { PothosValidationError } from '@pothos/core';
import { resolveCursorConnection, type DefaultConnectionArguments } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { encodeCursor, InvalidCursorError, type PageRequest } from '../db/queries/cursor.js';

const defaultSize = 20;
const maxSize = 100;

/** A resolved connection of `T`. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string | null; endCursor?: string | null };
}

/** Resolves a connection (default 20, at most 100 per page) from `fetch`, which reads asked size + 1 rows. */
export async function keysetConnection<T extends { createdAt: Date; id: string }>(
  args: DefaultConnectionArguments,
  fetch: (page: PageRequest) => Promise<T[]>,
): Promise<Connection<T>> {
  try {
    const connection = await resolveCursorConnection<Promise<T[]>>(
      { args, defaultSize, maxSize, toCursor: (row) => encodeCursor(row) },
      (page) => fetch(page),
    );
    return connection as Connection<T>;
  } catch (error) {
    // A cursor we did not write, or first/last out of range (Pothos checks them): the client's input.
    if (error instanceof InvalidCursorError || error instanceof PothosValidationError) {
      throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    throw error;
  }
}
