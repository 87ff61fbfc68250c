// Live groups: the subscribers of one run's events (or of one organization's run updates) that sent the
// same operation with the same variables (afterSeq aside) under the same organization and role share
// one execution per event, and for graphql-ws one serialization. A group listens to the pubsub once and
// hands each value to its members (live-member.ts), each written by its own transport (live-sinks.ts).
import type { GraphQLResolveInfo } from 'graphql';
import { findRun } from '../db/queries/runs.js';
import { readRunEvents } from '../db/run-reads.js';
import type { RunEventRow, RunRow } from '../db/schema.js';
import { finalRunStatuses } from '../engine/index.js';
import type { PubSub } from '../pubsub.js';
import type { ServerPubSub } from '../runs/event-feed.js';
import type { Database } from '../db/client.js';
import type { Context } from './context.js';
import { groupKey } from './live-key.js';
import { createMember, type LiveSink, type Member, type Sequence } from './live-member.js';
import { createSharedReads } from './live-reads.js';
import { createRender, type MaskError, type OperationArgs, type Render, type Rendered } from './live-render.js';
import { framesSink, framesStream, resultsSink } from './live-sinks.js';
import type { SocketWriter } from './ws-writer.js';

/** What a transport puts in an operation's context so that its subscription may join a group. */
export interface LiveSlot {
  groups: LiveGroups;
  /** graphql-ws: the subscription's socket and id (frames); absent: results read by yoga. */
  frames?: { writer: SocketWriter; id: string };
  /** The operation as received (set by the live plugin). */
  args?: OperationArgs;
  /** Set once a subscription field joined a group: what the transport serves instead. */
  stream?: AsyncIterableIterator<unknown>;
}

export type LiveContext = Context & { live?: LiveSlot };

/** The live slot of an operation's context, when its transport groups subscriptions. */
export function liveSlotOf(context: Context): LiveSlot | undefined {
  const slot = (context as LiveContext).live;
  return slot?.args ? slot : undefined;
}

export interface LiveGroups {
  /** Joins the group of a runEvents subscription; its resolver returns what this returns. */
  runEvents(context: Context, info: GraphQLResolveInfo, runId: string, afterSeq: number): AsyncIterableIterator<never>;
  /** Joins the group of a runUpdates subscription (of one workflow, or all when null). */
  runUpdates(context: Context, info: GraphQLResolveInfo, workflowId: string | null): AsyncIterableIterator<never>;
  /** Groups open now. */
  readonly size: number;
}

interface Group<T> {
  render: Render<T>;
  join(member: Member<T>): void;
  leave(member: Member<T>): void;
}

const pageSize = 500;
const cacheSize = 256;
const finalEventTypes: ReadonlySet<string> = new Set(['RUN_SUCCEEDED', 'RUN_FAILED', 'RUN_CANCELLED']);

/** Stands for the subscription until the live plugin swaps in the slot's stream (it yields nothing). */
function placeholder(): AsyncIterableIterator<never> {
  const iterator: AsyncIterableIterator<never> = {
    next: () => new Promise<never>(() => {}),
    return: () => Promise.resolve({ done: true, value: undefined }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

export function createLiveGroups(options: {
  pubsub: ServerPubSub;
  database: Database;
  maxQueue: number;
  mask: MaskError;
  /** An event of a run was written to a subscriber's socket or stream (the delivery metric). */
  onEventDelivered?: (committedAt: Date) => void;
}): LiveGroups {
  const { pubsub, database, maxQueue, mask } = options;
  const groups = new Map<string, Group<never>>();
  const reads = createSharedReads();

  function open<T>(key: string, feed: PubSub<T>, topic: string, render: Render<T>, cacheKey: (value: T) => unknown, accepts: (value: T) => boolean): Group<T> {
    const members = new Set<Member<T>>();
    // Renderings by event: members replaying or catching up after a wait reuse them.
    const cache = new Map<unknown, Rendered | Promise<Rendered>>();
    const cached: Render<T> = (value) => {
      const k = cacheKey(value);
      const hit = cache.get(k);
      if (hit) return hit;
      const rendered = render(value);
      cache.set(k, rendered);
      if (rendered instanceof Promise) void rendered.then((done) => cache.get(k) === rendered && cache.set(k, done));
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value);
      return rendered;
    };
    const listener = feed.attach(
      topic,
      (value) => {
        if (!accepts(value)) return;
        for (const member of members) member.offer(value);
      },
      () => {
        for (const member of members) member.close();
      },
    );
    const group: Group<T> = {
      render: cached,
      join: (member) => members.add(member),
      leave(member) {
        members.delete(member);
        if (members.size > 0) return;
        listener.close();
        groups.delete(key);
      },
    };
    groups.set(key, group as Group<never>);
    return group;
  }

  /** Joins (or opens) the group of `key`; the member is created with the group's rendering and sink. */
  function join<T>(
    context: Context,
    key: string,
    opened: () => Group<T>,
    create: (group: Group<T>, sink: LiveSink, leave: () => void) => Member<T>,
  ): AsyncIterableIterator<never> {
    const slot = (context as LiveContext).live!;
    const group = (groups.get(key) as Group<T> | undefined) ?? opened();
    const results = slot.frames ? null : resultsSink();
    const sink = slot.frames ? framesSink(slot.frames.writer, slot.frames.id) : results!.sink;
    const member: Member<T> = create(group, sink, () => group.leave(member));
    group.join(member);
    member.start();
    slot.stream = results ? results.stream(member) : framesStream(member);
    return placeholder();
  }

  return {
    runEvents(context, info, runId, afterSeq) {
      const args = (context as LiveContext).live!.args!;
      const key = groupKey('runEvents', runId, context, args, info);
      const opened = () =>
        open<RunEventRow>(key, pubsub.events, runId, createRender(args, context, mask), (event) => event.seq, () => true);
      return join<RunEventRow>(context, key, opened, (group, sink, leave) => {
        const sequence: Sequence<RunEventRow> = {
          after: afterSeq,
          seqOf: (event) => event.seq,
          isFinal: (event) => finalEventTypes.has(event.type),
          read: (seq) => reads.get(`events ${runId} ${seq}`, () => readRunEvents(database, runId, seq, pageSize)),
          pageSize,
          // Read once joined, before the replay: if the run was final then, all of its events are stored.
          endedBefore: async () => {
            const organizationId = context.auth!.organizationId;
            const run = await reads.get(`run ${organizationId} ${runId}`, () => findRun(database.db, organizationId, runId));
            return !run || finalRunStatuses.has(run.status);
          },
        };
        return createMember({
          sink,
          render: group.render,
          maxQueue,
          onTooSlow: () => pubsub.events.countDrop(runId),
          onEnd: leave,
          sequence,
          ...(options.onEventDelivered ? { delivered: (event: RunEventRow) => options.onEventDelivered!(event.at) } : {}),
        });
      });
    },

    runUpdates(context, info, workflowId) {
      const args = (context as LiveContext).live!.args!;
      const organizationId = context.auth!.organizationId;
      const key = groupKey('runUpdates', organizationId, context, args, info);
      const opened = () =>
        open<RunRow>(key, pubsub.runs, organizationId, createRender(args, context, mask), (run) => run,
          (run) => workflowId === null || run.workflowId === workflowId);
      return join<RunRow>(context, key, opened, (group, sink, leave) =>
        createMember({ sink, render: group.render, maxQueue, onTooSlow: () => pubsub.runs.countDrop(organizationId), onEnd: leave }));
    },

    get size() {
      return groups.size;
    },
  };
}
