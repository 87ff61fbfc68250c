// RunEvent: one transition of a run (seq 1, 2, 3… with no gap), and the runEvents subscription: stored
// events after afterSeq, then live ones, gapless and without duplicates, ending after the run's final event.
import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import { findRun } from '../db/queries/runs.js';
import { findStep } from '../db/queries/steps.js';
import { readRunEvents } from '../db/run-reads.js';
import type { RunEventRow } from '../db/schema.js';
import { finalRunStatuses, runEventTypes } from '../engine/index.js';
import { builder } from './builder.js';
import { organizationOf, type Context } from './context.js';
import { RunEventRef, RunRef, StepRef } from './refs.js';
import { liveFeedError } from './subscriptions.js';
import { liveSlotOf } from './live-groups.js';
import { loadersOf } from './loaders.js';

export const RunEventTypeEnum = builder.enumType('RunEventType', { values: runEventTypes });

const finalEventTypes: ReadonlySet<string> = new Set(['RUN_SUCCEEDED', 'RUN_FAILED', 'RUN_CANCELLED']);

RunEventRef.implement({
  description: "One transition of a run. A run's first event has seq 1 and each later one the next integer.",
  fields: (t) => ({
    seq: t.exposeInt('seq'),
    runId: t.exposeID('runId'),
    type: t.expose('type', { type: RunEventTypeEnum }),
    at: t.expose('at', { type: 'DateTime' }),
    nodeId: t.exposeString('nodeId', { nullable: true }),
    branch: t.exposeString('branch', { nullable: true }),
    status: t.exposeString('status', {
      description: "The step's status for NODE_*, the branch's for BRANCH_*, the run's for RUN_*.",
    }),
    attempt: t.exposeInt('attempt', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    reason: t.exposeString('reason', { nullable: true }),
    step: t.field({
      type: StepRef,
      nullable: true,
      description: "The node's step as stored now (it may have moved on since this event).",
      resolve: (event, _args, context) =>
        event.nodeId === null ? null : findStep(context.services.database.db, event.runId, event.nodeId),
    }),
    run: t.field({
      type: RunRef,
      description: 'The run as stored now.',
      resolve: async (event, _args, context) => {
        const run = await loadersOf(context).run(organizationOf(context), event.runId);
        if (!run) throw new Error(`run ${event.runId} is missing`);
        return run;
      },
    }),
  }),
});

const pageSize = 500;

/**
 * The event stream of one run: subscribes to the live feed first (buffering), then replays the stored
 * events after `afterSeq`, then forwards live events with a seq past the last one sent. A gap in the
 * live feed is filled from the store. Ends after the final event, or at once when the run was final.
 */
function runEventStream(context: Context, runId: string, afterSeq: number): Repeater<RunEventRow> {
  const { database, pubsub } = context.services;
  return new Repeater<RunEventRow>(async (push, stop) => {
    const feed = pubsub.events.subscribe(runId);
    let stopped = false;
    void stop.then(() => {
      stopped = true;
      feed.close();
    });
    // Dropped as too slow: end with the error now, even while waiting for the client to take a value.
    void feed.dropped.then((error) => stop(liveFeedError(error)));
    let last = afterSeq;
    /** Sends the stored events after `last`; true once the final event went out (or the client left). */
    const replay = async (): Promise<boolean> => {
      for (;;) {
        const page = await readRunEvents(database, runId, last, pageSize);
        for (const event of page) {
          if (stopped) return true;
          await push(event);
          last = event.seq;
          if (finalEventTypes.has(event.type)) return true;
        }
        if (page.length < pageSize) return stopped;
      }
    };
    try {
      // Read before the replay: if the run was final then, every one of its events is stored already.
      const run = await findRun(database.db, organizationOf(context), runId);
      const wasFinal = !run || finalRunStatuses.has(run.status);
      if ((await replay()) || wasFinal) return stop();
      for await (const event of feed) {
        if (event.seq <= last) continue;
        if (event.seq > last + 1) {
          if (await replay()) return stop();
          if (event.seq <= last) continue;
        }
        await push(event);
        last = event.seq;
        if (finalEventTypes.has(event.type)) break;
      }
      stop();
    } catch (error) {
      stop(liveFeedError(error));
    } finally {
      feed.close();
    }
  });
}

builder.subscriptionField('runEvents', (t) =>
  t.field({
    type: RunEventRef,
    description:
      "The run's events after afterSeq (default 0: all of them) from the store, then live ones: in seq " +
      "order, without gap or duplicate. Completes after the run's final event (RUN_SUCCEEDED, RUN_FAILED, " +
      'RUN_CANCELLED), at once when the run had already ended before afterSeq.',
    authScopes: { viewer: true },
    args: {
      runId: t.arg.id({ required: true }),
      afterSeq: t.arg.int(),
    },
    subscribe: async (_root, args, context, info) => {
      const runId = String(args.runId);
      const run = await findRun(context.services.database.db, organizationOf(context), runId);
      if (!run) throw new GraphQLError(`run "${runId}" not found`, { extensions: { code: 'NOT_FOUND' } });
      const afterSeq = Math.max(0, args.afterSeq ?? 0);
      // One execution per event for every subscriber sending the same operation (live-groups.ts).
      const live = liveSlotOf(context);
      if (live) return live.groups.runEvents(context, info, runId, afterSeq);
      return context.services.streams.track(runEventStream(context, runId, afterSeq));
    },
    resolve: (event) => event,
  }),
);
