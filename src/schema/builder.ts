// The Pothos builder: errors (result unions), scope-auth (roles) and relay (connections), JSON and DateTime.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type { Context } from './context.js';
import { roleAtLeast } from '../db/queries/api-keys.js';

/** The scopes a field may ask for; roles are ordered ADMIN > EDITOR > VIEWER. */
interface AuthScopes {
  viewer: boolean;
  editor: boolean;
  admin: boolean;
  adminToken: boolean;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  // Every connection resolver hands over how to count its filter's rows (see connections.ts).
  Connection: { totalCount: () => Promise<number> };
  DefaultFieldNullability: false;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      viewer: roleAtLeast(context.auth?.role, 'VIEWER'),
      editor: roleAtLeast(context.auth?.role, 'EDITOR'),
      admin: roleAtLeast(context.auth?.role, 'ADMIN'),
      adminToken: context.adminToken,
    }),
    // GraphQLErrors pass yoga's masking; the code tells "who are you" from "not allowed".
    unauthorizedError: (_parent, context, info) =>
      context.auth || context.adminToken
        ? new GraphQLError(`not allowed to use ${info.parentType.name}.${info.fieldName} with this key's role`, {
            extensions: { code: 'FORBIDDEN' },
          })
        : new GraphQLError('authentication required: send "Authorization: Bearer <API key>"', {
            extensions: { code: 'UNAUTHENTICATED' },
          }),
  },
  errors: { directResult: true },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
