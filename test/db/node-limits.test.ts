// The maxRunningNodes cache against a real database: unknown until first read (then the engine is told),
// read again once stale (the old value serving meanwhile) or when invalidated, many organizations in
// one statement, an organization that does not exist read as unlimited.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeLimitCache } from '../../src/db/queries/node-limits.js';
import { organizations } from '../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(organizations).values([
    { id: 'org_a', name: 'a', maxRunningNodes: 4 },
    { id: 'org_b', name: 'b' },
  ]);
});
afterAll(async () => {
  await database?.close();
});

const setLimit = (id: string, value: number | null) =>
  database.db.update(organizations).set({ maxRunningNodes: value }).where(eq(organizations.id, id));

/** A cache on a clock the test moves, with the organizations it was told about. */
function cache(ttlMs = 1000) {
  let time = 0;
  const told: string[] = [];
  const limits = createNodeLimitCache(database.db, { ttlMs, now: () => time });
  limits.onChange((id) => told.push(id));
  return {
    limits,
    told,
    advance: (ms: number) => (time += ms),
    /** Resolves once `count` changes were told. */
    async toldAtLeast(count: number) {
      for (let i = 0; told.length < count; i++) {
        if (i > 500) throw new Error(`told ${JSON.stringify(told)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

describe('maxRunningNodes cache', () => {
  it('is unknown until read, then tells each organization once it is known', async () => {
    const c = cache();
    expect(c.limits.limitOf('org_a')).toBeUndefined();
    expect(c.limits.limitOf('org_b')).toBeUndefined();
    expect(c.limits.limitOf('org_missing')).toBeUndefined();
    // org_missing: read as null, which differs from "unknown", so it is told too.
    await c.toldAtLeast(3);
    expect(c.told.sort()).toEqual(['org_a', 'org_b', 'org_missing']);
    expect(c.limits.limitOf('org_a')).toBe(4);
    expect(c.limits.limitOf('org_b')).toBeNull();
    expect(c.limits.limitOf('org_missing')).toBeNull();
  });

  it('serves the cached value until it is stale, then reads again and tells the change', async () => {
    const c = cache(1000);
    c.limits.limitOf('org_a');
    await c.toldAtLeast(1);
    await setLimit('org_a', 2);
    c.advance(999);
    expect(c.limits.limitOf('org_a')).toBe(4);
    c.advance(1);
    expect(c.limits.limitOf('org_a')).toBe(4); // the stale value serves while it is read again
    await c.toldAtLeast(2);
    expect(c.limits.limitOf('org_a')).toBe(2);
    await setLimit('org_a', 4);
  });

  it('reads again at once when invalidated', async () => {
    const c = cache(60_000);
    c.limits.limitOf('org_b');
    await c.toldAtLeast(1);
    await setLimit('org_b', 7);
    expect(c.limits.limitOf('org_b')).toBeNull();
    c.limits.invalidate('org_b');
    await c.toldAtLeast(2);
    expect(c.limits.limitOf('org_b')).toBe(7);
    await setLimit('org_b', null);
  });
});
