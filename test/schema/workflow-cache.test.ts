// startRun's workflow reads: kept in memory on PGlite (one process owns the database) until the
// workflow changes, a read racing a change kept by nobody; read every time on PostgreSQL.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { updateWorkflow } from '../../src/db/queries/workflows.js';
import { currentWorkflow, workflowChanged } from '../../src/schema/workflow-cache.js';
import { createTestDatabase, insertRun, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
/** Workflow reads of the last `reads()` window. */
let counted: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await insertRun(database, 'run_cache'); // organization org_test, workflow wf_test version 1
  const client = database.client as unknown as Record<string, (...args: unknown[]) => unknown>;
  const name = database.driver === 'pglite' ? 'query' : 'unsafe';
  const original = client[name]!;
  client[name] = function (this: unknown, ...args: unknown[]) {
    if (/from "workflows"/.test(String(args[0]))) counted.push(String(args[0]));
    return original.apply(this, args);
  };
});

afterAll(async () => {
  await database?.close();
});

const reads = async (body: () => Promise<unknown>) => {
  counted = [];
  await body();
  return counted.length;
};

const cached = () => (database.driver === 'pglite' ? 0 : 1);

it('reads a workflow once, then answers from memory (PGlite) or reads it again (PostgreSQL)', async () => {
  expect(await reads(() => currentWorkflow(database, 'org_test', 'wf_test'))).toBe(1);
  expect(await reads(() => currentWorkflow(database, 'org_test', 'wf_test'))).toBe(cached());
  expect(await currentWorkflow(database, 'org_other', 'wf_test')).toBeNull();
});

it('reads the new version after a change', async () => {
  await currentWorkflow(database, 'org_test', 'wf_test');
  workflowChanged(database, 'org_test', 'wf_test');
  await updateWorkflow(database.db, 'org_test', 'wf_test', { definition: { nodes: [], edges: [] } });
  workflowChanged(database, 'org_test', 'wf_test');
  expect((await currentWorkflow(database, 'org_test', 'wf_test'))?.version).toBe(2);
  expect(await reads(() => currentWorkflow(database, 'org_test', 'wf_test'))).toBe(cached());
});

it('keeps nothing a read got while the workflow changed', async () => {
  workflowChanged(database, 'org_test', 'wf_test');
  const racing = currentWorkflow(database, 'org_test', 'wf_test');
  workflowChanged(database, 'org_test', 'wf_test');
  await racing;
  expect(await reads(() => currentWorkflow(database, 'org_test', 'wf_test'))).toBe(1);
});
