// A page of runs selecting workflow, steps and branches costs the same few statements whatever its size:
// the fields of all its runs are read together. Statements are counted at the database driver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branches, runs, steps } from '../../src/db/schema.js';
import { createWorkflow } from '../helpers/operations.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countStatements } from '../helpers/statements.js';

let t: TestServer;
let key: string;
let organizationId: string;
const workflowIds: string[] = [];
const runCount = 10;

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + ms);

/** The statements that read runs and their parts (a PostgreSQL server's own lease polls left out). */
const reads = (texts: string[]) =>
  texts.filter((text) => /^\s*select/i.test(text) && !/for (no key )?update|skip locked|pg_stat_activity/i.test(text));

const Page = `query ($first: Int) {
  runs(first: $first) {
    edges { node { id workflow { id name } steps { nodeId status } branches { id path status nodeIds } } }
  }
}`;

interface PageResult {
  runs: {
    edges: {
      node: {
        id: string;
        workflow: { id: string; name: string };
        steps: { nodeId: string; status: string }[];
        branches: { id: string; status: string; nodeIds: string[] }[];
      };
    }[];
  };
}

beforeAll(async () => {
  t = await startTestServer();
  ({ adminKey: key, id: organizationId } = await t.createOrganization());
  const definition = {
    nodes: [
      { id: 't', type: 'trigger' },
      { id: 'a', type: 'delay', params: { ms: 1 } },
    ],
    edges: [{ source: 't', target: 'a' }],
  };
  for (const name of ['first', 'second']) workflowIds.push(await createWorkflow(t, key, { ...definition }, name));
  // Finished runs written as rows (nothing picks them up), each with its own steps and branches; the
  // odd ones keep a branch RUNNING whose later nodes only its steps name.
  for (let i = 0; i < runCount; i++) {
    const runId = `run_batching_${String(i).padStart(2, '0')}`;
    const running = i % 2 === 1;
    await t.database.db.insert(runs).values({
      id: runId, organizationId, workflowId: workflowIds[i % 2]!, workflowVersion: 1, status: 'CANCELLED',
      createdAt: at(i * 1000), startedAt: at(i * 1000 + 10), finishedAt: at(i * 1000 + 20),
    });
    await t.database.db.insert(steps).values([
      { runId, nodeId: 't', nodeType: 'trigger', status: 'SUCCEEDED', attempt: 1, branch: 'main', startedAt: at(i * 1000 + 10), finishedAt: at(i * 1000 + 11) },
      { runId, nodeId: `a${i}`, nodeType: 'delay', status: 'CANCELLED', attempt: 1, branch: 'main', startedAt: at(i * 1000 + 12), finishedAt: null },
    ]);
    await t.database.db.insert(branches).values({
      runId, id: 'main', status: running ? 'RUNNING' : 'CANCELLED', nodeIds: ['t'], startedAt: at(i * 1000 + 10),
      finishedAt: running ? null : at(i * 1000 + 20),
    });
  }
});

afterAll(async () => {
  await t?.close();
});

async function page(first: number): Promise<{ result: PageResult; statements: string[] }> {
  const counter = countStatements(t.database);
  try {
    const response = await t.request<PageResult, { first: number }>(Page, { first }, key);
    expect(response.errors).toBeUndefined();
    return { result: response.data!, statements: reads(counter.texts) };
  } finally {
    counter.stop();
  }
}

describe('a page of runs', () => {
  it('reads workflow, steps and branches of all its runs in a constant number of statements', async () => {
    await page(1); // the key's first use is looked up and recorded: not what is measured
    const small = await page(2);
    const large = await page(runCount);
    expect(large.result.runs.edges).toHaveLength(runCount);
    // The page itself, the workflows, and the steps with the branches.
    expect(large.statements.length, large.statements.join('\n')).toBe(small.statements.length);
    expect(large.statements.length, large.statements.join('\n')).toBeLessThanOrEqual(3);
  });

  it('gives each run its own workflow, steps and branches', async () => {
    const { result } = await page(runCount);
    const nodes = result.runs.edges.map((edge) => edge.node);
    expect(nodes.map((run) => run.id)).toEqual(
      Array.from({ length: runCount }, (_, i) => `run_batching_${String(runCount - 1 - i).padStart(2, '0')}`),
    );
    for (const run of nodes) {
      const i = Number(run.id.slice(-2));
      expect(run.workflow).toEqual({ id: workflowIds[i % 2], name: i % 2 ? 'second' : 'first' });
      expect(run.steps).toEqual([
        { nodeId: 't', status: 'SUCCEEDED' },
        { nodeId: `a${i}`, status: 'CANCELLED' },
      ]);
      // A RUNNING branch also lists the nodes its steps name; a finished one lists what it stored.
      expect(run.branches).toEqual([
        i % 2
          ? { id: `${run.id}/branch/main`, path: 'main', status: 'RUNNING', nodeIds: ['t', `a${i}`] }
          : { id: `${run.id}/branch/main`, path: 'main', status: 'CANCELLED', nodeIds: ['t'] },
      ]);
    }
  });
});
