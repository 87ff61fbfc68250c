// Runs seen from outside, for the child-process fault tests: plain GraphQL documents (the schema is
// changing under them, so no codegen'd types), waiting for final states, and the checks every fault test
// makes — gapless events with one final event, and no http request sent again for a settled step.
import type { ChildServer, Subscription } from './child-server.js';
import { childAdminToken } from './child-server.js';
import type { RecordedRequest } from './slow-server.js';

export interface StepView {
  nodeId: string;
  nodeType: string;
  status: string;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: string | null;
  reason: string | null;
}

export interface RunView {
  id: string;
  status: string;
  error: string | null;
  output: unknown;
  steps: StepView[];
}

export interface EventView {
  seq: number;
  type: string;
  at: string;
  nodeId: string | null;
  status: string;
}

/** A SIGKILL or SIGSTOP the test sent: when it was sent and when the process was seen gone. */
export interface Fault {
  sentAt: number;
  exitedAt: number;
}

export const finalStatuses = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export const finalEventTypes = ['RUN_SUCCEEDED', 'RUN_FAILED', 'RUN_CANCELLED'];

const runFields = `id status error output steps { nodeId nodeType status attempt startedAt finishedAt output error reason }`;

export const RunEventsDocument = `subscription ChildRunEvents($runId: ID!, $afterSeq: Int) {
  runEvents(runId: $runId, afterSeq: $afterSeq) { seq type at nodeId status }
}`;

/** `promise`, or a rejection naming `what` when it takes longer than `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A new organization on `server`; its ADMIN key. */
export async function createOrganization(server: ChildServer, name: string): Promise<string> {
  const result = await server.request(
    `mutation ($name: String!) { createOrganization(name: $name) {
      __typename ... on CreateOrganizationPayload { apiKey } ... on Error { message } } }`,
    { name },
    childAdminToken,
  );
  const payload = result.data?.createOrganization;
  if (payload?.__typename !== 'CreateOrganizationPayload') throw new Error(`createOrganization: ${JSON.stringify(result)}`);
  return payload.apiKey as string;
}

export async function createWorkflow(server: ChildServer, key: string, name: string, definition: unknown): Promise<string> {
  const result = await server.request(
    `mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) {
      __typename ... on Workflow { id } ... on ValidationError { message issues { path message } } ... on Error { message } } }`,
    { input: { name, definition } },
    key,
  );
  const payload = result.data?.createWorkflow;
  if (payload?.__typename !== 'Workflow') throw new Error(`createWorkflow ${name}: ${JSON.stringify(result)}`);
  return payload.id as string;
}

export const StartRunDocument = `mutation ChildStartRun($workflowId: ID!, $input: JSON, $idempotencyKey: String) {
  startRun(workflowId: $workflowId, input: $input, idempotencyKey: $idempotencyKey) {
    __typename ... on Run { id status } ... on Error { message } } }`;

/** Starts a run and returns its id; throws (a network error as fetch does) unless a Run came back. */
export async function startRun(
  server: ChildServer,
  key: string,
  workflowId: string,
  options: { input?: unknown; idempotencyKey?: string } = {},
): Promise<string> {
  const result = await server.request(StartRunDocument, { workflowId, ...options }, key);
  const payload = result.data?.startRun;
  if (payload?.__typename !== 'Run') throw new Error(`startRun: ${JSON.stringify(result)}`);
  return payload.id as string;
}

export async function readRun(server: ChildServer, key: string, id: string): Promise<RunView> {
  const result = await server.request<{ run: RunView | null }>(`query ($id: ID!) { run(id: $id) { ${runFields} } }`, { id }, key);
  const run = result.data?.run;
  if (!run) throw new Error(`run ${id}: ${JSON.stringify(result)}`);
  return run;
}

/**
 * Polls until every run is final or `timeoutMs` passes, and returns the last read of each (final or
 * not: the caller asserts, so a stuck run shows up in the failure).
 */
export async function waitForFinal(server: ChildServer, key: string, ids: string[], timeoutMs: number): Promise<RunView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await Promise.all(ids.map((id) => readRun(server, key, id)));
    if (runs.every((run) => finalStatuses.includes(run.status)) || Date.now() > deadline) return runs;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The run's events from seq 1, as `runEvents(afterSeq: 0)` delivers them. */
export function watchEvents(server: ChildServer, key: string, runId: string): Subscription<{ runEvents: EventView }> {
  return server.subscribe<{ runEvents: EventView }>(RunEventsDocument, { runId, afterSeq: 0 }, key);
}

/** Every event of the run, read from seq 1 to the run's final event (the subscription completes). */
export async function readEvents(server: ChildServer, key: string, runId: string): Promise<EventView[]> {
  const items = await watchEvents(server, key, runId).done;
  return items.map((item) => item.runEvents);
}

