// What every resolver receives: who is calling (from the API key or the admin token) and the services.
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Role } from '../db/queries/api-keys.js';
import type { NodeRegistry } from '../engine/index.js';
import type { ServerPubSub } from '../runs/event-feed.js';
import type { RunService } from '../runs/run-service.js';
import type { StreamTracker } from './stream-tracker.js';
import type { KeyCache } from './auth.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { KeyLimits } from './rate-limits.js';

/** An authenticated API key: everything it may touch lies in `organizationId`. */
export interface Auth {
  organizationId: string;
  keyId: string;
  role: Role;
}

/** The long-lived collaborators of the schema, built once by the server. */
export interface Services {
  config: Config;
  database: Database;
  registry: NodeRegistry;
  runs: RunService;
  pubsub: ServerPubSub;
  /** The subscription streams being served (a stopping server lets them finish). */
  streams: StreamTracker;
  /** API keys found recently (see auth.ts). */
  keys: KeyCache;
  /** Limits per API key (rate-limits.ts) and failed authentication slowed per address (auth-throttle.ts). */
  limits: KeyLimits;
  authThrottle: AuthThrottle;
  /** The key secrets are encrypted with (SECRETS_KEY, or dev mode's kept one once started); undefined: none. */
  secretsKey: Buffer | undefined;
}

/** The per-operation context (HTTP request or graphql-ws subscribe). */
export interface Context {
  /** null when no valid API key came with the operation. */
  auth: Auth | null;
  /** True when the caller presented ADMIN_TOKEN (allowed to call createOrganization). */
  adminToken: boolean;
  services: Services;
}

/** The org of the caller; resolvers behind a role scope may rely on it. */
export function organizationOf(context: Context): string {
  if (!context.auth) throw new Error('resolver reached without authentication');
  return context.auth.organizationId;
}
