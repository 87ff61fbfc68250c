// Workflow: versioned definitions of the caller's organization; queries workflow/workflows and the
// mutations createWorkflow/updateWorkflow (a new version each time the definition changes; runs keep theirs).
import { countRuns, countWorkflows } from '../db/queries/counts.js';
import { listRuns } from '../db/queries/runs.js';
import { findWorkflow, insertWorkflow, listWorkflows, readDefinition, updateWorkflow } from '../db/queries/workflows.js';
import { builder } from './builder.js';
import { keysetConnection } from './connections.js';
import { organizationOf } from './context.js';
import { WorkflowDefinitionInput } from './definition-input.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import { checkName } from './names.js';
import { RunConnection, RunRef, WorkflowRef } from './refs.js';
import { checkDefinition, ValidationError } from './validation.js';
import { workflowChanged } from './workflow-cache.js';

WorkflowRef.implement({
  description: 'A named workflow; `definition` is its current version.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    version: t.exposeInt('version', { description: 'The current version; 1 at creation, +1 per definition update.' }),
    definition: t.field({
      type: 'JSON',
      description: "The current version's definition, as sent (GraphQL nulls omitted).",
      resolve: (workflow, _args, context) =>
        workflow.definition !== undefined
          ? workflow.definition
          : readDefinition(context.services.database.db, workflow.id, workflow.version),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    runs: t.connection(
      {
        type: RunRef,
        description: "This workflow's runs, newest first.",
        resolve: (workflow, args, context) =>
          keysetConnection(
            args,
            (page) => listRuns(context.services.database.db, workflow.organizationId, { workflowId: workflow.id }, page),
            () => countRuns(context.services.database.db, workflow.organizationId, { workflowId: workflow.id }),
          ),
      },
      RunConnection,
    ),
  }),
});

const WorkflowConnection = builder.connectionObject(
  { type: WorkflowRef, name: 'WorkflowConnection' },
  { name: 'WorkflowConnectionEdge' },
);

builder.queryFields((t) => ({
  workflow: t.field({
    type: WorkflowRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => findWorkflow(context.services.database.db, organizationOf(context), String(args.id)),
  }),
  workflows: t.connection(
    {
      type: WorkflowRef,
      description: "The organization's workflows, newest first.",
      authScopes: { viewer: true },
      resolve: (_root, args, context) =>
        keysetConnection(
          args,
          (page) => listWorkflows(context.services.database.db, organizationOf(context), page),
          () => countWorkflows(context.services.database.db, organizationOf(context)),
        ),
    },
    WorkflowConnection,
  ),
}));

const CreateWorkflowInput = builder.inputType('CreateWorkflowInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    definition: t.field({ type: WorkflowDefinitionInput, required: true }),
  }),
});

const UpdateWorkflowInput = builder.inputType('UpdateWorkflowInput', {
  description: 'What to change: a new name, and/or a new definition (which makes a new version).',
  fields: (t) => ({
    name: t.string(),
    definition: t.field({ type: WorkflowDefinitionInput }),
  }),
});

const mutationErrors = [ValidationError, NotFoundError, ForbiddenError];

builder.mutationFields((t) => ({
  createWorkflow: t.field({
    type: WorkflowRef,
    authScopes: { editor: true },
    errors: { types: mutationErrors, union: { name: 'CreateWorkflowResult' } },
    args: { input: t.arg({ type: CreateWorkflowInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const name = checkName(input.name, 'input.name');
      const checked = checkDefinition(context, input.definition);
      if (!checked.ok) throw new ValidationError(checked.issues);
      return insertWorkflow(context.services.database.db, organizationOf(context), { name, definition: checked.definition });
    },
  }),
  updateWorkflow: t.field({
    type: WorkflowRef,
    authScopes: { editor: true },
    errors: { types: mutationErrors, union: { name: 'UpdateWorkflowResult' } },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateWorkflowInput, required: true }),
    },
    resolve: async (_root, { id, input }, context) => {
      const name = input.name == null ? undefined : checkName(input.name, 'input.name');
      let definition: Record<string, unknown> | undefined;
      if (input.definition) {
        const checked = checkDefinition(context, input.definition);
        if (!checked.ok) throw new ValidationError(checked.issues);
        definition = checked.definition;
      }
      const { database } = context.services;
      // Forgotten before and after: a startRun reading it meanwhile keeps nothing.
      workflowChanged(database, organizationOf(context), String(id));
      const workflow = await updateWorkflow(database.db, organizationOf(context), String(id), {
        name,
        definition,
      }).finally(() => workflowChanged(database, organizationOf(context), String(id)));
      if (!workflow) throw new NotFoundError('workflow', String(id));
      // A new version may raise or remove settings.maxConcurrentRuns: the runs it held back start now.
      if (definition) await context.services.runs.limitsChanged(workflow.organizationId);
      return workflow;
    },
  }),
}));
