// Run.priority and Run.waitingFor: what a run nobody drives waits for when a run limit holds it back (a
// QUEUED run, or a RUNNING one whose process died and that a limit keeps from being taken over), read
// in one statement per organization for every run of a page (batched like loaders.ts).
import { limitsHolding } from '../db/queries/fair-queue.js';
import type { RunRow } from '../db/schema.js';
import type { Context } from './context.js';
import { batched } from './loaders.js';
import { RunRef } from './refs.js';
import { builder } from './builder.js';

type WaitingFor = (run: RunRow) => Promise<string | null>;

const unfinished = new Set(['QUEUED', 'RUNNING']);

const sheddingWait = 'this server is shedding load: it takes no new runs until it recovers';

const perOperation = new WeakMap<Context, WaitingFor>();

function waitingForOf(context: Context): WaitingFor {
  let load = perOperation.get(context);
  if (load) return load;
  const db = context.services.database.db;
  // Keys: `organizationId\0workflowId`; values: the limit holding that workflow's waiting runs, or null.
  const read = batched(async (keys: string[]) => {
    const byOrganization = new Map<string, string[]>();
    for (const key of keys) {
      const [organizationId, workflowId] = key.split('\0') as [string, string];
      byOrganization.set(organizationId, [...(byOrganization.get(organizationId) ?? []), workflowId]);
    }
    const answers = new Map<string, string | null>();
    for (const [organizationId, workflowIds] of byOrganization) {
      const holding = await limitsHolding(db, organizationId, workflowIds);
      for (const workflowId of workflowIds) {
        answers.set(`${organizationId}\0${workflowId}`, holding.organization ?? holding.workflows.get(workflowId) ?? null);
      }
    }
    return answers;
  }, null);
  load = async (run) => {
    // Only a run nobody holds waits: one claimed (its lease alive) is starting or running. A RUNNING run
    // whose owner died (its lease lapsed) waits too, to be taken over: a limit may hold it like a QUEUED one.
    if (!unfinished.has(run.status) || (run.owner !== null && run.leaseUntil !== null && run.leaseUntil.getTime() > Date.now())) {
      return null;
    }
    const limit = await read(`${run.organizationId}\0${run.workflowId}`);
    // A process shedding load takes no runs (alone on its database, nobody else will until it recovers).
    return limit ?? (context.services.runs.shedding ? sheddingWait : null);
  };
  perOperation.set(context, load);
  return load;
}

builder.objectFields(RunRef, (t) => ({
  priority: t.exposeInt('priority', {
    description: 'As given to startRun: among runs waiting for a slot, higher starts first.',
  }),
  waitingFor: t.string({
    nullable: true,
    description:
      'While the run is QUEUED because a run limit holds it back, which one (e.g. "organization limit of 2 ' +
      'running runs", "workflow limit of 1 running run"), or because the server answering sheds load ' +
      `("${sheddingWait}"); null otherwise. It starts, in priority order, as soon as a slot frees (or the load passes). ` +
      'A RUNNING run whose server died waits the same way to be taken over (it stays RUNNING) when a limit holds it back.',
    resolve: (run, _args, context) => waitingForOf(context)(run),
  }),
}));
