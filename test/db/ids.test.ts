// Row ids: the prefix, 128 random bits in base64url, never the same twice (also across refills of the random pool).
import { expect, it } from 'vitest';
import { newId } from '../../src/db/queries/ids.js';

it('gives distinct ids of the prefix and 22 base64url characters, across many refills of its pool', () => {
  const ids = Array.from({ length: 2000 }, () => newId('run'));
  for (const id of ids) expect(id).toMatch(/^run_[A-Za-z0-9_-]{22}$/);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids.map((id) => id.slice(4, 8))).size).toBeGreaterThan(1900);
});
