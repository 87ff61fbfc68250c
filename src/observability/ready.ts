// Readiness (GET /ready): whether this process should be sent work now — its database answers, every
// migration is applied, and it is neither draining nor shedding load.
import type { Database } from '../db/client.js';
import { appliedMigrationCount, migrationCount } from '../db/migrate.js';

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready: `draining`, `shedding load: …`, `migrations pending`, `database unreachable`. */
  reason?: string;
}

export interface ReadinessSources {
  database: Database;
  /** The server is stopping: it takes no new runs or connections. */
  draining(): boolean;
  /** Why the process sheds load now (event-loop delay or heap past its threshold), or null. */
  shedding(): string | null;
}

/** The check behind GET /ready; a database error is reported as `database unreachable` and passed to `onError`. */
export function createReadinessCheck(sources: ReadinessSources, onError: (error: unknown) => void): () => Promise<Readiness> {
  return async () => {
    if (sources.draining()) return { ready: false, reason: 'draining' };
    const shedding = sources.shedding();
    if (shedding !== null) return { ready: false, reason: `shedding load: ${shedding}` };
    try {
      const applied = await appliedMigrationCount(sources.database);
      if (applied < migrationCount()) return { ready: false, reason: 'migrations pending' };
      return { ready: true };
    } catch (error) {
      onError(error);
      return { ready: false, reason: 'database unreachable' };
    }
  };
}
