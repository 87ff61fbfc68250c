// A run whose process died while it was RUNNING, held back by a run limit when it could be taken over:
// it stays RUNNING (it started; its steps and events stand), and Run.waitingFor names the limit instead
// of null, so nobody mistakes it for a run that moves. It is taken over as soon as a slot frees, in
// priority order with the runs that wait QUEUED. The real server as a child process, SIGKILLed and
// started again on the same data (PGlite directory, or the PostgreSQL database with DATABASE_URL).
import { describe, expect, it } from 'vitest';
import { type ChildServer, startChildServer, useChildStorage } from '../helpers/child-server.js';
import { createOrganization, createWorkflow, readEvents, waitForFinal, within } from '../helpers/child-runs.js';
import { startGateTarget } from '../helpers/gate-target.js';

interface Seen {
  status: string;
  waitingFor: string | null;
}

describe('an orphaned run that a run limit holds back', () => {
  const shared = useChildStorage(startGateTarget);

  it('stays RUNNING saying which limit holds it, and is taken over as soon as a slot frees', { timeout: 120_000 }, async () => {
    // PGlite: a restarted process knows every other owner is dead, so a lease far longer than the test's
    // patience must not delay the take-over. PostgreSQL: a dead owner is known only by its lapsed lease.
    const leaseMs = shared.storage.driver === 'pglite' ? 120_000 : 2000;
    const env = { ...shared.storage.env, RUN_LEASE_MS: String(leaseMs), SHUTDOWN_GRACE_MS: '1000' };
    const first = await startChildServer({ env });
    const key = await createOrganization(first, 'orphans held');
    const limited = await first.request(
      'mutation { updateOrganizationLimits(input: { maxConcurrentRuns: 2 }) { __typename } }',
      {},
      key,
    );
    expect(limited.data?.updateOrganizationLimits.__typename).toBe('Organization');
    const workflowId = await createWorkflow(first, key, 'gated', {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'call', type: 'http', params: { url: `${shared.target.url}/?group=held&tag={{ $run.input.tag }}` }, timeoutMs: 100_000 },
      ],
      edges: [{ source: 'start', target: 'call' }],
    });
    const start = async (server: ChildServer, tag: string, priority = 0) => {
      const result = await server.request(
        `mutation ($w: ID!, $input: JSON, $p: Int) { startRun(workflowId: $w, input: $input, priority: $p) {
          __typename ... on Run { id } ... on Error { message } } }`,
        { w: workflowId, input: { tag }, p: priority },
        key,
      );
      const id = result.data?.startRun.id as string | undefined;
      if (!id) throw new Error(`startRun ${tag}: ${JSON.stringify(result)}`);
      return id;
    };
    const ids = new Map<string, string>();
    for (const tag of ['a0', 'a1']) ids.set(tag, await start(first, tag));
    await shared.target.until(() => shared.target.inFlight('held') === 2, 'a0 and a1 in flight');
    // Waiting when the process dies: one of higher priority, one started after a1.
    ids.set('x', await start(first, 'x', 5));
    ids.set('q', await start(first, 'q'));

    const read = async (server: ChildServer): Promise<Record<string, Seen>> => {
      const result = await server.request<{ runs: { edges: { node: Seen & { input: { tag: string } } }[] } }>(
        'query { runs(first: 20) { edges { node { status waitingFor input } } } }',
        {},
        key,
      );
      if (!result.data) throw new Error(`runs: ${JSON.stringify(result)}`);
      return Object.fromEntries(result.data.runs.edges.map(({ node }) => [node.input.tag, { status: node.status, waitingFor: node.waitingFor }]));
    };
    const held = 'organization limit of 2 running runs';
    expect(await read(first)).toEqual({
      a0: { status: 'RUNNING', waitingFor: null },
      a1: { status: 'RUNNING', waitingFor: null },
      x: { status: 'QUEUED', waitingFor: held },
      q: { status: 'QUEUED', waitingFor: held },
    });

    first.kill('SIGKILL');
    await first.exited;
    await shared.target.until(() => shared.target.inFlight('held') === 0, 'the killed process’s requests closed', 5000);

    // The next process takes the two slots in priority order: x (priority 5), then a0 (the oldest).
    const second = await startChildServer({ env });
    // PGlite: at once, whatever the dead owner's leases say; PostgreSQL: once they lapse.
    await shared.target.until(() => shared.target.inFlight('held') === 2, 'two runs in flight again', (shared.storage.driver === 'pglite' ? 0 : leaseMs) + 15_000);
    expect(shared.target.arrived('held').slice(2).sort()).toEqual(['a0', 'x']);
    // a1 stays RUNNING (it started, and its events say so), but says what it waits for; q waits too.
    await expect
      .poll(() => read(second), { timeout: 5000, interval: 100 })
      .toEqual({
        a0: { status: 'RUNNING', waitingFor: null },
        a1: { status: 'RUNNING', waitingFor: held },
        x: { status: 'RUNNING', waitingFor: null },
        q: { status: 'QUEUED', waitingFor: held },
      });

    // A slot frees: a1 goes first (same priority as q, started before it), long before any lease lapses.
    shared.target.release('x');
    await shared.target.until(() => shared.target.arrived('held').length === 5, 'a1 taken over', 5000);
    expect(shared.target.arrived('held')[4]).toBe('a1');
    expect(shared.target.inFlight('held')).toBe(2);
    expect((await read(second)).a1).toEqual({ status: 'RUNNING', waitingFor: null });

    shared.target.release('a0');
    await shared.target.until(() => shared.target.arrived('held').length === 6, 'q started', 5000);
    expect(shared.target.arrived('held')[5]).toBe('q');
    for (const tag of ['a1', 'q']) shared.target.release(tag);
    const finished = await within(waitForFinal(second, key, [...ids.values()], 30_000), 35_000, 'every run final');
    expect(finished.map((run) => run.status)).toEqual(Array(4).fill('SUCCEEDED'));
    expect(shared.target.maxInFlight('held')).toBe(2);
    const events = await readEvents(second, key, ids.get('a1')!);
    expect(events.filter((event) => event.type === 'RUN_RESUMED')).toHaveLength(1);
  });
});
