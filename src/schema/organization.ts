// Organization: the tenant every key, workflow and run belongs to; createOrganization (ADMIN_TOKEN only);
// its fair-share limits and updateOrganizationLimits (ADMIN).
import {
  findOrganization,
  insertOrganization,
  updateOrganizationLimits,
  type OrganizationLimits,
} from '../db/queries/organizations.js';
import type { ApiKeyRow, OrganizationRow } from '../db/schema.js';
import { ApiKeyRef } from './api-key.js';
import { builder } from './builder.js';
import { organizationOf } from './context.js';
import { checkName } from './names.js';
import { fieldIssue, ValidationError } from './validation.js';

const OrganizationLimitsRef = builder.objectRef<OrganizationLimits>('OrganizationLimits').implement({
  description: "The organization's fair-share limits, counted across every process; null: unlimited.",
  fields: (t) => ({
    maxConcurrentRuns: t.exposeInt('maxConcurrentRuns', {
      nullable: true,
      description: 'Most runs RUNNING at once; the others wait QUEUED, with Run.waitingFor saying why.',
    }),
    maxRunningNodes: t.exposeInt('maxRunningNodes', {
      nullable: true,
      description: "Most nodes running at once across the organization's runs; the others wait PENDING.",
    }),
  }),
});

export const OrganizationRef = builder.objectRef<OrganizationRow>('Organization').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    limits: t.field({
      type: OrganizationLimitsRef,
      // Read as stored now: the organization row may come from a cache, and limits change on any process.
      resolve: async (organization, _args, context) => {
        const stored = (await findOrganization(context.services.database.db, organization.id)) ?? organization;
        return { maxConcurrentRuns: stored.maxConcurrentRuns, maxRunningNodes: stored.maxRunningNodes };
      },
    }),
  }),
});

const maxLimit = 1_000_000;

const OrganizationLimitsInput = builder.inputType('OrganizationLimitsInput', {
  description: 'A field left out keeps its value; null removes the limit.',
  fields: (t) => ({
    maxConcurrentRuns: t.int({ description: `Most runs RUNNING at once (1 to ${maxLimit}); null: unlimited.` }),
    maxRunningNodes: t.int({ description: `Most nodes running at once across the runs (1 to ${maxLimit}); null: unlimited.` }),
  }),
});

builder.mutationField('updateOrganizationLimits', (t) =>
  t.field({
    type: OrganizationRef,
    description: "Sets the caller's organization's fair-share limits (ADMIN).",
    authScopes: { admin: true },
    errors: { types: [ValidationError], union: { name: 'UpdateOrganizationLimitsResult' } },
    args: { input: t.arg({ type: OrganizationLimitsInput, required: true }) },
    resolve: async (_root, args, context) => {
      const id = organizationOf(context);
      const patch: Partial<OrganizationLimits> = {};
      const issues = [];
      for (const field of ['maxConcurrentRuns', 'maxRunningNodes'] as const) {
        const value = args.input[field];
        if (value === undefined) continue;
        if (value !== null && (value < 1 || value > maxLimit)) {
          issues.push(fieldIssue(field, `${field} must be from 1 to ${maxLimit}, or null for no limit`));
        }
        patch[field] = value;
      }
      if (issues.length > 0) throw new ValidationError(issues, 'input');
      const { database, keys, runs } = context.services;
      const organization = await updateOrganizationLimits(database.db, id, patch);
      if (!organization) throw new Error('the organization of an authenticated key is missing');
      keys.forgetOrganization(id);
      // A limit raised or removed frees slots: the runs it held back start now, on any process; every
      // process reads maxRunningNodes again (this one before answering: the next node start obeys it).
      await runs.limitsChanged(id);
      return organization;
    },
  }),
);

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
