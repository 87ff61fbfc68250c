// Branch: a path of the run's graph that forked from another (ids are paths, e.g. "main/a").
import { branchStatuses } from '../engine/index.js';
import { builder } from './builder.js';
import { BranchRef } from './refs.js';

export const BranchStatusEnum = builder.enumType('BranchStatus', { values: branchStatuses });

BranchRef.implement({
  description: 'A branch of a run: where a node had two or more live outgoing edges, each edge starts one.',
  fields: (t) => ({
    id: t.exposeString('id'),
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
