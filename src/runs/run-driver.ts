// The runs this process drives: each one's engine run, lease and publication. Starts runs afresh or
// from their rows, settles in the database a run whose commits kept failing, and drains on shutdown.
import type { Database } from '../db/client.js';
import { finalizeStoredRun, type FinalizeOutcome } from '../db/queries/run-finalize.js';
import { readRunStates } from '../db/queries/run-states.js';
import { LeaseLostError } from '../db/run-store.js';
import type { RunEventRow, RunRow } from '../db/schema.js';
import { finalRunStatuses, type Engine, type Log, type RestoredRun, type RunCommit, type RunEnd, type RunSecrets } from '../engine/index.js';
import type { Announcement, EventFeed, ServerPubSub } from './event-feed.js';
import type { GraphCache } from './graphs.js';
import { StoredDefinitionInvalidError } from './graphs.js';
import type { Leases } from './leases.js';
import { restoredRun } from './restored-run.js';
import type { RunSecretsSource } from './run-secrets.js';

export interface RunDriver {
  /** Runs driven here now. */
  readonly size: number;
  isLive(runId: string): boolean;
  /** Drives `run`, held with `epoch`, afresh or from `restored`; resolves once it started. */
  /** Starts driving `run`: `restored` after a take-over; `secrets` when the caller read them already. */
  drive(run: RunRow, epoch: number, given?: { restored?: RestoredRun; secrets?: RunSecrets | undefined }): Promise<void>;
  /** Takes over claimed runs: reads their rows in a few statements and drives each. */
  take(claimed: RunRow[]): Promise<void>;
  /** Cancels a run driven here and waits until its final state is stored; false when not live. */
  cancel(runId: string, reason: string): Promise<boolean>;
  /** Stops a run at once without writing (its lease was lost). */
  detach(runId: string): void;
  /** Waits until a run driven here has left (finished or detached); at once when it is not live. */
  settled(runId: string): Promise<void>;
  /** Settles a run no engine drives, in the database, and publishes what that wrote. */
  finalize(runId: string, outcome: FinalizeOutcome): Promise<RunRow | null>;
  /** Publishes a run's new row (runUpdates) here and to the other processes. */
  publishRun(run: RunRow, events?: readonly RunEventRow[]): void;
  /** Lets running attempts finish for up to `graceMs`, then leaves every run as stored. */
  drain(graceMs: number): Promise<void>;
}

/** Watches the runs of this process (logs, metrics): told when one starts running and when it ends. */
export interface RunObserver {
  /** The run's status became RUNNING here (a fresh start, or again after retryRun). */
  started(run: RunRow): void;
  /** The run's final state was stored by this process. */
  finished(run: RunRow): void;
  /** A run that was RUNNING on another process (gone, or hung) goes on here. */
  tookOver?(run: RunRow): void;
}

