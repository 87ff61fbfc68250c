// A limit changed (updateOrganizationLimits, or updateWorkflow with a new settings.maxConcurrentRuns):
// the other processes sharing the PostgreSQL hear it through one NOTIFY on `braid_limits` naming the
// organization, so that each claims at once the runs a raised limit lets start and reads that
// organization's maxRunningNodes again, instead of on its next sweep or once its cache is stale (~1 s,
// which stays the backstop for a notification missed while its listening session reconnected).
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { Log } from '../engine/index.js';
import { channels } from './event-feed.js';

export interface LimitChanges {
  /** Starts listening for the changes other processes announce. */
  start(): Promise<void>;
  /** Tells the other processes that `organizationId`'s limits (or one of its workflows') changed. */
  announce(organizationId: string): Promise<void>;
  stop(): Promise<void>;
}

/** `sender` tells this process's own announcements apart: it acted on its change before announcing it. */
export function createLimitChanges(options: {
  database: Database & { driver: 'postgres' };
  sender: string;
  onChange(organizationId: string): void;
  log: Log;
}): LimitChanges {
  const { database, sender } = options;
  let listener: { unlisten(): Promise<void> } | undefined;

  function heard(payload: string): void {
    let message: { p?: unknown; o?: unknown };
    try {
      message = JSON.parse(payload) as { p?: unknown; o?: unknown };
    } catch {
      return options.log('ignored a malformed notification', { channel: channels.limits });
    }
    if (message.p !== sender && typeof message.o === 'string') options.onChange(message.o);
  }

  return {
    async start() {
      listener ??= await database.client.listen(channels.limits, heard);
    },
    async announce(organizationId) {
      await database.db.execute(sql`select pg_notify(${channels.limits}, ${JSON.stringify({ p: sender, o: organizationId })})`);
    },
    async stop() {
      await listener?.unlisten().catch(() => undefined);
      listener = undefined;
    },
  };
}
