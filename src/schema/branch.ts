// Branch: a path of the run's graph that forked from another. Its `path` ("main", "main/a") is what
// steps and events name; its `id` ("<runId>/branch/<path>") is unique across runs, for client caches.
import { branchStatuses } from '../engine/index.js';
import { builder } from './builder.js';
import { BranchRef } from './refs.js';

export const BranchStatusEnum = builder.enumType('BranchStatus', { values: branchStatuses });

BranchRef.implement({
  description: 'A branch of a run: where a node had two or more live outgoing edges, each edge starts one.',
  fields: (t) => ({
    id: t.id({
      description: 'Unique across all runs and distinct from every other object\'s id: "<runId>/branch/<path>".',
      resolve: (branch) => `${branch.runId}/branch/${branch.id}`,
    }),
    path: t.string({
      description: 'The branch as steps and events name it: "main", then "main/<node id>" for each fork (e.g. "main/a").',
      resolve: (branch) => branch.id,
    }),
    status: t.expose('status', { type: BranchStatusEnum }),
    nodeIds: t.exposeStringList('nodeIds'),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationMs: t.int({
      nullable: true,
      resolve: (branch) => (branch.finishedAt ? branch.finishedAt.getTime() - branch.startedAt.getTime() : null),
    }),
  }),
});
