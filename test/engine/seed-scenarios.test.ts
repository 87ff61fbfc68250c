// The seed's four scenarios and its nested tree, on the real engine with real http nodes against a
// loopback server. Parallelism is asserted by the server seeing the calls in flight together.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWorkflow, createEngine, createMemoryStore, type WorkflowDefinitionInput } from '../../src/engine/index.js';
import { startSlowServer, type SlowServer } from '../helpers/slow-server.js';

let server: SlowServer;
beforeAll(async () => {
  server = await startSlowServer();
});
afterAll(() => server.close());

/** One of the seed's example workflows, pointed at the test server. */
function example(name: string, patch: Partial<WorkflowDefinitionInput> = {}): WorkflowDefinitionInput {
  const text = readFileSync(new URL(`../../examples/${name}.json`, import.meta.url), 'utf8');
  return { ...JSON.parse(text.replaceAll('http://127.0.0.1:9000', server.url)), ...patch };
}

async function run(definition: WorkflowDefinitionInput, input: unknown = {}) {
  const store = createMemoryStore();
  const engine = createEngine({ store, allowPrivateNetwork: true });
  const runId = `run-${Math.random()}`;
  const final = await engine.startRun({ runId, graph: compileWorkflow(definition, engine.registry), input }).done;
  const stored = store.get(runId)!;
  return { final, step: (id: string) => stored.steps.get(id)! };
}

describe("the seed's scenarios", () => {
  it('starts three parallel calls together', async () => {
    const { final } = await run(example('simple-parallel'));
    expect(final.status).toBe('SUCCEEDED');
    expect(server.overlapped(['http1', 'http2', 'http3'])).toBe(true);
  });

  it('runs five 200 ms branches at the same time, not one after another', async () => {
    const { final, step } = await run(example('five-branches'));
    expect(final.status).toBe('SUCCEEDED');
    expect(server.overlapped(['http1', 'http2', 'http3', 'http4', 'http5'])).toBe(true);
    expect(step('http3').output).toMatchObject({ status: 200, body: { tag: 'http3', ms: 200 } });
  });

  it('lets the other branches finish when one of three fails (CONTINUE)', async () => {
    const definition = example('simple-parallel', { settings: { errorStrategy: 'CONTINUE' } });
    definition.nodes[2]!.params = { url: `${server.url}/status?code=500&tag=broken` };
    const { final, step } = await run(definition);
    expect(final).toMatchObject({ status: 'FAILED', error: expect.stringContaining('node "http2" failed') });
    expect(step('http1').status).toBe('SUCCEEDED');
    expect(step('http3').status).toBe('SUCCEEDED');
    expect(step('http2').error).toContain('500');
  });

  it('aborts the in-flight siblings when one of three fails (FAIL_FAST)', async () => {
    const definition = example('simple-parallel');
    for (const node of definition.nodes.slice(1)) node.params = { url: `${server.url}/slow?ms=5000&tag=ff-${node.id}` };
    definition.nodes[2]!.params = { url: `${server.url}/status?code=500&tag=ff-broken` };
    const { final, step } = await run(definition);
    expect(final.status).toBe('FAILED');
    for (const sibling of ['http1', 'http3']) {
      expect(step(sibling)).toMatchObject({ status: 'CANCELLED', reason: 'cancelled: node "http2" failed' });
    }
    // The siblings' requests that reached the target (at least one did: they start with http2) were all
    // cut off, none answered.
    const siblings = () => server.requests.filter((r) => r.tag === 'ff-http1' || r.tag === 'ff-http3');
    await expect
      .poll(() => ({
        sent: siblings().length > 0,
        stillOpen: siblings().filter((r) => !r.aborted).length,
        answered: siblings().filter((r) => r.status !== null).length,
      }))
      .toEqual({ sent: true, stillOpen: 0, answered: 0 });
  });

  it('runs only the side a condition chose, its two calls in parallel', async () => {
    const { final, step } = await run(example('conditional-parallel'), { approved: true });
    expect(final.status).toBe('SUCCEEDED');
    expect(step('http3')).toMatchObject({ status: 'SKIPPED', reason: 'condition "condition" chose "true"' });
    const [one, two] = [step('http1'), step('http2')];
    expect(one.status).toBe('SUCCEEDED');
    expect(two.status).toBe('SUCCEEDED');
    expect(one.startedAt!.getTime()).toBeLessThan(two.finishedAt!.getTime());
    expect(two.startedAt!.getTime()).toBeLessThan(one.finishedAt!.getTime());
  });

  it('runs the nested tree Trigger → [A → [S1, S2], B → [S3, S4], C → S5]', async () => {
    const { final, step } = await run(example('complex-tree'));
    expect(final.status).toBe('SUCCEEDED');
    expect(server.overlapped(['branchA', 'branchB', 'branchC'])).toBe(true);
    expect(server.overlapped(['sub1', 'sub2', 'sub3', 'sub4', 'sub5'])).toBe(true);
    for (const [parent, child] of [['branchA', 'sub1'], ['branchA', 'sub2'], ['branchB', 'sub3'], ['branchC', 'sub5']] as const) {
      expect(step(child).startedAt!.getTime()).toBeGreaterThanOrEqual(step(parent).finishedAt!.getTime());
    }
    expect(step('sub1').branch).toBe('main/branchA/sub1');
    expect(step('sub5').branch).toBe('main/branchC');
  });

  it('joins two calls with a merge (ALL) and transforms both', async () => {
    const { final, step } = await run(example('fan-in-merge'));
    expect(final.status).toBe('SUCCEEDED');
    expect(step('summary').output).toEqual({ users: { tag: 'users', ms: 150 }, orders: { tag: 'orders', ms: 80 } });
    expect(step('merge').branch).toBe('main');
  });
});
