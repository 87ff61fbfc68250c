// The workflow rows startRun reads, kept in memory where this process is the database's only user
// (PGlite: its data directory is locked to one process, so every change to a workflow goes through
// here and forgets it). On PostgreSQL another process may change a workflow at any time, so there every
// startRun reads the workflow's current version from the database.
import type { Database } from '../db/client.js';
import { findWorkflow } from '../db/queries/workflows.js';
import type { WorkflowRow } from '../db/schema.js';

const maxEntries = 10_000;
const ttlMs = 60_000;

interface Cache {
  rows: Map<string, { row: WorkflowRow; expires: number }>;
  /** Bumped by every change: a read that began before a change must not be kept. */
  generation: number;
}

const caches = new WeakMap<Database, Cache>();

function cacheOf(database: Database): Cache | undefined {
  if (database.driver !== 'pglite') return undefined;
  let cache = caches.get(database);
  if (!cache) caches.set(database, (cache = { rows: new Map(), generation: 0 }));
  return cache;
}

/** The workflow `id` of the organization as stored now (null when it is not there). */
export async function currentWorkflow(database: Database, organizationId: string, id: string): Promise<WorkflowRow | null> {
  const cache = cacheOf(database);
  if (!cache) return findWorkflow(database.db, organizationId, id);
  const key = `${organizationId}\u0000${id}`;
  const now = Date.now();
  const hit = cache.rows.get(key);
  if (hit && hit.expires > now) return hit.row;
  const generation = cache.generation;
  const row = await findWorkflow(database.db, organizationId, id);
  if (row && cache.generation === generation) {
    cache.rows.delete(key);
    if (cache.rows.size >= maxEntries) cache.rows.delete(cache.rows.keys().next().value!);
    cache.rows.set(key, { row, expires: now + ttlMs });
  }
  return row;
}

/** The workflow `id` changed (or is about to): forget it, and any read of it still on its way. */
export function workflowChanged(database: Database, organizationId: string, id: string): void {
  const cache = caches.get(database);
  if (!cache) return;
  cache.generation++;
  cache.rows.delete(`${organizationId}\u0000${id}`);
}
