// Run: one execution of a workflow version. Queries run/runs, mutations startRun/cancelRun and the
// runUpdates subscription (every status change of the organization's runs).
import { Repeater } from 'graphql-yoga';
import { countRuns } from '../db/queries/counts.js';
import { findRun, listRuns } from '../db/queries/runs.js';
import type { RunParts } from '../db/run-parts.js';
import type { BranchRow, RunRow } from '../db/schema.js';
import { runStatuses } from '../engine/index.js';
import { builder } from './builder.js';
import { keysetConnection } from './connections.js';
import { organizationOf } from './context.js';
import { loadersOf } from './loaders.js';
import { currentWorkflow } from './workflow-cache.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import { BranchRef, RunConnection, RunRef, StepRef, WorkflowRef } from './refs.js';
import { StoredDefinitionInvalidError } from '../runs/graphs.js';
import { RunNotRetriableError, UnavailableError } from '../runs/run-service.js';
import { GraphQLError } from 'graphql';
import { liveFeedError } from './subscriptions.js';
import { liveSlotOf } from './live-groups.js';
import { fieldIssue, jsonIssue, ValidationError } from './validation.js';

export const RunStatusEnum = builder.enumType('RunStatus', { values: runStatuses });

const durationMs = (from: Date | null, to: Date | null) => (from && to ? to.getTime() - from.getTime() : null);

RunRef.implement({
  description: 'One execution of one version of a workflow.',
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: RunStatusEnum }),
    workflow: t.field({
      type: WorkflowRef,
      resolve: async (run, _args, context) => {
        const workflow = await loadersOf(context).workflow(run.organizationId, run.workflowId);
        if (!workflow) throw new Error(`workflow ${run.workflowId} of run ${run.id} is missing`);
        return workflow;
      },
    }),
    workflowVersion: t.exposeInt('workflowVersion'),
    input: t.expose('input', { type: 'JSON', nullable: true }),
    output: t.expose('output', {
      type: 'JSON',
      nullable: true,
      description: 'When finished: the outputs of the sink nodes that succeeded, by node id.',
    }),
    error: t.exposeString('error', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    retries: t.exposeInt('retries', { description: 'How many times retryRun ran the run again.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationMs: t.int({ nullable: true, resolve: (run) => durationMs(run.startedAt, run.finishedAt) }),
    steps: t.field({
      type: [StepRef],
      description: 'One step per node, in the order they started (never-started ones last).',
      resolve: async (run, _args, context) => (await loadersOf(context).parts(run.id)).steps,
    }),
    branches: t.field({
      type: [BranchRef],
      description: 'Every branch the run started, in the order they started.',
      resolve: async (run, _args, context) => branchesWithNodes(await loadersOf(context).parts(run.id)),
    }),
  }),
});

/**
 * A branch row holds its nodeIds as of its start and its finish (the engine does not rewrite a long
 * branch at every step); for a branch still running, the steps that name it tell the rest.
 */
function branchesWithNodes({ branches, steps }: RunParts): BranchRow[] {
  if (!branches.some((branch) => branch.status === 'RUNNING')) return branches;
  return branches.map((branch) => {
    if (branch.status !== 'RUNNING') return branch;
    const known = new Set(branch.nodeIds);
    const later = steps.filter((s) => s.branch === branch.id && s.status !== 'SKIPPED' && !known.has(s.nodeId));
    return { ...branch, nodeIds: [...branch.nodeIds, ...later.map((s) => s.nodeId)] };
  });
}

builder.queryFields((t) => ({
  run: t.field({
    type: RunRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => findRun(context.services.database.db, organizationOf(context), String(args.id)),
  }),
  runs: t.connection(
    {
      type: RunRef,
      description: "The organization's runs, newest first; optionally of one workflow and in one status.",
      authScopes: { viewer: true },
      args: {
        workflowId: t.arg.id(),
        status: t.arg({ type: RunStatusEnum }),
      },
      resolve: (_root, args, context) => {
        const { db } = context.services.database;
        const filter = { workflowId: args.workflowId == null ? null : String(args.workflowId), status: args.status };
        return keysetConnection(
          args,
          (page) => listRuns(db, organizationOf(context), filter, page),
          () => countRuns(db, organizationOf(context), filter),
        );
      },
    },
    RunConnection,
  ),
}));

const maxIdempotencyKeyLength = 255;

