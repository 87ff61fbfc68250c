// The Error interface and the expected failures a mutation returns in its result union.
import { builder } from './builder.js';

/** What was asked for does not exist in the caller's organization (another org's ids included). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} "${id}" not found`);
  }
}

/** The caller may not do this (beyond what role scopes already refuse). */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure returned in a result union; `message` is for people.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The id names nothing the caller can see.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeID('id', { description: 'The id as given (an ID, like the id fields of the objects it stands for).' }) }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: "The caller's key does not allow this.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});
