// Fenced group commits: a batch whose runs are all still held is written by one statement, with no
// transaction around it; a batch holding a run whose lease moved on writes the others and nothing of it.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readRunEvents, readSteps } from '../../src/db/run-reads.js';
import { createRunStore, LeaseLostError } from '../../src/db/run-store.js';
import { runs } from '../../src/db/schema.js';
import { createTestDatabase, insertRun, type TestDatabase } from '../helpers/db.js';
import { commit, event, step } from './commits.js';

let database: TestDatabase;
/** Transactions begun on the driver since the last reset. */
let transactions = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  for (const id of ['run_held', 'run_lost', 'run_held_2']) await insertRun(database, id);
  await database.db.update(runs).set({ epoch: 1 });
  const client = database.client as unknown as Record<string, (...args: unknown[]) => unknown>;
  const name = database.driver === 'pglite' ? 'transaction' : 'begin';
  const original = client[name]!;
  client[name] = function (this: unknown, ...args: unknown[]) {
    transactions++;
    return original.apply(this, args);
  };
});

afterAll(async () => {
  await database?.close();
});

const epochs = new Map([['run_held', 1], ['run_lost', 1], ['run_held_2', 1]]);
const store = () => createRunStore(database, { epochOf: (runId) => epochs.get(runId) });
const write = (runId: string, seq: number) => commit(runId, { events: [event(runId, seq)], steps: [step(`n${seq}`, { status: 'RUNNING' })] });

it('writes a batch of held runs in one statement, without a transaction', async () => {
  transactions = 0;
  const s = store();
  await Promise.all([s.commit(write('run_held', 1)), s.commit(write('run_held_2', 1))]);
  expect(transactions).toBe(0);
  expect(s.stats().transactions).toBe(1);
  expect((await readRunEvents(database, 'run_held', 0)).map((e) => e.seq)).toEqual([1]);
  expect((await readSteps(database, 'run_held_2')).map((e) => e.nodeId)).toEqual(['n1']);
});

it('writes nothing of a run whose epoch moved on, and the rest of its batch', async () => {
  await database.db.update(runs).set({ epoch: 2 }).where(eq(runs.id, 'run_lost'));
  transactions = 0;
  const s = store();
  const results = await Promise.allSettled([s.commit(write('run_held', 2)), s.commit(write('run_lost', 1))]);
  expect(results[0].status).toBe('fulfilled');
  expect(results[1].status === 'rejected' && results[1].reason).toBeInstanceOf(LeaseLostError);
  // The one statement wrote nothing; the transaction found the lost run and wrote the other.
  expect(transactions).toBe(1);
  expect((await readRunEvents(database, 'run_held', 0)).map((e) => e.seq)).toEqual([1, 2]);
  expect(await readRunEvents(database, 'run_lost', 0)).toEqual([]);
  expect(await readSteps(database, 'run_lost')).toEqual([]);
});