builder.mutationFields((t) => ({
  startRun: t.field({
    type: RunRef,
    description:
      "Starts a run of the workflow's current version. With an idempotencyKey already used in the " +
      'organization, returns the run that key started instead of starting another.',
    authScopes: { editor: true },
    errors: { types: [ValidationError, NotFoundError, ForbiddenError], union: { name: 'StartRunResult' } },
    args: {
      workflowId: t.arg.id({ required: true }),
      input: t.arg({ type: 'JSON' }),
      idempotencyKey: t.arg.string(),
      priority: t.arg.int({ description: 'Among runs waiting for a slot (a run limit), higher starts first; default 0.' }),
    },
    resolve: async (_root, args, context) => {
      const organizationId = organizationOf(context);
      const key = args.idempotencyKey ?? null;
      if (key !== null && (key.length === 0 || key.length > maxIdempotencyKeyLength || key.includes('\u0000'))) {
        const message = `idempotencyKey must have 1 to ${maxIdempotencyKeyLength} characters, none of them NUL`;
        throw new ValidationError([fieldIssue('idempotencyKey', message)], 'input');
      }
      const unstorable = jsonIssue('input', args.input);
      if (unstorable) throw new ValidationError([unstorable], 'input');
      const workflow = await currentWorkflow(context.services.database, organizationId, String(args.workflowId));
      if (!workflow) throw new NotFoundError('workflow', String(args.workflowId));
      try {
        const input = args.input ?? null;
        const priority = args.priority ?? 0;
        return await context.services.runs.start({ organizationId, workflow, input, idempotencyKey: key, priority });
      } catch (error) {
        throw expectedFailure(error);
      }
    },
  }),
  retryRun: t.field({
    type: RunRef,
    description:
      'Runs a FAILED or CANCELLED run again, as the same run and workflow version, from where it stopped: ' +
      'its FAILED and CANCELLED steps (and those skipped only because of them) run again; SUCCEEDED ' +
      'steps keep their outputs. Any other status is a ValidationError.',
    authScopes: { editor: true },
    errors: { types: [ValidationError, NotFoundError, ForbiddenError], union: { name: 'RetryRunResult' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      let run;
      try {
        run = await context.services.runs.retry(organizationOf(context), String(args.id));
      } catch (error) {
        throw expectedFailure(error);
      }
      if (!run) throw new NotFoundError('run', String(args.id));
      return run;
    },
  }),
  cancelRun: t.field({
    type: RunRef,
    description: 'Cancels a run: running nodes are aborted, the rest never start; the run ends CANCELLED. ' +
      'A run already finished is returned as it is.',
    authScopes: { editor: true },
    errors: { types: [NotFoundError, ForbiddenError], union: { name: 'CancelRunResult' } },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const run = await context.services.runs.cancel(organizationOf(context), String(args.id));
      if (!run) throw new NotFoundError('run', String(args.id));
      return run;
    },
  }),
}));

/** The run layer's expected failures as the API's: result-union errors, or UNAVAILABLE while draining. */
function expectedFailure(error: unknown): unknown {
  if (error instanceof StoredDefinitionInvalidError) return new ValidationError(error.issues);
  if (error instanceof RunNotRetriableError) return new ValidationError([fieldIssue('id', error.message)], 'retry');
  if (error instanceof UnavailableError) return new GraphQLError(error.message, { extensions: { code: 'UNAVAILABLE' } });
  return error;
}

builder.subscriptionField('runUpdates', (t) =>
  t.field({
    type: RunRef,
    description: "Every status change of the organization's runs (of one workflow when workflowId is given).",
    authScopes: { viewer: true },
    args: { workflowId: t.arg.id() },
    subscribe: (_root, args, context, info) => {
      const organizationId = organizationOf(context);
      const workflowId = args.workflowId == null ? null : String(args.workflowId);
      const live = liveSlotOf(context); // one execution per update for the same operations (live-groups.ts)
      if (live) return live.groups.runUpdates(context, info, workflowId);
      const updates = new Repeater<RunRow>(async (push, stop) => {
        const feed = context.services.pubsub.runs.subscribe(organizationId);
        void stop.then(() => feed.close());
        void feed.dropped.then((error) => stop(liveFeedError(error)));
        try {
          for await (const run of feed) {
            if (workflowId === null || run.workflowId === workflowId) await push(run);
          }
          stop();
        } catch (error) {
          stop(liveFeedError(error));
        }
      });
      return context.services.streams.track(updates);
    },
    resolve: (run) => run,
  }),
);
