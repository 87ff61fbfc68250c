// The API keys this process knows of: keys found recently, by the hash of their secret; keys revoked
// (here, or announced by another process), refused at once, with the sockets and SSE streams they
// opened ended; each key's last use, written at most once a minute off the request path; and the
// organizations those keys belong to, read once per TTL instead of once per request.
import type { OrganizationRow } from '../db/schema.js';
import type { Auth } from './context.js';

export interface KeyCacheOptions {
  /** How long a found key is trusted without a read (default 60 s; revocations clear it sooner). */
  ttlMs?: number;
  /** Most keys kept (default 10 000). */
  max?: number;
  /** A key's use is written at most this often (default 60 s): lastUsedAt is exact to within it. */
  useIntervalMs?: number;
  /** Writes a key's last use (lastUsedAt); called after the request, never awaited by it. */
  recordUse?: (keyId: string, at: Date) => Promise<void>;
  log?: (message: string, data?: Record<string, unknown>) => void;
}

export interface KeyCache {
  get(hash: string, now: number): Auth | undefined;
  /** Keeps a found key; a key revoked meanwhile (its lookup raced the revocation) is not kept. */
  set(hash: string, auth: Auth, now: number): void;
  /**
   * `keyId` is revoked: forgotten at once, refused by later `set`s, and everything `hold` registered
   * for it is ended. Idempotent (a process hears of its own revocations again from PostgreSQL).
   */
  revoke(keyId: string): void;
  isRevoked(keyId: string): boolean;
  /** Forgets every found key and organization (after notifications of revocations may have been missed). */
  clear(): void;
  /** The organization `id` as read within the TTL, or undefined. */
  organization(id: string, now: number): OrganizationRow | undefined;
  /** Keeps an organization read from the database. */
  setOrganization(organization: OrganizationRow, now: number): void;
  /** Forgets the organization `id` (it changed or went away); idempotent. */
  forgetOrganization(id: string): void;
  /** Calls `end` when `keyId` is revoked (at once if it already is); returns the release. */
  hold(keyId: string, end: () => void): () => void;
  /** `keyId` was used at `now`: written (later) when its last written use is older than useIntervalMs. */
  used(keyId: string, now: number): void;
  /** Resolves when the uses noted so far are written. */
  idle(): Promise<void>;
}

/** Creates the cache; see KeyCache. */
export function createKeyCache(options: KeyCacheOptions = {}): KeyCache {
  const ttlMs = options.ttlMs ?? 60_000;
  const max = options.max ?? 10_000;
  const useIntervalMs = options.useIntervalMs ?? 60_000;
  const log = options.log ?? (() => {});
  const entries = new Map<string, { auth: Auth; expires: number }>();
  const organizations = new Map<string, { organization: OrganizationRow; expires: number }>();
  // Revoked keys stay revoked: remembering the latest ones guards lookups that raced a revocation.
  const revoked = new Set<string>();
  const holders = new Map<string, Set<() => void>>();
  const written = new Map<string, number>();
  const pending = new Map<string, number>();
  let writing: Promise<void> = Promise.resolve();

  /** Adds to an insertion-ordered map or set, forgetting the oldest past `max`. */
  const bounded = <K>(collection: Map<K, unknown> | Set<K>, key: K) => {
    collection.delete(key);
    if (collection.size >= max) collection.delete(collection.keys().next().value!);
  };

  async function writeUses(): Promise<void> {
    const uses = [...pending];
    pending.clear();
    for (const [keyId, at] of uses) {
      try {
        await options.recordUse?.(keyId, new Date(at));
      } catch (error) {
        log('recording an API key use failed', { keyId, error: String(error) });
      }
    }
  }

  return {
    get(hash, now) {
      const entry = entries.get(hash);
      if (entry && entry.expires > now) return entry.auth;
      if (entry) entries.delete(hash);
      return undefined;
    },
    set(hash, auth, now) {
      if (revoked.has(auth.keyId)) return;
      bounded(entries, hash);
      entries.set(hash, { auth, expires: now + ttlMs });
    },
    revoke(keyId) {
      bounded(revoked, keyId);
      revoked.add(keyId);
      for (const [hash, entry] of entries) if (entry.auth.keyId === keyId) entries.delete(hash);
      const ends = holders.get(keyId);
      holders.delete(keyId);
      for (const end of ends ?? []) {
        try {
          end();
        } catch (error) {
          log('closing what a revoked key opened failed', { keyId, error: String(error) });
        }
      }
    },
    isRevoked: (keyId) => revoked.has(keyId),
    clear() {
      entries.clear();
      organizations.clear();
    },
    organization(id, now) {
      const entry = organizations.get(id);
      if (entry && entry.expires > now) return entry.organization;
      if (entry) organizations.delete(id);
      return undefined;
    },
    setOrganization(organization, now) {
      bounded(organizations, organization.id);
      organizations.set(organization.id, { organization, expires: now + ttlMs });
    },
    forgetOrganization: (id) => void organizations.delete(id),
    hold(keyId, end) {
      if (revoked.has(keyId)) {
        end();
        return () => {};
      }
      let ends = holders.get(keyId);
      if (!ends) holders.set(keyId, (ends = new Set()));
      ends.add(end);
      return () => {
        ends.delete(end);
        if (ends.size === 0 && holders.get(keyId) === ends) holders.delete(keyId);
      };
    },
    used(keyId, now) {
      const last = written.get(keyId);
      if (last !== undefined && now - last < useIntervalMs) return;
      bounded(written, keyId);
      written.set(keyId, now);
      const first = pending.size === 0;
      pending.set(keyId, now);
      if (first) writing = writing.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(writeUses);
    },
    idle: () => writing,
  };
}
