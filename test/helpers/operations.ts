// Typed GraphQL documents the e2e tests share, and short helpers over them (create, start, watch a run).
import type { Client } from 'graphql-ws';
import { graphql } from '../gql/index.js';
import type { RunEventsSubscription, WorkflowDefinitionInput } from '../gql/graphql.js';
import type { Feed, TestServer } from './server.js';

export const CreateWorkflow = graphql(`
  mutation CreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) {
      __typename
      ... on Workflow { id name version definition createdAt }
      ... on ValidationError { message issues { path nodeId message } }
      ... on Error { message }
    }
  }
`);

export const StartRun = graphql(`
  mutation StartRun($workflowId: ID!, $input: JSON, $idempotencyKey: String) {
    startRun(workflowId: $workflowId, input: $input, idempotencyKey: $idempotencyKey) {
      __typename
      ... on Run { id status workflowVersion }
      ... on Error { message }
    }
  }
`);

export const CancelRun = graphql(`
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) {
      __typename
      ... on Run { id status error finishedAt steps { nodeId status reason } }
      ... on Error { message }
    }
  }
`);

export const GetRun = graphql(`
  query GetRun($id: ID!) {
    run(id: $id) {
      id
      status
      error
      output
      input
      workflowVersion
      workflow { id }
      createdAt
      startedAt
      finishedAt
      durationMs
      steps { id nodeId nodeType status attempt branch reason error input output startedAt finishedAt durationMs }
      branches { id path status nodeIds startedAt finishedAt }
    }
  }
`);

export const RunEvents = graphql(`
  subscription RunEvents($runId: ID!, $afterSeq: Int) {
    runEvents(runId: $runId, afterSeq: $afterSeq) { seq runId type at nodeId branch status attempt error reason }
  }
`);

export type RunEventItem = RunEventsSubscription['runEvents'];

/** Creates a workflow; throws unless it was created. */
export async function createWorkflow(
  t: TestServer,
  key: string,
  definition: WorkflowDefinitionInput,
  name = 'test workflow',
): Promise<string> {
  const result = await t.request(CreateWorkflow, { input: { name, definition } }, key);
  const payload = result.data?.createWorkflow;
  if (payload?.__typename !== 'Workflow') throw new Error(`createWorkflow failed: ${JSON.stringify(result)}`);
  return payload.id;
}

/** Starts a run; throws unless it started. */
export async function startRun(
  t: TestServer,
  key: string,
  workflowId: string,
  options: { input?: unknown; idempotencyKey?: string } = {},
): Promise<string> {
  const result = await t.request(StartRun, { workflowId, ...options }, key);
  const payload = result.data?.startRun;
  if (payload?.__typename !== 'Run') throw new Error(`startRun failed: ${JSON.stringify(result)}`);
  return payload.id;
}

/** The run's events over graphql-ws (from afterSeq). */
export function watchRun(t: TestServer, client: Client, runId: string, afterSeq?: number): Feed<RunEventItem> {
  const feed = t.subscribe(client, RunEvents, { runId, ...(afterSeq === undefined ? {} : { afterSeq }) });
  return {
    get items() {
      return feed.items.map((item) => item.runEvents);
    },
    done: feed.done.then((items) => items.map((item) => item.runEvents)),
    until: (predicate) => feed.until((item) => predicate(item.runEvents)).then((item) => item.runEvents),
    dispose: feed.dispose,
  };
}

/** Creates the workflow, starts it, follows its events to the end and reads the finished run. */
export async function runToEnd(
  t: TestServer,
  key: string,
  client: Client,
  definition: WorkflowDefinitionInput,
  input?: unknown,
) {
  const workflowId = await createWorkflow(t, key, definition);
  const runId = await startRun(t, key, workflowId, input === undefined ? {} : { input });
  const events = await watchRun(t, client, runId).done;
  const result = await t.request(GetRun, { id: runId }, key);
  const run = result.data?.run;
  if (!run) throw new Error(`run ${runId} not readable: ${JSON.stringify(result)}`);
  return { workflowId, runId, events, run };
}

/** The seqs are 1, 2, 3, … with no gap or repeat. */
export function contiguous(events: { seq: number }[], from = 1): boolean {
  return events.every((event, index) => event.seq === from + index);
}
