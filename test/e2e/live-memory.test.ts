// What an idle live subscription keeps: once its group serves it, not its operation's context (the
// per-operation state yoga, envelop and Pothos build: Pothos's auth cache stands for it here, one per
// context that was authorized), only its member. Counted in this process's heap after a full garbage
// collection (through the inspector: no --expose-gc needed). And a member that fails is seen by its
// client as yoga masks an unexpected error, though yoga's own hooks no longer wrap a group's stream.
import { Session } from 'node:inspector/promises';
import { RequestCache } from '@pothos/plugin-scope-auth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { runEvents } from '../../src/db/schema.js';
import { createMember } from '../../src/schema/live-member.js';
import { contiguous, createWorkflow, startRun, watchRun } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;
let workflowId: string;
const session = new Session();

beforeAll(async () => {
  t = await startTestServer();
  key = (await t.createOrganization()).adminKey;
  workflowId = await createWorkflow(t, key, {
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'gate', type: 'http', params: { url: `${t.slow.url}/hold?tag={{ $run.id }}` } },
    ],
    edges: [{ source: 't', target: 'gate' }],
  });
  session.connect();
});

afterAll(async () => {
  session.disconnect();
  await t?.close();
});

/** Instances of `prototype`'s class alive in this process after a full collection. */
async function alive(prototype: object): Promise<number> {
  const probe = '__liveMemoryProbe';
  (globalThis as Record<string, unknown>)[probe] = prototype;
  try {
    await session.post('HeapProfiler.collectGarbage');
    const { result } = await session.post('Runtime.evaluate', { expression: `globalThis.${probe}`, objectGroup: probe });
    const { objects } = (await session.post('Runtime.queryObjects', { prototypeObjectId: result.objectId!, objectGroup: probe })) as unknown as {
      objects: { objectId: string };
    };
    const counted = (await session.post('Runtime.callFunctionOn', {
      objectId: objects.objectId,
      functionDeclaration: 'function () { return this.length; }',
      returnByValue: true,
    })) as unknown as { result: { value: number } };
    return counted.result.value;
  } finally {
    // The query's array holds what it found: let it go before the next count.
    await session.post('Runtime.releaseObjectGroup', { objectGroup: probe });
    delete (globalThis as Record<string, unknown>)[probe];
  }
}

/** A run of the workflow, waiting at its gate (its http node's request held by the slow server). */
async function waitingRun(): Promise<string> {
  const runId = await startRun(t, key, workflowId);
  await t.slow.waitForRequest((request) => request.tag === runId);
  return runId;
}

it('idle subscriptions of one group keep one operation context between them, and none once they completed', async () => {
  const runId = await waitingRun();
  const before = await alive(RequestCache.prototype);

  const client = t.wsClient(key);
  const feeds = Array.from({ length: 20 }, () => watchRun(t, client, runId));
  // Every subscription replayed up to the gate and is live, idle.
  await Promise.all(feeds.map((feed) => feed.until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'gate')));
  const idle = await alive(RequestCache.prototype);
  // The group renders with one member's context; the other 19 let theirs go.
  expect(idle - before).toBeGreaterThanOrEqual(0);
  expect(idle - before).toBeLessThanOrEqual(1);

  t.slow.release(runId);
  const received = await Promise.all(feeds.map((feed) => feed.done));
  for (const events of received) {
    expect(contiguous(events)).toBe(true);
    expect(events.at(-1)?.type).toBe('RUN_SUCCEEDED');
  }
  // The group closed with its last member: its context went too.
  expect(await alive(RequestCache.prototype)).toBeLessThanOrEqual(before);
});

/** The prototype of live members (one is made and dropped to find it). */
function memberPrototype(): object {
  const share = { render: () => ({ result: {}, payload: () => '{}' }), maxQueue: 1, onTooSlow: () => {}, leave: () => {} };
  return Object.getPrototypeOf(createMember(share, { write: () => {}, ready: () => true, whenReady: () => {} })) as object;
}

it('subscribers that complete while idle leave their group at once; the others get every event', async () => {
  const runId = await waitingRun();
  const members = memberPrototype();
  const before = await alive(members);

  const client = t.wsClient(key);
  const feeds = Array.from({ length: 10 }, () => watchRun(t, client, runId));
  await Promise.all(feeds.map((feed) => feed.until((e) => e.type === 'NODE_STARTED' && e.nodeId === 'gate')));
  expect(await alive(members)).toBe(before + 10);

  for (const feed of feeds.slice(0, 4)) feed.dispose();
  // graphql-ws handles a socket's messages in order: once this answer is back, the completes were handled.
  await watchRun(t, client, 'run_unknown').done.catch(() => {});
  expect(await alive(members)).toBe(before + 6);

  t.slow.release(runId);
  const received = await Promise.all(feeds.slice(4).map((feed) => feed.done));
  for (const events of received) {
    expect(contiguous(events)).toBe(true);
    expect(events.at(-1)?.type).toBe('RUN_SUCCEEDED');
  }
  expect(await alive(members)).toBe(before);
});

it("a member whose replay fails ends with yoga's masked error; the message stays in the server", async () => {
  const runId = await waitingRun();
  // The store fails the replay's read of this run's events (and only it); everything else reads as usual.
  const database = t.server.services.database as { db: Database['db'] };
  const db = database.db;
  const failing = new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'select') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        const query = (db.select as (...a: unknown[]) => { from(table: unknown): unknown })(...args);
        return new Proxy(query, {
          get(q, name, r) {
            const member = Reflect.get(q, name, r) as unknown;
            if (name !== 'from' || typeof member !== 'function') return member;
            return (table: unknown) => {
              if (table === runEvents) throw new Error('store unreachable: secret detail 42');
              return member.call(q, table);
            };
          },
        });
      };
    },
  });
  database.db = failing;
  try {
    const feed = watchRun(t, t.wsClient(key), runId);
    const error = await feed.done.then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(JSON.stringify(error)).toContain('Unexpected error.');
    expect(JSON.stringify(error)).not.toContain('secret detail');
  } finally {
    database.db = db;
    t.slow.release(runId);
  }
});
