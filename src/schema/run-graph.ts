// The fields a dashboard reads on a Run: its own version's definition, its stored events without a
// subscription, the state of every edge (PENDING, LIVE, DEAD) and, once final, its timing.
import { GraphQLError } from 'graphql';
import { readDefinition } from '../db/queries/workflows.js';
import { readRunEvents } from '../db/run-reads.js';
import type { RunRow } from '../db/schema.js';
import { finalRunStatuses } from '../engine/index.js';
import { definitionGraph, edgeStates, runTiming, type RunEdge, type RunTiming } from '../runs/run-graph.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { loadersOf } from './loaders.js';
import { RunEventRef, RunRef } from './refs.js';

const EdgeStateEnum = builder.enumType('EdgeState', {
  description: 'PENDING until the source settles; LIVE when it succeeded and chose this edge; DEAD otherwise.',
  values: ['PENDING', 'LIVE', 'DEAD'] as const,
});

const RunEdgeRef = builder.objectRef<RunEdge>('RunEdge').implement({
  description: "An edge of the run's workflow version, with what the run made of it so far.",
  fields: (t) => ({
    source: t.exposeString('source'),
    target: t.exposeString('target'),
    sourceHandle: t.exposeString('sourceHandle', { nullable: true }),
    state: t.field({ type: EdgeStateEnum, resolve: (edge) => edge.state }),
  }),
});

const RunTimingRef = builder.objectRef<RunTiming>('RunTiming').implement({
  description: 'Where the time of a finished run went.',
  fields: (t) => ({
    criticalPath: t.exposeStringList('criticalPath', {
      description: 'The node ids of the longest chain of step durations through the graph, in order.',
    }),
    criticalPathMs: t.exposeFloat('criticalPathMs', { description: 'The sum of the durations along criticalPath.' }),
    workMs: t.exposeFloat('workMs', { description: "The sum of every step's duration." }),
    parallelism: t.exposeFloat('parallelism', {
      description: 'workMs / max(durationMs, 1): how many steps ran at once on average.',
    }),
  }),
});

const maxEvents = 1000;

/** The run's own version's definition (versions never change once stored). */
async function definitionOf(run: RunRow, context: Context): Promise<unknown> {
  const definition = await readDefinition(context.services.database.db, run.workflowId, run.workflowVersion);
  if (definition === null) throw new Error(`version ${run.workflowVersion} of workflow ${run.workflowId} is missing`);
  return definition;
}

builder.objectFields(RunRef, (t) => ({
  definition: t.field({
    type: 'JSON',
    description: "The definition of the run's own workflow version (Workflow.definition is the current one).",
    resolve: (run, _args, context) => definitionOf(run, context),
  }),
  events: t.field({
    type: [RunEventRef],
    description: `The stored events with seq > afterSeq (default 0), in seq order: at most \`first\` (default 100, at most ${maxEvents}).`,
    args: { afterSeq: t.arg.int(), first: t.arg.int() },
    resolve: (run, args, context) => {
      const first = args.first ?? 100;
      if (!Number.isInteger(first) || first < 1 || first > maxEvents) {
        throw new GraphQLError(`first must be between 1 and ${maxEvents} (got ${first})`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
      return readRunEvents(context.services.database, run.id, Math.max(0, args.afterSeq ?? 0), first);
    },
  }),
  edges: t.field({
    type: [RunEdgeRef],
    description: "Every edge of the run's workflow version, in definition order, with its state in this run.",
    resolve: async (run, _args, context) => {
      const [definition, parts] = await Promise.all([definitionOf(run, context), loadersOf(context).parts(run.id)]);
      return edgeStates(definitionGraph(definition).edges, parts.steps);
    },
  }),
  timing: t.field({
    type: RunTimingRef,
    nullable: true,
    description: 'The critical path, work and parallelism of the run; null until the run is final.',
    resolve: async (run, _args, context) => {
      if (!finalRunStatuses.has(run.status) || !run.startedAt || !run.finishedAt) return null;
      const [definition, parts] = await Promise.all([definitionOf(run, context), loadersOf(context).parts(run.id)]);
      return runTiming(definitionGraph(definition), parts.steps, run.finishedAt.getTime() - run.startedAt.getTime());
    },
  }),
}));
