// ApiKey (never its secret), the Role enum and createApiKey (ADMIN): the secret is returned once.
import { insertApiKey, roles } from '../db/queries/api-keys.js';
import type { ApiKeyRow } from '../db/schema.js';
import { builder } from './builder.js';
import { organizationOf } from './context.js';
import { checkName } from './names.js';
import { ValidationError } from './validation.js';

export const RoleEnum = builder.enumType('Role', {
  description: 'ADMIN: everything in its organization; EDITOR: workflows and runs; VIEWER: read and subscribe.',
  values: roles,
});

export const ApiKeyRef = builder.objectRef<ApiKeyRow>('ApiKey').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreateApiKeyPayload = builder.objectRef<{ key: ApiKeyRow; secret: string }>('CreateApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.string({
      description: 'The secret, shown this once (only its sha256 is stored).',
      resolve: (payload) => payload.secret,
    }),
    key: t.field({ type: ApiKeyRef, resolve: (payload) => payload.key }),
  }),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreateApiKeyPayload,
    description: "Creates a key in the caller's organization (ADMIN).",
    authScopes: { admin: true },
    errors: { types: [ValidationError], union: { name: 'CreateApiKeyResult' } },
    args: {
      name: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
    },
    resolve: (_root, args, context) =>
      insertApiKey(context.services.database.db, organizationOf(context), checkName(args.name), args.role),
  }),
);
