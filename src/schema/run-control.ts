// Starting and cancelling runs: the row first (idempotent per organization), then the engine; each
// commit the engine persisted is published to the run's event feed and, on a status change, to the
// organization's run updates. Runs no engine here drives are settled in the database instead.
import type { Database } from '../db/client.js';
import { finalizeStoredRun } from '../db/queries/run-finalize.js';
import { findRun, insertRun, unfinishedRunIds } from '../db/queries/runs.js';
import { readDefinition } from '../db/queries/workflows.js';
import type { RunEventRow, RunRow, WorkflowRow } from '../db/schema.js';
import {
  compileWorkflow,
  finalRunStatuses,
  WorkflowValidationError,
  type Engine,
  type NodeRegistry,
  type RunCommit,
  type WorkflowGraph,
} from '../engine/index.js';
import type { RunPubSub } from '../pubsub.js';

export type ServerPubSub = RunPubSub<RunEventRow, RunRow>;

export interface RunControl {
  /** Starts a run of the workflow's current version; with a used idempotency key, returns that run. */
  start(options: {
    organizationId: string;
    workflow: WorkflowRow;
    input: unknown;
    idempotencyKey: string | null;
  }): Promise<RunRow>;
  /** Cancels the run and returns it once final; null when it is not in the organization. */
  cancel(organizationId: string, runId: string): Promise<RunRow | null>;
  /** Settles runs left QUEUED/RUNNING by a process that died: FAILED, their open steps CANCELLED. */
  recoverInterrupted(): Promise<number>;
  /** Cancels every live run ("server shutting down") and waits for their final commits. */
  stop(): Promise<void>;
}

export const cancelReason = 'cancelled by request';
export const interruptedReason = 'interrupted: the server stopped before the run finished';

/** Thrown when a stored definition no longer compiles (e.g. a node type was removed since). */
export class StoredDefinitionInvalidError extends WorkflowValidationError {}

export function createRunControl(deps: {
  database: Database;
  pubsub: ServerPubSub;
  registry: NodeRegistry;
  createEngine(onCommitted: (commit: RunCommit) => void): Engine;
}): RunControl {
  const { database, pubsub } = deps;
  const db = database.db;
  /** Runs this process drives: their row as last published, and the engine's `done`. */
  const live = new Map<string, { row: RunRow; done: Promise<unknown> }>();
  const engine = deps.createEngine(onCommitted);

  // A workflow version never changes, so its compiled graph serves every run of it: reading and
  // compiling the definition was half the statements and most of the CPU of a startRun.
  const graphs = new Map<string, WorkflowGraph>();
  const maxGraphs = 500;

  async function compiledVersion(workflow: WorkflowRow): Promise<WorkflowGraph> {
    const key = `${workflow.id}@${workflow.version}`;
    const cached = graphs.get(key);
    if (cached) return cached;
    const definition = await readDefinition(db, workflow.id, workflow.version);
    let graph: WorkflowGraph;
    try {
      graph = compileWorkflow(definition, deps.registry);
    } catch (error) {
      if (error instanceof WorkflowValidationError) throw new StoredDefinitionInvalidError(error.issues);
      throw error;
    }
    if (graphs.size >= maxGraphs) graphs.delete(graphs.keys().next().value!);
    graphs.set(key, graph);
    return graph;
  }

  function publishRun(row: RunRow): void {
    pubsub.runs.publish(row.organizationId, row);
  }

  function onCommitted(commit: RunCommit): void {
    for (const event of commit.events) pubsub.events.publish(commit.runId, event);
    const entry = live.get(commit.runId);
    if (!entry || !commit.run) return;
    const previous = entry.row;
    entry.row = {
      ...previous,
      status: commit.run.status,
      startedAt: commit.run.startedAt,
      finishedAt: commit.run.finishedAt,
      output: commit.run.output ?? null,
      error: commit.run.error,
    };
    if (entry.row.status !== previous.status) publishRun(entry.row);
  }

  function publishFinalized(result: { run: RunRow; events: RunEventRow[] } | null): void {
    if (!result) return;
    for (const event of result.events) pubsub.events.publish(result.run.id, event);
    publishRun(result.run);
  }

  return {
    async start({ organizationId, workflow, input, idempotencyKey }) {
      // Compiled before anything is written: a definition that no longer compiles stores nothing.
      const graph = await compiledVersion(workflow);
      const { run, created } = await insertRun(db, {
        organizationId,
        workflowId: workflow.id,
        workflowVersion: workflow.version,
        input: input ?? null,
        idempotencyKey,
      });
      if (!created) return run;
      publishRun(run);
      const entry: { row: RunRow; done: Promise<unknown> } = { row: run, done: Promise.resolve() };
      live.set(run.id, entry);
      try {
        const handle = engine.startRun({ runId: run.id, graph, input: input ?? null });
        entry.done = handle.done.then(
          () => live.delete(run.id),
          (error: unknown) => {
            live.delete(run.id);
            console.error(`run ${run.id} ended with an error`, error);
          },
        );
      } catch (error) {
        live.delete(run.id);
        const message = `could not start: ${error instanceof Error ? error.message : String(error)}`;
        publishFinalized(await finalizeStoredRun(db, run.id, { status: 'FAILED', message }));
      }
      return run;
    },

    async cancel(organizationId, runId) {
      const run = await findRun(db, organizationId, runId);
      if (!run) return null;
      if (finalRunStatuses.has(run.status)) return run;
      const entry = live.get(runId);
      if (entry) {
        // False when the engine has just finished it; either way its final commit is on its way.
        engine.cancelRun(runId, cancelReason);
        await entry.done;
      } else {
        publishFinalized(await finalizeStoredRun(db, runId, { status: 'CANCELLED', message: cancelReason }));
      }
      return findRun(db, organizationId, runId);
    },

    async recoverInterrupted() {
      let count = 0;
      for (const runId of await unfinishedRunIds(db)) {
        if (live.has(runId)) continue;
        const result = await finalizeStoredRun(db, runId, { status: 'FAILED', message: interruptedReason });
        if (result) count++;
        publishFinalized(result);
      }
      return count;
    },

    async stop() {
      await engine.stop('server shutting down');
      await Promise.all([...live.values()].map((entry) => entry.done));
    },
  };
}
