// The application layer of runs: start, cancel, retry, and the process's share of the work (claims,
// leases, take-over after a crash, drain on shutdown). Resolvers call it; it calls the engine and db/.
import { randomBytes } from 'node:crypto';
import { hasRunLimit } from '../db/queries/fair-queue.js';
import { findRun, insertRun } from '../db/queries/runs.js';
import { endExpiredOwnersSessions, requestCancel } from '../db/queries/leases.js';
import { readRunStates } from '../db/queries/run-states.js';
import { reopenRun } from '../db/queries/run-reopen.js';
import { readSteps } from '../db/run-reads.js';
import type { Database } from '../db/client.js';
import type { RunRow, WorkflowRow } from '../db/schema.js';
import { createRedactor, finalRunStatuses, stepsToRetry, type Engine, type Log, type RunCommit, type RunSecrets } from '../engine/index.js';
import { createDispatcher } from './dispatcher.js';
import { channels, createPostgresFeed, soloFeed, type EventFeed, type ServerPubSub } from './event-feed.js';
import { StoredDefinitionInvalidError, type GraphCache } from './graphs.js';
import { createLeases, type Leases } from './leases.js';
import { createLimitChanges } from './limit-changes.js';
import { restoredRun } from './restored-run.js';
import { createRunDriver, type RunObserver } from './run-driver.js';
import type { RunSecretsSource } from './run-secrets.js';
import { waitForFinalEvent } from './final-event.js';

export const cancelReason = 'cancelled by request';

/** A new process id, as stored in `runs.owner`. */
export const newProcessId = () => `proc_${randomBytes(9).toString('base64url')}`;

/** The process is draining: it takes no new runs. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor() {
    super('this server is shutting down and takes no new runs; send the request again (to another server)');
  }
}

/** retryRun on a run that is not FAILED or CANCELLED. */
export { RunNotRetriableError } from '../db/queries/run-reopen.js';
export type { RunObserver } from './run-driver.js';

export interface RunService {
  /** This process's id, as stored in `runs.owner` while it drives a run. */
  readonly processId: string;
  /** Starts a run of the workflow's current version; with a used idempotency key, returns that run. */
  start(options: {
    organizationId: string;
    workflow: WorkflowRow;
    input: unknown;
    idempotencyKey: string | null;
    /** Among runs waiting for a slot, higher starts first (default 0). */
    priority?: number;
  }): Promise<RunRow>;
  /** Cancels the run (whichever process drives it) and returns it once final; null when not in the organization. */
  cancel(organizationId: string, runId: string): Promise<RunRow | null>;
  /** Runs a FAILED or CANCELLED run again from where it stopped; null when not in the organization. */
  retry(organizationId: string, runId: string): Promise<RunRow | null>;
  /** Starts taking runs: listens, then claims the unfinished runs; resolves once those were taken over. */
  open(): Promise<void>;
  /** Takes no more runs, lets running attempts finish for up to `graceMs`, stores everything, releases the leases. */
  drain(graceMs: number): Promise<void>;
  /** Runs driven by this process now. */
  readonly liveRuns: number;
  /** Claims runs soon: the process has room again (e.g. it stopped shedding load). */
  wake(): void;
  /** Whether this process sheds load now: it takes no new runs (they wait QUEUED for any process with room). */
  readonly shedding: boolean;
  /** The names of the secrets `run` uses (those its workflow version references), sorted. */
  secretsUsed(run: RunRow): Promise<readonly string[]>;
  /**
   * A limit of the organization changed (its maxConcurrentRuns or maxRunningNodes, or a workflow's
   * maxConcurrentRuns): claims here at once and has every other process do so, and has each read the
   * organization's maxRunningNodes again (`nodeLimitsChanged`). Resolves once this process read it.
   */
  limitsChanged(organizationId: string): Promise<void>;
}

export interface RunServiceOptions {
  database: Database;
  pubsub: ServerPubSub;
  graphs: GraphCache;
  /** Builds the engine over a store fenced by `epochOf` and announcing to `notify`. */
  createEngine(wiring: {
    onCommitted(commit: RunCommit): void;
    epochOf(runId: string): number | undefined;
    holds(runId: string): boolean;
    notify?: { channel: string; sender: string };
  }): Engine;
  /** The secrets of an organization, for runs whose workflow references any. */
  secrets: RunSecretsSource;
  leaseMs: number;
  /** Most runs this process drives at once. */
  capacity: number;
  /** This process's id in `runs.owner` (and in its PostgreSQL `application_name`, `braid:<id>`); random by default. */
  processId?: string;
  log: Log;
  /** Told when a run starts running here and when one ends (logs, metrics). */
  observer?: RunObserver;
  /** Whether the process sheds load: it takes no new runs meanwhile (they wait QUEUED for any process); call `wake` after. */
  shedding?(): boolean;
  /** Told when an organization's limits changed (here or on another process): its maxRunningNodes is read again. */
  nodeLimitsChanged?(organizationId: string): Promise<void>;
  /** Tests: the dispatcher's timed sweeps every this many ms instead of every second (see createDispatcher). */
  claimPollMs?: number;
}

