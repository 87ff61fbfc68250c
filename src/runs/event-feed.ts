// Events of runs driven by other processes sharing the PostgreSQL: one LISTEN per process, one read
// per batch of notifications, and a local fan-out to this process's subscribers. Also carries the
// cross-process cancel requests and wake-ups (new runs to claim), and revoked API keys.
import { asc, inArray, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.js';
import { runEvents, runs, type RunEventRow, type RunRow } from '../db/schema.js';
import type { Log } from '../engine/index.js';
import type { RunPubSub } from '../pubsub.js';

export type ServerPubSub = RunPubSub<RunEventRow, RunRow>;

/** What a process tells the others: a run's new events `[first, last]` (0, 0: none) and its new status. */
export type Announcement = [runId: string, firstSeq: number, lastSeq: number, status: string | null];

export const channels = {
  events: 'braid_events',
  cancel: 'braid_cancel',
  wake: 'braid_wake',
  keys: 'braid_keys',
  limits: 'braid_limits',
} as const;

export interface EventFeed {
  /** Starts listening (a no-op without other processes). */
  start(): Promise<void>;
  /** Tells the other processes of changes written outside the run store (the store announces its own). */
  announce(entries: readonly Announcement[]): Promise<void>;
  /** Asks the process driving `runId` to cancel it. */
  requestCancel(runId: string): Promise<void>;
  /** Tells the other processes that runs wait to be claimed. */
  wakeOthers(): Promise<void>;
  stop(): Promise<void>;
}

/** The feed of a process alone on its database (PGlite): everything is local already. */
export const soloFeed: EventFeed = {
  start: async () => {},
  announce: async () => {},
  requestCancel: async () => {},
  wakeOthers: async () => {},
  stop: async () => {},
};

/** The feed over PostgreSQL's LISTEN/NOTIFY; `sender` tells this process's own notifications apart. */
export function createPostgresFeed(options: {
  database: Database & { driver: 'postgres' };
  sender: string;
  pubsub: ServerPubSub;
  onCancel(runId: string): void;
  onWake(): void;
  log: Log;
}): EventFeed {
  const { database, sender, pubsub } = options;
  const sql_ = database.client;
  const listeners: { unlisten(): Promise<void> }[] = [];
  let eventReads = new Map<string, [number, number]>();
  let runReads = new Set<string>();
  let flushing = false;
  /** The last seq this feed published per run with subscribers, to catch up after a reconnect. */
  const published = new Map<string, number>();

  function onEvents(payload: string): void {
    let message: { p: string; r: Announcement[] };
    try {
      message = JSON.parse(payload) as { p: string; r: Announcement[] };
    } catch {
      return options.log('ignored a malformed notification', { channel: channels.events });
    }
    if (message.p === sender) return;
    const watchingRuns = pubsub.runs.subscriberCount() > 0;
    for (const [runId, first, last, status] of message.r) {
      if (last > 0 && pubsub.events.subscriberCount(runId) > 0) {
        const read = eventReads.get(runId);
        eventReads.set(runId, read ? [Math.min(read[0], first), Math.max(read[1], last)] : [first, last]);
      }
      if (status !== null && watchingRuns) runReads.add(runId);
    }
    schedule();
  }

  function schedule(): void {
    if (flushing || (eventReads.size === 0 && runReads.size === 0)) return;
    flushing = true;
    setImmediate(() => void flush().finally(() => {
      flushing = false;
      schedule();
    }));
  }

  async function flush(): Promise<void> {
    const events = eventReads;
    const updated = runReads;
    eventReads = new Map();
    runReads = new Set();
    try {
      if (events.size > 0) {
        const json = JSON.stringify([...events].map(([id, [first, last]]) => ({ id, first, last })));
        const rows = await database.db
          .select()
          .from(runEvents)
          .where(sql`(${runEvents.runId}, ${runEvents.seq}) in (select v.id, g from json_to_recordset(${json}::json)
            as v(id text, first int, last int), generate_series(v.first, v.last) as g)`)
          .orderBy(asc(runEvents.runId), asc(runEvents.seq));
        for (const event of rows) {
          pubsub.events.publish(event.runId, event);
          if (pubsub.events.subscriberCount(event.runId) > 0) published.set(event.runId, event.seq);
          else published.delete(event.runId);
        }
      }
      if (updated.size > 0) {
        const rows = await database.db.select().from(runs).where(inArray(runs.id, [...updated]));
        for (const run of rows) pubsub.runs.publish(run.organizationId, run);
      }
    } catch (error) {
      // Subscribers fill a gap from the store when the next event arrives; a lost final event is
      // read again when the connection comes back (catchUp).
      options.log('reading notified events failed', { error: String(error) });
    }
  }

  /** After a (re)connect notifications may have been missed: read what the watched runs did since. */
  function catchUp(): void {
    for (const [runId, seq] of published) {
      if (pubsub.events.subscriberCount(runId) === 0) published.delete(runId);
      else eventReads.set(runId, [seq + 1, 2 ** 31 - 1]);
    }
    schedule();
  }

  async function notify(channel: string, payload: string): Promise<void> {
    await sql_`select pg_notify(${channel}, ${payload})`;
  }

  return {
    async start() {
      listeners.push(
        await sql_.listen(channels.events, onEvents, catchUp),
        await sql_.listen(channels.cancel, (runId) => options.onCancel(runId)),
        await sql_.listen(channels.wake, (from) => from !== sender && options.onWake()),
      );
    },
    async announce(entries) {
      if (entries.length > 0) await notify(channels.events, JSON.stringify({ p: sender, r: entries }));
    },
    requestCancel: (runId) => notify(channels.cancel, runId),
    wakeOthers: () => notify(channels.wake, sender),
    async stop() {
      await Promise.all(listeners.splice(0).map((listener) => listener.unlisten().catch(() => undefined)));
    },
  };
}

/** Tells every process sharing the PostgreSQL (this one too) that the API key `keyId` is revoked; sent on commit. */
export async function announceKeyRevoked(db: Db, keyId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channels.keys}, ${keyId})`);
}

/**
 * Hears of revoked API keys on PostgreSQL. `onListen` runs on every (re)connect of the listening
 * session, after which revocations announced while it was away may have been missed.
 */
export async function listenKeyRevocations(
  database: Database & { driver: 'postgres' },
  handlers: { onRevoked(keyId: string): void; onListen(): void },
): Promise<{ stop(): Promise<void> }> {
  const listener = await database.client.listen(channels.keys, (keyId) => handlers.onRevoked(keyId), handlers.onListen);
  return { stop: () => listener.unlisten().catch(() => undefined) };
}
