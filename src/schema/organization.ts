// Organization: the tenant every key, workflow and run belongs to; createOrganization (ADMIN_TOKEN only).
import { insertOrganization, findOrganization } from '../db/queries/organizations.js';
import type { ApiKeyRow, OrganizationRow } from '../db/schema.js';
import { ApiKeyRef } from './api-key.js';
import { builder } from './builder.js';
import { organizationOf } from './context.js';
import { checkName } from './names.js';
import { fieldIssue, ValidationError } from './validation.js';

export const OrganizationRef = builder.objectRef<OrganizationRow>('Organization').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreateOrganizationPayload = builder
  .objectRef<{ organization: OrganizationRow; key: ApiKeyRow; secret: string }>('CreateOrganizationPayload')
  .implement({
    description: 'The new organization and its first ADMIN key.',
    fields: (t) => ({
      organization: t.field({ type: OrganizationRef, resolve: (payload) => payload.organization }),
      apiKey: t.string({
        description: 'The secret of the ADMIN key, shown this once: send it as "Authorization: Bearer <apiKey>".',
        resolve: (payload) => payload.secret,
      }),
      key: t.field({ type: ApiKeyRef, resolve: (payload) => payload.key }),
    }),
  });

builder.queryField('organization', (t) =>
  t.field({
    type: OrganizationRef,
    description: "The caller's organization.",
    authScopes: { viewer: true },
    resolve: async (_root, _args, context) => {
      const id = organizationOf(context);
      const { keys, database } = context.services;
      const now = Date.now();
      const cached = keys.organization(id, now);
      if (cached) return cached;
      const organization = await findOrganization(database.db, id);
      if (!organization) throw new Error('the organization of an authenticated key is missing');
      keys.setOrganization(organization, now);
      return organization;
    },
  }),
);

builder.mutationField('createOrganization', (t) =>
  t.field({
    type: CreateOrganizationPayload,
    description: 'Creates an organization with an ADMIN key. Only with "Authorization: Bearer <ADMIN_TOKEN>".',
    authScopes: { adminToken: true },
    errors: { types: [ValidationError], union: { name: 'CreateOrganizationResult' } },
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      const name = checkName(args.name);
      const created = await insertOrganization(context.services.database.db, name);
      if (!created) {
        throw new ValidationError([fieldIssue('name', `an organization named "${name}" already exists`)], 'input');
      }
      return created;
    },
  }),
);
