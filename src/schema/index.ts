// The GraphQL schema: every type file registers itself with the builder; this builds the result.
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './definition-input.js';
import './validation.js';
import './organization.js';
import './api-key.js';
import './secret.js';
import './workflow.js';
import './run.js';
import './run-waiting.js';
import './run-secrets.js';
import './step.js';
import './branch.js';
import './run-event.js';
import './run-graph.js';
import './node-type.js';

export const schema: GraphQLSchema = builder.toSchema({ sortSchema: false });

/** The SDL committed as schema.graphql: sorted, so that it changes only when the schema does. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

export type { Context, Services, Auth } from './context.js';
