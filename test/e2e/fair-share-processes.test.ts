// An organization's run limit across two server processes on one PostgreSQL: together they never run
// more than the limit, and when the process holding slots is SIGKILLed its slots come back when its
// leases expire, the waiting runs starting on the survivor within RUN_LEASE_MS + 2 s. Only with
// DATABASE_URL: PGlite has one process.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { startChildServer, useChildStorage } from '../helpers/child-server.js';
import { createOrganization, createWorkflow, startRun, waitForFinal, within } from '../helpers/child-runs.js';
import { startGateTarget } from '../helpers/gate-target.js';

const leaseMs = 2000;
const env = { RUN_LEASE_MS: String(leaseMs), SHUTDOWN_GRACE_MS: '1000' };

describe.skipIf(!process.env.DATABASE_URL)('run limits across processes (PostgreSQL)', () => {
  const shared = useChildStorage(startGateTarget);

  it('holds across both processes, and a killed holder gives its slots back', { timeout: 90_000 }, async () => {
    const servers = await Promise.all([0, 1].map(() => startChildServer({ env: { ...shared.storage.env, ...env } })));
    const [first, second] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const key = await createOrganization(first, 'limited across processes');
    const limited = await first.request(
      `mutation { updateOrganizationLimits(input: { maxConcurrentRuns: 2 }) {
        __typename ... on Organization { limits { maxConcurrentRuns } } } }`,
      {},
      key,
    );
    expect(limited.data?.updateOrganizationLimits).toEqual({ __typename: 'Organization', limits: { maxConcurrentRuns: 2 } });
    const workflowId = await createWorkflow(first, key, 'gated', {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'call', type: 'http', params: { url: `${shared.target.url}/?group=mp&tag={{ $run.input.tag }}` }, timeoutMs: 60_000 },
      ],
      edges: [{ source: 'start', target: 'call' }],
    });
    // Each process's id (runs.owner): a probe run of an organization without limits, started on it, runs there.
    const probeKey = await createOrganization(first, 'probes');
    const probeWorkflow = await createWorkflow(first, probeKey, 'probe', {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'call', type: 'http', params: { url: `${shared.target.url}/?group=probe&tag={{ $run.input.tag }}` } },
      ],
      edges: [{ source: 'start', target: 'call' }],
    });
    const processIds: string[] = [];
    for (const [i, server] of servers.entries()) {
      const probe = await startRun(server, probeKey, probeWorkflow, { input: { tag: `probe${i}` } });
      const [row] = await shared.storage.database!.rows<{ owner: string }>(sql`select owner from runs where id = ${probe}`);
      processIds.push(row!.owner);
      shared.target.release(`probe${i}`);
    }
    expect(new Set(processIds).size).toBe(2);

    const tags = Array.from({ length: 8 }, (_, i) => `m${i}`);
    const ids: string[] = [];
    // Started alternately on both processes: each could take every one of them.
    for (const [i, tag] of tags.entries()) ids.push(await startRun(servers[i % 2]!, key, workflowId, { input: { tag } }));
    await shared.target.until(() => shared.target.inFlight('mp') === 2, 'two runs in flight');
    await expect
      .poll(
        async () => {
          const waiting = await second.request<{ runs: { edges: { node: { waitingFor: string | null } }[] } }>(
            'query { runs(status: QUEUED, first: 20) { edges { node { waitingFor } } } }',
            {},
            key,
          );
          return waiting.data?.runs.edges.map(({ node }) => node.waitingFor);
        },
        { timeout: 10_000, interval: 100 },
      )
      .toEqual(Array(6).fill('organization limit of 2 running runs'));

    // Two releases, each letting exactly one more run start (on either process).
    for (const [i, tag] of tags.slice(0, 2).entries()) {
      shared.target.release(tag);
      await shared.target.until(() => shared.target.arrived('mp').length === i + 3 && shared.target.inFlight('mp') === 2, `run ${i + 3} in flight`);
    }

    // Kill a process that holds a slot: its runs' leases lapse and the survivor fills the slots again.
    const [holder] = await shared.storage.database!.rows<{ owner: string }>(
      sql`select owner from runs where status = 'RUNNING' and owner is not null order by created_at limit 1`,
    );
    const victim = processIds[0] === holder?.owner ? first : second;
    expect([processIds[0], processIds[1]]).toContain(holder?.owner);
    const survivor = victim === first ? second : first;
    const killedAt = performance.now();
    victim.kill('SIGKILL');
    await victim.exited;
    await shared.target.until(() => shared.target.inFlight('mp') < 2, 'the victim’s requests closed', 5000);
    await shared.target.until(() => shared.target.inFlight('mp') === 2, 'the survivor running two again', leaseMs + 2000 + 1000);
    expect(performance.now() - killedAt).toBeLessThan(leaseMs + 2000);

    for (const tag of tags.slice(2)) shared.target.release(tag);
    const finished = await within(waitForFinal(survivor, key, ids, 30_000), 35_000, 'every run final');
    expect(finished.map((run) => run.status)).toEqual(Array(8).fill('SUCCEEDED'));
    expect(shared.target.maxInFlight('mp')).toBe(2);
  });
});