export function createRunDriver(deps: {
  database: Database;
  engine: (onCommitted: (commit: RunCommit) => void) => Engine;
  graphs: GraphCache;
  leases: Leases;
  feed: EventFeed;
  pubsub: ServerPubSub;
  /** The secrets of a run's organization, for runs whose workflow references any. */
  secrets: RunSecretsSource;
  /** A run left: a slot freed. */
  onRunLeft(): void;
  log: Log;
  observer?: RunObserver | undefined;
}): RunDriver {
  const { database, leases, feed, pubsub, log } = deps;
  const live = new Map<string, { row: RunRow; ended: Promise<void> }>();
  let draining = false;
  const engine = deps.engine(onCommitted);

  function publishRun(run: RunRow, events: readonly RunEventRow[] = []): void {
    for (const event of events) pubsub.events.publish(run.id, event);
    pubsub.runs.publish(run.organizationId, run);
    const announced: Announcement = [run.id, events[0]?.seq ?? 0, events.at(-1)?.seq ?? 0, run.status];
    feed.announce([announced]).catch((error: unknown) => log('announcing a run failed', { runId: run.id, error: String(error) }));
  }

  function onCommitted(commit: RunCommit): void {
    for (const event of commit.events) pubsub.events.publish(commit.runId, event);
    const entry = live.get(commit.runId);
    if (!entry || !commit.run) return;
    const previous = entry.row;
    const { status, startedAt, finishedAt, output, error, deadlineAt } = commit.run;
    entry.row = { ...previous, status, startedAt, finishedAt, output: output ?? null, error, deadlineAt };
    // Other processes hear of it through the store's NOTIFY.
    if (entry.row.status !== previous.status) {
      pubsub.runs.publish(entry.row.organizationId, entry.row);
      observe(entry.row);
    }
  }

  function observe(run: RunRow): void {
    if (run.status === 'RUNNING') deps.observer?.started(run);
    else if (finalRunStatuses.has(run.status)) deps.observer?.finished(run);
  }

  async function finalize(runId: string, outcome: FinalizeOutcome): Promise<RunRow | null> {
    const result = await finalizeStoredRun(database.db, runId, outcome);
    if (!result) return null;
    publishRun(result.run, result.events);
    observe(result.run);
    return result.run;
  }

  /** Settles a run whose commits failed for good, once the database answers again (while we hold it). */
  async function settleFailed(runId: string, epoch: number, error: unknown): Promise<void> {
    const message = `storage failed: ${error instanceof Error ? error.message : String(error)}`;
    for (let backoff = 200; ; backoff = Math.min(backoff * 2, 5000)) {
      try {
        await finalize(runId, { status: 'FAILED', message, unless: { epochIsNot: epoch } });
        return;
      } catch (retry) {
        log('settling a failed run: database still unreachable', { runId, error: String(retry) });
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  async function afterEnd(runId: string, epoch: number, end: RunEnd): Promise<void> {
    if (end.how === 'store-failed' && end.error instanceof LeaseLostError) {
      log('run taken over by another process; stopped here', { runId });
    } else if (end.how === 'store-failed') {
      log('storing the run failed; it is stopped and recorded FAILED once the database answers', { runId, error: String(end.error) });
      await settleFailed(runId, leases.epochOf(runId) ?? epoch, end.error);
    }
    // A drained run keeps its lease until the leases are released together. Any other run that leaves
    // gives its lease up, also one re-claimed meanwhile: nothing here drives it any more, and a lease
    // nobody renews lapses and is claimed again.
    if (!(draining && end.how === 'detached')) leases.forget(runId);
    live.delete(runId);
    deps.onRunLeft();
  }

  async function drive(run: RunRow, epoch: number, given: { restored?: RestoredRun; secrets?: RunSecrets | undefined } = {}): Promise<void> {
    const { restored } = given;
    if (live.has(run.id)) {
      // Re-claimed while still driven here (a renewal came too late): the live run adopts the new epoch.
      leases.hold(run.id, epoch);
      return;
    }
    leases.hold(run.id, epoch);
    let graph;
    let secrets;
    try {
      graph = await deps.graphs.get(run.workflowId, run.workflowVersion);
      if (graph.secrets.length > 0) secrets = given.secrets ?? (await deps.secrets(run.organizationId, graph.secrets));
    } catch (error) {
      leases.forget(run.id);
      const reason = error instanceof StoredDefinitionInvalidError ? error.message : String(error);
      await finalize(run.id, { status: 'FAILED', message: `could not start: ${reason}`, unless: { epochIsNot: epoch } });
      return;
    }
    let handle;
    try {
      handle = engine.startRun({
        runId: run.id,
        organizationId: run.organizationId,
        graph,
        input: run.input,
        retries: run.retries,
        ...(restored ? { restored } : {}),
        ...(secrets ? { secrets } : {}),
      });
    } catch (error) {
      leases.forget(run.id);
      throw error;
    }
    const entry = { row: run, ended: Promise.resolve() };
    live.set(run.id, entry);
    entry.ended = handle.ended.then(
      (end) => afterEnd(run.id, epoch, end),
      (error: unknown) => log('run ended with an error', { runId: run.id, error: String(error) }),
    );
    if (run.cancelRequested) engine.cancelRun(run.id, run.cancelRequested);
  }

  return {
    get size() {
      return live.size;
    },
    isLive: (runId) => live.has(runId),
    drive,
    async take(claimed) {
      const states = await readRunStates(database.db, claimed.map((run) => run.id));
      for (const run of claimed) {
        // A run whose last stored status is RUNNING was driven by a process that is gone.
        const restored = restoredRun(run, states.get(run.id)!, run.status === 'RUNNING' ? 'RUN_RESUMED' : null);
        await drive(run, run.epoch, { restored });
        // Its status stays RUNNING, so no `started`: say where it went on, as a fresh start does.
        if (run.status === 'RUNNING' && live.has(run.id)) deps.observer?.tookOver?.(run);
      }
    },
    async cancel(runId, reason) {
      const entry = live.get(runId);
      if (!entry) return false;
      engine.cancelRun(runId, reason);
      await entry.ended;
      return true;
    },
    detach(runId) {
      engine.detachRun(runId);
    },
    settled: (runId) => live.get(runId)?.ended ?? Promise.resolve(),
    finalize,
    publishRun,
    async drain(graceMs) {
      draining = true;
      await engine.drain(graceMs);
      await Promise.all([...live.values()].map((entry) => entry.ended));
    },
  };
}
