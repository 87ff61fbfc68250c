// schema.graphql is what SDK generation reads: it must be the schema the code builds, byte for byte.
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { printSortedSchema } from '../../src/schema/index.js';

it('schema.graphql matches the schema built from the code (run `npm run schema:print`)', async () => {
  const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
  expect(committed).toBe(printSortedSchema());
});
