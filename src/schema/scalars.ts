// The JSON scalar (any JSON value) and DateTime (ISO 8601 strings at UTC with milliseconds).
import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTimeISO, JSONResolver } from 'graphql-scalars';
import { mapStrings } from '../engine/index.js';
import { builder } from './builder.js';

/**
 * graphql-scalars builds the objects of a JSON literal written inline in a query with a null
 * prototype, which drizzle (and most code) cannot take; the values are the same as plain objects.
 * The copy is iterative (mapStrings), whatever the literal's depth.
 */
function plainJson(value: unknown): unknown {
  return mapStrings(value, (text) => text);
}

builder.addScalarType(
  'JSON',
  new GraphQLScalarType({
    ...JSONResolver.toConfig(),
    parseLiteral: (ast, variables) => plainJson(JSONResolver.parseLiteral(ast, variables)),
  }),
);

// graphql-scalars' DateTime serialises to a Date object; DateTimeISO's behaviour under our name gives strings.
builder.addScalarType(
  'DateTime',
  new GraphQLScalarType<Date, string>({
    ...(GraphQLDateTimeISO.toConfig() as ConstructorParameters<typeof GraphQLScalarType<Date, string>>[0]),
    name: 'DateTime',
    description: 'A date and time at UTC as an ISO 8601 string with milliseconds, such as 2007-12-03T10:15:30.123Z.',
    specifiedByURL: 'https://scalars.graphql.org/andimarek/date-time',
  }),
);
