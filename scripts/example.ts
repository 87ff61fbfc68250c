// `npm run example -- <name>`: runs examples/<name>.json end to end. Starts the service the examples
// call, reaches Braid (BRAID_URL) or starts one in this process in dev mode, creates the workflow,
// starts a run, prints its dashboard page and serves until Ctrl-C.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExampleError, startBraid, type RunningBraid } from './example-braid.js';
import { startExamplesServer } from './examples-server.js';

const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));
/** Where the example files point their http nodes; rewritten to the service this command starts. */
const examplesTarget = 'http://127.0.0.1:9000';

async function knownExamples(): Promise<string[]> {
  return (await readdir(examplesDir)).filter((file) => file.endsWith('.json')).map((file) => file.slice(0, -5)).sort();
}

function parseArgs(args: string[]): { name: string | undefined; input: unknown } {
  let name: string | undefined;
  let input: unknown = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--input') {
      const text = args[++i] ?? '';
      try {
        input = JSON.parse(text);
      } catch {
        throw new ExampleError(`--input takes JSON, e.g. --input '{"approved":true}' (got ${JSON.stringify(text)})`);
      }
    } else if (name === undefined) name = arg;
    else throw new ExampleError(`unexpected argument ${JSON.stringify(arg)}; usage: npm run example -- <name> [--input <json>]`);
  }
  return { name, input };
}

async function graphql(braid: RunningBraid, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(braid.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${braid.apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors?.length) throw new ExampleError(`${braid.graphqlUrl} answered: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data;
}

async function main(): Promise<void> {
  const { name, input } = parseArgs(process.argv.slice(2));
  const known = await knownExamples();
  if (!name || !known.includes(name)) {
    const what = name ? `unknown example ${JSON.stringify(name)}` : 'name an example';
    throw new ExampleError(`${what}; known: ${known.join(', ')} (npm run example -- <name>)`);
  }
  const target = await startExamplesServer(Number(process.env.EXAMPLES_PORT || 0));
  const definition = JSON.parse(
    (await readFile(join(examplesDir, `${name}.json`), 'utf8')).replaceAll(examplesTarget, target.url),
  ) as unknown;
  const braid = await startBraid();

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void Promise.all([braid.stop(), target.close()]).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const created = (
    await graphql(
      braid,
      `mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) {
        __typename ... on Workflow { id } ... on ValidationError { message issues { path message } } ... on Error { message } } }`,
      { input: { name: `example: ${name}`, definition } },
    )
  ).createWorkflow;
  if (created.__typename !== 'Workflow') throw new ExampleError(`examples/${name}.json was refused: ${JSON.stringify(created)}`);
  const started = (
    await graphql(
      braid,
      `mutation ($id: ID!, $input: JSON) { startRun(workflowId: $id, input: $input) { __typename ... on Run { id } ... on Error { message } } }`,
      { id: created.id, input },
    )
  ).startRun;
  if (started.__typename !== 'Run') throw new ExampleError(`startRun refused: ${started.message}`);
  const runId = started.id as string;

  console.log(`example ${name}: workflow ${created.id}, run ${runId}`);
  console.log(`  dashboard: ${braid.baseUrl}/ui/runs/${runId}`);
  console.log(`  GraphiQL:  ${braid.graphqlUrl}  (Authorization: Bearer ${braid.apiKey})`);
  console.log(`  its http nodes call ${target.url}/slow`);
  console.log('Serving until Ctrl-C.');

  // Tell how the run ended, for a terminal without the page open.
  while (!stopping) {
    const run = (await graphql(braid, 'query ($id: ID!) { run(id: $id) { status durationMs error } }', { id: runId })).run;
    if (run && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) {
      console.log(`run ${runId}: ${run.status} in ${run.durationMs} ms${run.error ? ` (${run.error})` : ''}`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().catch((error: unknown) => {
  console.error(`braid example: ${error instanceof ExampleError ? error.message : error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
