// Organizations' maxRunningNodes as the engine reads it before every node start: a per-process cache
// answering synchronously, read again in the background once `ttlMs` old (the old value serving
// meanwhile), or at once after `invalidate` (the limit was changed, here or — told by a NOTIFY — on
// another process). Reads of many organizations go in one statement.
import { inArray } from 'drizzle-orm';
import type { Db } from '../client.js';
import { organizations } from '../schema.js';

/** The maxRunningNodes of each organization in `ids` that exists (null: unlimited). */
export async function readMaxRunningNodes(db: Db, ids: readonly string[]): Promise<Map<string, number | null>> {
  const rows = await db
    .select({ id: organizations.id, maxRunningNodes: organizations.maxRunningNodes })
    .from(organizations)
    .where(inArray(organizations.id, [...ids]));
  return new Map(rows.map((row) => [row.id, row.maxRunningNodes]));
}

export interface NodeLimitCache {
  /** The cached limit (null: none), or undefined until it was first read (`onChange` says when). */
  limitOf(organizationId: string): number | null | undefined;
  /** Takes the one listener told when an organization's limit became known or changed. */
  onChange(listener: (organizationId: string) => void): void;
  /**
   * Reads the organization's limit again now (it was just changed); resolves once the value read after
   * this call is the cached one (at once when the organization is not cached: its first read comes later).
   */
  invalidate(organizationId: string): Promise<void>;
}

interface Entry {
  value: number | null | undefined;
  readAt: number;
  reading: boolean;
  /** Invalidated while a read was under way (which may have seen the old value): read once more. */
  again: boolean;
  /** invalidate() calls waiting for a read that began after them. */
  waiters: (() => void)[];
}

/** A cache of maxRunningNodes over `db`; `now` is a monotonic clock in ms. */
export function createNodeLimitCache(
  db: Db,
  options: { ttlMs?: number; now?: () => number; log?: (message: string, data?: Record<string, unknown>) => void } = {},
): NodeLimitCache {
  const ttlMs = options.ttlMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();
  let listener: ((organizationId: string) => void) | undefined;
  let batch: string[] = [];

  function settle(id: string, value: number | null): void {
    const entry = entries.get(id)!;
    const changed = entry.value !== value;
    entry.value = value;
    entry.readAt = now();
    entry.reading = false;
    if (entry.again) {
      entry.again = false;
      read(id, entry);
    } else {
      for (const resolve of entry.waiters.splice(0)) resolve();
    }
    if (changed) listener?.(id);
  }

  async function readBatch(): Promise<void> {
    const ids = batch;
    batch = [];
    try {
      const limits = await readMaxRunningNodes(db, ids);
      for (const id of ids) settle(id, limits.get(id) ?? null);
    } catch (error) {
      // Nodes are not held for a database that does not answer: an unknown limit counts as none until
      // the next read, the last known one stays.
      options.log?.('reading maxRunningNodes failed', { error: String(error) });
      for (const id of ids) settle(id, entries.get(id)!.value ?? null);
    }
  }

  function read(id: string, entry: Entry): void {
    entry.reading = true;
    batch.push(id);
    if (batch.length === 1) queueMicrotask(() => void readBatch());
  }

  return {
    limitOf(id) {
      let entry = entries.get(id);
      if (entry === undefined) {
        entries.set(id, (entry = { value: undefined, readAt: 0, reading: false, again: false, waiters: [] }));
        read(id, entry);
      } else if (!entry.reading && now() - entry.readAt >= ttlMs) {
        read(id, entry);
      }
      return entry.value;
    },
    onChange(each) {
      listener = each;
    },
    invalidate(id) {
      const entry = entries.get(id);
      if (entry === undefined) return Promise.resolve();
      const settled = new Promise<void>((resolve) => entry.waiters.push(resolve));
      if (entry.reading) entry.again = true;
      else read(id, entry);
      return settled;
    },
  };
}
