// ApiKey (never its secret), the Role enum, createApiKey (ADMIN; the secret is returned once), apiKeys
// and revokeApiKey (ADMIN): a revoked key is refused on every process at once and what it opened ends.
import { insertApiKey, listApiKeys, revokeApiKey, roles } from '../db/queries/api-keys.js';
import type { ApiKeyRow } from '../db/schema.js';
import { announceKeyRevoked } from '../runs/event-feed.js';
import { builder } from './builder.js';
import { organizationOf } from './context.js';
import { NotFoundError } from './errors.js';
import { checkName } from './names.js';
import { ValidationError } from './validation.js';

export const RoleEnum = builder.enumType('Role', {
  description: 'ADMIN: everything in its organization; EDITOR: workflows and runs; VIEWER: read and subscribe.',
  values: roles,
});

export const ApiKeyRef = builder.objectRef<ApiKeyRow>('ApiKey').implement({
  description: 'An API key of the organization; its secret is shown only when it is created.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the key was last used, to within a minute; null if never.',
    }),
    revokedAt: t.expose('revokedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When revokeApiKey revoked it (it is refused since); null while it is valid.',
    }),
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

builder.queryField('apiKeys', (t) =>
  t.field({
    type: [ApiKeyRef],
    description: "The organization's API keys, revoked ones included, oldest first (ADMIN).",
    authScopes: { admin: true },
    resolve: (_root, _args, context) => listApiKeys(context.services.database.db, organizationOf(context)),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    description:
      'Revokes a key of the organization (ADMIN): every process refuses it within a second, closes the ' +
      'graphql-ws sockets opened with it (code 4403) and ends its SSE streams. It stays listed with revokedAt.',
    authScopes: { admin: true },
    errors: { types: [NotFoundError], union: { name: 'RevokeApiKeyResult' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const { database, keys } = context.services;
      const id = String(args.id);
      // The notification leaves with the commit: no process hears of a revocation that did not happen.
      const key = await database.db.transaction(async (tx) => {
        const revoked = await revokeApiKey(tx, organizationOf(context), id);
        if (revoked && database.driver === 'postgres') await announceKeyRevoked(tx, revoked.id);
        return revoked;
      });
      if (!key) throw new NotFoundError('API key', id);
      keys.revoke(key.id);
      return key;
    },
  }),
);