/** `input` with the values of the secrets read for its run replaced by `[secret:NAME]`. */
function redactedInput(secrets: RunSecrets, input: unknown): unknown {
  const redactor = createRedactor();
  for (const [name, value] of secrets.known) redactor.add(name, value);
  return redactor.redact(input);
}

export function createRunService(options: RunServiceOptions): RunService {
  const { database, pubsub, log, leaseMs } = options;
  const db = database.db;
  const processId = options.processId ?? newProcessId();
  const shared = database.driver === 'postgres';
  let accepting = true;
  /** Runs may wait unclaimed for room (this process was full): claim when a slot frees. */
  let backlog = false;
  /** Cancels asked of this process for runs it claimed but has not started yet. */
  const pendingCancels = new Map<string, string>();

  const leases: Leases = createLeases({
    database,
    owner: processId,
    leaseMs,
    log,
    events: {
      lost: (runId) => driver.detach(runId),
      cancelRequested: (runId, reason) => void driver.cancel(runId, reason),
    },
  });
  const feed: EventFeed = shared
    ? createPostgresFeed({
        database: database as Database & { driver: 'postgres' },
        sender: processId,
        pubsub,
        onCancel: (runId) => void driver.cancel(runId, cancelReason),
        onWake: () => dispatcher.wake(),
        log,
      })
    : soloFeed;
  const nodeLimitsChanged = (organizationId: string) =>
    options.nodeLimitsChanged?.(organizationId).catch((error: unknown) =>
      log('reading maxRunningNodes again failed', { organizationId, error: String(error) }),
    );
  // Limits changed on another process: runs may start now, and maxRunningNodes may differ.
  const limitChanges = shared
    ? createLimitChanges({
        database: database as Database & { driver: 'postgres' },
        sender: processId,
        onChange: (organizationId) => {
          dispatcher.wake();
          void nodeLimitsChanged(organizationId);
        },
        log,
      })
    : undefined;
  const driver = createRunDriver({
    database,
    graphs: options.graphs,
    secrets: options.secrets,
    leases,
    feed,
    pubsub,
    log,
    observer: {
      started: (run) => options.observer?.started(run),
      tookOver: (run) => options.observer?.tookOver?.(run),
      finished(run) {
        options.observer?.finished(run);
        // Its slot is free: a run its organization's or workflow's limit held back may start now.
        if (!dispatcher.holdsBack(run)) return;
        dispatcher.wakeSoon();
        if (shared && !hasRoom()) void wakeOthers();
      },
    },
    // A claim costs a statement: only when runs may wait for room (on PostgreSQL the poll also finds
    // them). Slots of run limits are offered when a run ends (observer.finished).
    onRunLeft: () => {
      if (!backlog && !dispatcher.backlogged) return;
      backlog = false;
      dispatcher.wake();
    },
    engine: (onCommitted) =>
      options.createEngine({
        onCommitted,
        epochOf: leases.epochOf,
        holds: leases.holds,
        ...(shared ? { notify: { channel: channels.events, sender: processId } } : {}),
      }),
  });
  const dispatcher = createDispatcher({
    database,
    owner: processId,
    leaseMs,
    free: () => {
      const free = accepting && !options.shedding?.() ? options.capacity - inUse() : 0;
      if (free <= 0) backlog = true;
      return free;
    },
    take: async (claimed) => {
      await driver.take(claimed);
      for (const run of claimed) {
        const reason = pendingCancels.get(run.id);
        pendingCancels.delete(run.id);
        if (reason) void driver.cancel(run.id, reason);
      }
    },
    // Another process's runs become orphans only with several processes; alone, a restart takes all.
    pollMs: shared ? (options.claimPollMs ?? Math.min(1000, leaseMs)) : 0,
    ...(options.claimPollMs ? { heldPollMs: options.claimPollMs } : {}),
    takeAllAtStart: !shared,
    ...(shared ? { beforePoll: () => endExpiredOwnersSessions(db, processId) } : {}),
    log,
  });

  /** Slots promised to startRun calls whose insert is still on its way (driver.size counts them only once driven). */
  let reserved = 0;
  const inUse = () => driver.size + reserved;
  const hasRoom = () => accepting && !options.shedding?.() && inUse() < options.capacity;
  const wakeOthers = () =>
    feed.wakeOthers().catch((error: unknown) => log('waking the other processes failed', { error: String(error) }));
  /**
   * Takes a slot at once, before the insert is awaited: concurrent startRuns must not all see room.
   * None for a run a limit may hold back (a workflow maxConcurrentRuns), nor while runs wait for room:
   * those go through the claim query, which keeps the order and the limits.
   */
  const claimFor = (limited = false) => {
    if (limited || dispatcher.backlogged) return undefined;
    if (accepting && !options.shedding?.() && inUse() < options.capacity) {
      reserved++;
      return { owner: processId, leaseMs };
    }
    backlog = true;
    return undefined;
  };

  return {
    processId,
    get liveRuns() {
      return driver.size;
    },
    wake: () => dispatcher.wake(),
    get shedding() {
      return options.shedding?.() ?? false;
    },

    async secretsUsed(run) {
      try {
        return (await options.graphs.get(run.workflowId, run.workflowVersion)).secrets;
      } catch (error) {
        // A version that no longer compiles could not have started: it used nothing.
        if (error instanceof StoredDefinitionInvalidError) return [];
        throw error;
      }
    },

    async start({ organizationId, workflow, input, idempotencyKey, priority = 0 }) {
      if (!accepting) throw new UnavailableError();
      // Compiled before anything is written: a definition that no longer compiles stores nothing.
      const graph = await options.graphs.get(workflow.id, workflow.version);
      // An input holding a secret's value is stored redacted, as the run will see it; the secrets read
      // here are the ones the run starts with.
      const secrets = graph.secrets.length > 0 ? await options.secrets(organizationId, graph.secrets) : undefined;
      if (secrets) input = redactedInput(secrets, input);
      const claim = claimFor(graph.settings.maxConcurrentRuns !== undefined);
      try {
        const { run, created } = await insertRun(
          db,
          { organizationId, workflowId: workflow.id, workflowVersion: workflow.version, input: input ?? null, idempotencyKey, priority },
          claim,
        );
        if (!created) return run;
        driver.publishRun(run);
        // The insert leaves the run unclaimed when the organization has a limit: the claim query decides.
        if (claim && run.owner === processId) await driver.drive(run, run.epoch, { secrets });
        else {
          dispatcher.wakeSoon();
          if (!hasRoom()) await feed.wakeOthers();
        }
        return run;
      } finally {
        if (claim) reserved--;
      }
    },

    async cancel(organizationId, runId) {
      const run = await findRun(db, organizationId, runId);
      if (!run || finalRunStatuses.has(run.status)) return run;
      if (!(await driver.cancel(runId, cancelReason))) {
        const held = await requestCancel(db, runId, cancelReason);
        if (held?.owner === null) await driver.finalize(runId, { status: 'CANCELLED', message: cancelReason, unless: { heldByOthers: true } });
        else if (held?.owner === processId) pendingCancels.set(runId, cancelReason);
        else if (held) {
          // Another process drives it: tell it, and wait (bounded) for the run's final event.
          const final = waitForFinalEvent(pubsub, runId, 5000);
          const now = await findRun(db, organizationId, runId);
          if (now && !finalRunStatuses.has(now.status)) await feed.requestCancel(runId);
          else final.stop();
          await final.done;
        }
      }
      return findRun(db, organizationId, runId);
    },

    async retry(organizationId, runId) {
      const run = await findRun(db, organizationId, runId);
      if (!run) return null;
      await driver.settled(runId);
      const graph = await options.graphs.get(run.workflowId, run.workflowVersion);
      const statuses = new Map((await readSteps(database, runId)).map((step) => [step.nodeId, step.status]));
      const claim = claimFor(await hasRunLimit(db, organizationId, run.workflowId));
      try {
        const { run: reopened, event } = await reopenRun(db, {
          organizationId,
          runId,
          retries: run.retries,
          resetNodeIds: stepsToRetry(graph, (nodeId) => statuses.get(nodeId)),
          ...(claim ? { claim } : {}),
        });
        driver.publishRun(reopened, [event]);
        if (claim) {
          const states = await readRunStates(db, [runId]);
          await driver.drive(reopened, reopened.epoch, { restored: restoredRun(reopened, states.get(runId)!, null) });
        } else {
          dispatcher.wake();
          if (!hasRoom()) await feed.wakeOthers();
        }
        return reopened;
      } finally {
        // The slot is the driven run's from now on (driver.size), or was never used.
        if (claim) reserved--;
      }
    },

    async limitsChanged(organizationId) {
      dispatcher.wake();
      await nodeLimitsChanged(organizationId);
      await limitChanges
        ?.announce(organizationId)
        .catch((error: unknown) => log('announcing changed limits failed', { organizationId, error: String(error) }));
    },

    async open() {
      await feed.start();
      await limitChanges?.start();
      leases.start();
      await dispatcher.start();
    },

    async drain(graceMs) {
      accepting = false;
      await dispatcher.stop();
      await driver.drain(graceMs);
      await leases.release();
      await limitChanges?.stop();
      await feed.stop();
    },
  };
}