const settledEventTypes = ['NODE_SUCCEEDED', 'NODE_FAILED', 'NODE_SKIPPED', 'NODE_CANCELLED'];

/**
 * What is wrong with the event list of a finished run that was never retried: seqs not 1..n, not
 * exactly one final event, last, or a node that settled more than once.
 */
export function eventProblems(runId: string, events: EventView[]): string[] {
  const problems: string[] = [];
  const seqs = events.map((event) => event.seq);
  const expected = events.map((_, index) => index + 1);
  if (JSON.stringify(seqs) !== JSON.stringify(expected)) problems.push(`${runId}: seqs ${seqs.join(',')}`);
  const finals = events.filter((event) => finalEventTypes.includes(event.type));
  if (finals.length !== 1) problems.push(`${runId}: ${finals.length} final events`);
  if (!finalEventTypes.includes(events.at(-1)?.type ?? '')) problems.push(`${runId}: last event ${events.at(-1)?.type}`);
  const settled = events.filter((event) => settledEventTypes.includes(event.type)).map((event) => event.nodeId);
  const twice = settled.filter((nodeId, index) => settled.indexOf(nodeId) !== index);
  if (twice.length > 0) problems.push(`${runId}: nodes settled more than once: ${twice.join(',')}`);
  return problems;
}

/**
 * The Idempotency-Key of a run's http node. The runs of these tests are never retried (`Run.retries` 0),
 * and reading `retries` would fail on a server without it.
 */
export const idempotencyKey = (runId: string, nodeId: string) => `${runId}:${nodeId}:0`;

/** The loopback tag the workflows of these tests give an http node: `<runId>.<nodeId>`. */
export const requestTag = (runId: string, nodeId: string) => `${runId}.${nodeId}`;

/**
 * How long after a killed process was seen gone a request it sent may still be recorded: the test reads
 * the child's exit and the loopback's sockets in one event loop, in either order.
 */
const dyingMs = 1000;

/**
 * What betrays an http step that ran again though it had settled, judged from the loopback's records:
 * a request of the step without its Idempotency-Key; a request of a step stored as never started, with
 * no fault after it; a request that arrived after the step's `finishedAt` (same machine, same clock); a
 * request sent again after one that succeeded (or went unanswered) with no fault in between; a SUCCEEDED
 * step without any request.
 */
export function requestProblems(run: RunView, requests: RecordedRequest[], faults: Fault[]): string[] {
  const problems: string[] = [];
  for (const step of run.steps.filter((s) => s.nodeType === 'http')) {
    const name = `${run.id}/${step.nodeId} (${step.status})`;
    const key = idempotencyKey(run.id, step.nodeId);
    const tagged = requests.filter((r) => r.tag === requestTag(run.id, step.nodeId));
    const keyed = requests.filter((r) => r.idempotencyKey === key);
    const unkeyed = tagged.filter((r) => r.idempotencyKey !== key);
    if (unkeyed.length > 0) {
      const carried = unkeyed.map((r) => JSON.stringify(r.idempotencyKey)).join(', ');
      problems.push(`${name}: ${unkeyed.length} request(s) without Idempotency-Key ${key} (they carried ${carried})`);
    }
    if (step.status === 'SUCCEEDED' && keyed.length === 0) problems.push(`${name}: no request with its key`);
    // A step stored as never started may have had a request from a process that died before storing its start.
    const unexplained = keyed.filter((r) => step.startedAt === null && !faults.some((f) => f.exitedAt + dyingMs > r.receivedAt));
    if (unexplained.length > 0) problems.push(`${name}: ${unexplained.length} request(s) but never started`);
    const finishedAt = step.finishedAt === null ? null : Date.parse(step.finishedAt);
    if (step.startedAt !== null && finishedAt === null) problems.push(`${name}: started but not finished`);
    const late = keyed.filter((r) => finishedAt !== null && r.receivedAt > finishedAt);
    if (late.length > 0) problems.push(`${name}: ${late.length} request(s) after finishedAt ${step.finishedAt}`);
    keyed.slice(1).forEach((next, index) => {
      const previous = keyed[index]!;
      const failed = previous.status !== null && previous.status >= 400;
      const faulted = faults.some((f) => f.exitedAt + dyingMs > previous.receivedAt && f.sentAt < next.receivedAt);
      if (!failed && !faulted) {
        const answer = previous.status ?? 'no answer';
        problems.push(`${name}: sent at ${previous.receivedAt} (${answer}) and again at ${next.receivedAt} with no fault between`);
      }
    });
  }
  return problems;
}
