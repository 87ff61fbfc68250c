// Batched reads per operation: the fields a list of runs (or events) selects — Run.workflow, RunEvent.run,
// Run.steps with Run.branches — are gathered over one tick and read in one statement each, so a page of
// runs costs a constant number of statements, not one per run. Nothing is remembered past its batch: a
// subscription's context lives across events, and each event must read the rows as stored now.
import { findRuns } from '../db/queries/runs.js';
import { findWorkflows } from '../db/queries/workflows.js';
import { readRunParts, type RunParts } from '../db/run-parts.js';
import type { RunRow, WorkflowRow } from '../db/schema.js';
import type { Context } from './context.js';

export interface Loaders {
  /** The workflow `id` of the organization, or null. */
  workflow(organizationId: string, id: string): Promise<WorkflowRow | null>;
  /** The run `id` of the organization, or null. */
  run(organizationId: string, id: string): Promise<RunRow | null>;
  /** The steps and branches of a run the caller holds (read together: Run.branches needs the steps too). */
  parts(runId: string): Promise<RunParts>;
}

type Load<K, V> = (key: K) => Promise<V>;

/**
 * Collects the keys asked for until the current tick's promise jobs have run (graphql-js resolves the
 * fields of every item of a list in that time), then reads them with one `load` call. A key asked for
 * twice in one batch is read once.
 */
export function batched<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, missing: V): Load<K, V> {
  let batch: Map<K, { promise: Promise<V>; resolve(value: V): void; reject(error: unknown): void }> | null = null;
  const dispatch = async (pending: NonNullable<typeof batch>) => {
    try {
      const values = await load([...pending.keys()]);
      for (const [key, waiter] of pending) waiter.resolve(values.has(key) ? values.get(key)! : missing);
    } catch (error) {
      for (const waiter of pending.values()) waiter.reject(error);
    }
  };
  return (key) => {
    if (!batch) {
      const pending = (batch = new Map());
      // After the promise jobs queued so far, as DataLoader does: resolvers of sibling items get in.
      void Promise.resolve().then(() =>
        process.nextTick(() => {
          batch = null;
          void dispatch(pending);
        }),
      );
    }
    const known = batch.get(key);
    if (known) return known.promise;
    let settle!: { resolve(value: V): void; reject(error: unknown): void };
    const promise = new Promise<V>((resolve, reject) => (settle = { resolve, reject }));
    batch.set(key, { promise, ...settle });
    return promise;
  };
}

/** Groups `org\0id` keys by organization, reads each group with `find`, answers by key. */
function byOrganization<T extends { id: string }>(
  find: (organizationId: string, ids: string[]) => Promise<T[]>,
): (keys: string[]) => Promise<Map<string, T>> {
  return async (keys) => {
    const groups = new Map<string, string[]>();
    for (const key of keys) {
      const [organizationId, id] = key.split('\u0000') as [string, string];
      const ids = groups.get(organizationId);
      if (ids) ids.push(id);
      else groups.set(organizationId, [id]);
    }
    const found = new Map<string, T>();
    await Promise.all(
      [...groups].map(async ([organizationId, ids]) => {
        for (const row of await find(organizationId, ids)) found.set(`${organizationId}\u0000${row.id}`, row);
      }),
    );
    return found;
  };
}

function createLoaders(context: Context): Loaders {
  const { database } = context.services;
  const workflow = batched(byOrganization((org, ids) => findWorkflows(database.db, org, ids)), null);
  const run = batched(byOrganization((org, ids) => findRuns(database.db, org, ids)), null);
  const parts = batched<string, RunParts>((ids) => readRunParts(database, ids), { steps: [], branches: [] });
  return {
    workflow: (organizationId, id) => workflow(`${organizationId}\u0000${id}`),
    run: (organizationId, id) => run(`${organizationId}\u0000${id}`),
    parts,
  };
}

const loadersByContext = new WeakMap<Context, Loaders>();

/** The loaders of this operation's context (made on first use). */
export function loadersOf(context: Context): Loaders {
  let loaders = loadersByContext.get(context);
  if (!loaders) loadersByContext.set(context, (loaders = createLoaders(context)));
  return loaders;
}
