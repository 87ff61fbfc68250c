// Prints the schema built from the code to schema.graphql (npm run schema:print); `--check` only compares.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printSortedSchema } from '../src/schema/index.js';

const file = fileURLToPath(new URL('../schema.graphql', import.meta.url));
const printed = printSortedSchema();

if (process.argv.includes('--check')) {
  const committed = await readFile(file, 'utf8').catch(() => '');
  if (committed !== printed) {
    console.error('schema.graphql differs from the schema in the code: run npm run schema:print');
    process.exitCode = 1;
  }
} else {
  await writeFile(file, printed);
  console.log(`wrote ${file}`);
}
