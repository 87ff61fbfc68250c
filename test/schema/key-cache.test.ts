// The API keys a process knows of: hits within the time to live, bounded in size; revocations forgotten at
// once with what they hold ended; uses written at most once per interval, off the caller's path.
import { expect, it } from 'vitest';
import { createKeyCache } from '../../src/schema/auth.js';

const auth = (keyId: string) => ({ organizationId: 'org', keyId, role: 'ADMIN' as const });

it('serves a found key until its time to live runs out', () => {
  const keys = createKeyCache({ ttlMs: 1000, max: 10 });
  keys.set('h1', auth('k1'), 0);
  expect(keys.get('h1', 999)).toEqual(auth('k1'));
  expect(keys.get('h1', 1000)).toBeUndefined();
  expect(keys.get('h2', 0)).toBeUndefined();
});

it('forgets the oldest key past its size', () => {
  const keys = createKeyCache({ ttlMs: 1000, max: 2 });
  keys.set('h1', auth('k1'), 0);
  keys.set('h2', auth('k2'), 0);
  keys.set('h3', auth('k3'), 0);
  expect(keys.get('h1', 1)).toBeUndefined();
  expect(keys.get('h3', 1)).toEqual(auth('k3'));
});

it('forgets a revoked key at once, and keeps no lookup that raced the revocation', () => {
  const keys = createKeyCache({ ttlMs: 60_000, max: 10 });
  keys.set('h1', auth('k1'), 0);
  keys.set('h2', auth('k2'), 0);
  keys.revoke('k1');
  expect(keys.get('h1', 1)).toBeUndefined();
  expect(keys.isRevoked('k1')).toBe(true);
  // A lookup that read the key before the revocation committed must not bring it back.
  keys.set('h1', auth('k1'), 2);
  expect(keys.get('h1', 3)).toBeUndefined();
  expect(keys.get('h2', 3)).toEqual(auth('k2'));
  keys.clear();
  expect(keys.get('h2', 3)).toBeUndefined();
});

it("ends what a key holds when it is revoked, and only that key's", () => {
  const keys = createKeyCache();
  const ended: string[] = [];
  keys.hold('k1', () => ended.push('socket 1'));
  const release = keys.hold('k1', () => ended.push('stream 1'));
  keys.hold('k2', () => ended.push('socket 2'));
  release();
  keys.revoke('k1');
  expect(ended).toEqual(['socket 1']);
  keys.revoke('k1');
  expect(ended).toEqual(['socket 1']);
  // Opened with a key revoked meanwhile: ended at once.
  keys.hold('k1', () => ended.push('late socket'));
  expect(ended).toEqual(['socket 1', 'late socket']);
});

it('writes a key use at most once per interval, after the call returns', async () => {
  const written: [string, number][] = [];
  const keys = createKeyCache({ useIntervalMs: 60_000, recordUse: async (keyId, at) => void written.push([keyId, at.getTime()]) });
  keys.used('k1', 1000);
  expect(written).toEqual([]);
  keys.used('k1', 2000);
  keys.used('k2', 3000);
  await keys.idle();
  expect(written).toEqual([
    ['k1', 1000],
    ['k2', 3000],
  ]);
  keys.used('k1', 60_999);
  await keys.idle();
  expect(written).toHaveLength(2);
  keys.used('k1', 61_000);
  await keys.idle();
  expect(written.at(-1)).toEqual(['k1', 61_000]);
});

it('logs a failed use write and goes on', async () => {
  const logged: string[] = [];
  const keys = createKeyCache({
    recordUse: async () => {
      throw new Error('database down');
    },
    log: (message) => logged.push(message),
  });
  keys.used('k1', 0);
  await keys.idle();
  expect(logged).toEqual(['recording an API key use failed']);
});
