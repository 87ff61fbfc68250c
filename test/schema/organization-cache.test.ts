// The organizations the key cache keeps: read once per time to live, forgotten on request or with the
// keys, bounded in size like them.
import { expect, it } from 'vitest';
import { createKeyCache } from '../../src/schema/auth.js';

const organization = (id: string) => ({
  id,
  name: `name of ${id}`,
  createdAt: new Date(0),
  maxConcurrentRuns: null,
  maxRunningNodes: null,
});

it('serves an organization until its time to live runs out', () => {
  const keys = createKeyCache({ ttlMs: 1000, max: 10 });
  keys.setOrganization(organization('o1'), 0);
  expect(keys.organization('o1', 999)).toEqual(organization('o1'));
  expect(keys.organization('o1', 1000)).toBeUndefined();
  expect(keys.organization('o2', 0)).toBeUndefined();
});

it('forgets an organization on request, and every one when the keys are cleared', () => {
  const keys = createKeyCache({ ttlMs: 60_000, max: 10 });
  keys.setOrganization(organization('o1'), 0);
  keys.setOrganization(organization('o2'), 0);
  keys.forgetOrganization('o1');
  expect(keys.organization('o1', 1)).toBeUndefined();
  expect(keys.organization('o2', 1)).toEqual(organization('o2'));
  keys.clear();
  expect(keys.organization('o2', 1)).toBeUndefined();
});

it('keeps at most max organizations, forgetting the oldest', () => {
  const keys = createKeyCache({ ttlMs: 60_000, max: 2 });
  for (const id of ['o1', 'o2', 'o3']) keys.setOrganization(organization(id), 0);
  expect(keys.organization('o1', 1)).toBeUndefined();
  expect(keys.organization('o3', 1)).toEqual(organization('o3'));
});
