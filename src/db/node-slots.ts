// maxRunningNodes across processes sharing a PostgreSQL database: an organization with a limit of L has
// L slots, each a session-level advisory lock (slot i of organization o: the key pair (hash of o, i)),
// taken on one connection this process reserves. A process starts an organization's nodes only on the
// slots it holds (its share), takes more when its nodes wait, and gives back the ones left idle. A
// killed process's locks die with its session. Two organizations whose hashes collide share their
// slots: fewer for each when both are busy, never more.
import type postgres from 'postgres';
import type { Database } from './client.js';
import type { NodeLimitCache } from './queries/node-limits.js';

export interface NodeSlotOptions {
  log?: (message: string, data?: Record<string, unknown>) => void;
  /** How long a process whose nodes wait and got no slot waits before trying again (default 200 ms). */
  retryMs?: number;
  /** How long a slot stays idle before it is given back (default 100 ms): a burst reuses it. */
  idleMs?: number;
}

interface Org {
  /** Slot indexes whose locks this process holds. */
  held: Set<number>;
  /** The organization's nodes running in this process (as the engine last said), and whether more wait. */
  running: number;
  waiting: boolean;
  busy: boolean;
  retry: NodeJS.Timeout | undefined;
  idle: NodeJS.Timeout | undefined;
}

/** The first key of an organization's slot locks: FNV-1a of its id, as a signed 32-bit integer (int4). */
function organizationKey(organizationId: string): number {
  let hash = 0x811c9dc5;
  for (const char of `braid-node-slots/${organizationId}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** The engine's maxRunningNodes source on PostgreSQL: the limits of `limits`, each process's share held as slots. */
export function createNodeSlots(database: Database & { driver: 'postgres' }, limits: NodeLimitCache, options: NodeSlotOptions = {}) {
  const retryMs = options.retryMs ?? 200;
  const tries = 8;
  const idleMs = options.idleMs ?? 100;
  const orgs = new Map<string, Org>();
  let listener: ((organizationId: string) => void) | undefined;
  let connection: Promise<postgres.ReservedSql> | undefined;
  let closed = false;

  const tell = (id: string) => listener?.(id);

  limits.onChange((id) => {
    const org = orgs.get(id);
    if (org) settleIdle(id, org);
    tell(id);
  });

  function orgOf(id: string): Org {
    let org = orgs.get(id);
    if (org === undefined) orgs.set(id, (org = { held: new Set(), running: 0, waiting: false, busy: false, retry: undefined, idle: undefined }));
    return org;
  }

  function reserved(): Promise<postgres.ReservedSql> {
    connection ??= database.client.reserve();
    return connection;
  }

  /** The session holding the slots failed: every slot is gone with it (nodes running go on; new ones wait). */
  function lost(error: unknown): void {
    options.log?.('node slots: the connection holding them failed; taking them again', { error: String(error) });
    const failed = connection;
    connection = undefined;
    void failed?.then((sql) => sql.release(), () => undefined);
    for (const [id, org] of orgs) {
      org.held.clear();
      tell(id);
    }
  }

  /** Slots of `org` that count now: those under its current limit. */
  function share(id: string, org: Org | undefined): number {
    const limit = limits.limitOf(id);
    if (org === undefined || limit === null || limit === undefined) return 0;
    let count = 0;
    for (const slot of org.held) if (slot < limit) count++;
    return count;
  }

  /**
   * Takes more slots for an organization whose nodes wait: one statement tries up to `tries` free slots
   * (picked at random, so processes do not all queue on the same ones) and keeps what it got; slots
   * left unused go back when idle. Tries again after `retryMs` while nodes still wait and none was free.
   */
  async function grow(id: string, org: Org): Promise<void> {
    const limit = limits.limitOf(id);
    if (org.busy || closed || limit === null || limit === undefined || share(id, org) >= limit) return;
    org.busy = true;
    let got = 0;
    try {
      const free: number[] = [];
      for (let slot = 0; slot < limit; slot++) if (!org.held.has(slot)) free.push(slot);
      for (let i = free.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [free[i], free[j]] = [free[j]!, free[i]!];
      }
      const candidates = free.slice(0, tries);
      const sql = await reserved();
      const rows = await sql<{ slot: number }[]>`
        select slot from unnest(${candidates}::int4[]) as slot where pg_try_advisory_lock(${organizationKey(id)}, slot)`;
      for (const row of rows) {
        org.held.add(Number(row.slot));
        got++;
      }
    } catch (error) {
      lost(error);
    } finally {
      org.busy = false;
    }
    if (got > 0) tell(id);
    else if (org.waiting && !closed && org.retry === undefined) {
      org.retry = setTimeout(() => {
        org.retry = undefined;
        if (org.waiting) void grow(id, org);
      }, retryMs);
      org.retry.unref();
    }
    // Nodes may have settled while the locks were taken: what is not needed goes back once idle.
    settleIdle(id, org);
  }

  /** The slots to give back now: those past the limit, and those under it that nodes here leave unused. */
  function excess(id: string, org: Org): number[] {
    const limit = limits.limitOf(id) ?? 0; // no limit any more: every slot goes back
    const give = [...org.held].filter((slot) => slot >= limit);
    const valid = [...org.held].filter((slot) => slot < limit).sort((a, b) => a - b);
    const unused = org.waiting ? 0 : valid.length - org.running;
    if (unused > 0) give.push(...valid.slice(valid.length - unused));
    return give;
  }

  /** Gives back, once idle for `idleMs` (a burst reuses them), the slots `excess` names. */
  function settleIdle(id: string, org: Org): void {
    if (org.idle !== undefined || excess(id, org).length === 0) return;
    org.idle = setTimeout(() => {
      org.idle = undefined;
      const give = excess(id, org);
      if (give.length === 0) return;
      for (const slot of give) org.held.delete(slot);
      void reserved()
        .then((sql) => Promise.all(give.map((slot) => sql`select pg_advisory_unlock(${organizationKey(id)}, ${slot})`)))
        .catch(lost);
      if (org.held.size === 0 && org.running === 0 && !org.waiting && !org.busy) orgs.delete(id);
    }, idleMs);
    org.idle.unref();
  }

  return {
    limitOf: (id: string) => limits.limitOf(id),
    shareOf: (id: string) => share(id, orgs.get(id)),
    demand(id: string, running: number, waiting: boolean): void {
      const org = orgOf(id);
      org.running = running;
      org.waiting = waiting;
      if (waiting) void grow(id, org);
      else settleIdle(id, org);
    },
    onChange(each: (organizationId: string) => void): void {
      listener = each;
    },
    /** Gives every slot back and the connection to the pool. */
    async close(): Promise<void> {
      closed = true;
      for (const org of orgs.values()) {
        clearTimeout(org.retry);
        clearTimeout(org.idle);
      }
      orgs.clear();
      const held = connection;
      connection = undefined;
      if (!held) return;
      const sql = await held;
      try {
        await sql`select pg_advisory_unlock_all()`;
      } finally {
        sql.release();
      }
    },
  };
}
