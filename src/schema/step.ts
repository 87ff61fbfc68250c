// Step: the state of one node in one run (one per run and node).
import { stepStatuses } from '../engine/index.js';
import { builder } from './builder.js';
import { StepRef } from './refs.js';

export const StepStatusEnum = builder.enumType('StepStatus', { values: stepStatuses });

StepRef.implement({
  description: 'One node of a run: its status, attempts, branch, input and output.',
  fields: (t) => ({
    id: t.id({
      description: 'The run id and the node id: "<runId>:<nodeId>".',
      resolve: (step) => `${step.runId}:${step.nodeId}`,
    }),
    nodeId: t.exposeString('nodeId'),
    nodeType: t.exposeString('nodeType'),
    status: t.expose('status', { type: StepStatusEnum }),
    attempt: t.exposeInt('attempt', { description: 'The current or last attempt, counted from 1 (0 before the first).' }),
    branch: t.exposeString('branch', { nullable: true, description: 'The id (a path) of the branch it ran in.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationMs: t.int({
      nullable: true,
      resolve: (step) => (step.startedAt && step.finishedAt ? step.finishedAt.getTime() - step.startedAt.getTime() : null),
    }),
    input: t.expose('input', { type: 'JSON', nullable: true }),
    output: t.expose('output', { type: 'JSON', nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    reason: t.exposeString('reason', { nullable: true, description: "Why it was SKIPPED or CANCELLED, or what it waits for: while PENDING an organization's maxRunningNodes or load shedding, while RUNNING its HTTP host (limit or Retry-After pause)." }),
  }),
});
