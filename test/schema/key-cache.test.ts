// The cache of API keys found recently: hits within the time to live, bounded in size.
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
