// Live groups: the subscribers of one run's events (or of one organization's run updates) that sent the
// same operation with the same variables (afterSeq aside) under the same organization and role share
// one execution per event, and for graphql-ws one serialization. A group listens to the pubsub once and
// hands each value to its members (live-member.ts), each written by its own transport (live-sinks.ts).
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { findRun } from '../db/queries/runs.js';
import { readRunEvents } from '../db/run-reads.js';
import type { RunEventRow, RunRow } from '../db/schema.js';
import { finalRunStatuses } from '../engine/index.js';
import type { PubSub } from '../pubsub.js';
import type { ServerPubSub } from '../runs/event-feed.js';
import type { Database } from '../db/client.js';
import type { Context } from './context.js';
import { groupKey } from './live-key.js';
import { createMember, type Member, type MemberShare } from './live-member.js';
import { createSharedReads } from './live-reads.js';
import { createRender, type MaskError, type OperationArgs, type Render, type Rendered } from './live-render.js';
import { framesSink, framesStream, resultsSink } from './live-sinks.js';
import { liveFeedError } from './subscriptions.js';
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
  /** What its members share (its rendering, its sequence, its callbacks). */
  share: MemberShare<T>;
  join(member: Member<T>): void;
}

/** What a group's members share beyond the rendering: per topic, made once when the group opens. */
type ShareOf<T> = Omit<MemberShare<T>, 'render' | 'maxQueue' | 'leave'>;

const pageSize = 500;
const cacheSize = 256;
const finalEventTypes: ReadonlySet<string> = new Set(['RUN_SUCCEEDED', 'RUN_FAILED', 'RUN_CANCELLED']);
const seqOf = (event: RunEventRow) => event.seq;
const isFinal = (event: RunEventRow) => finalEventTypes.has(event.type);

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
  const { pubsub, database, maxQueue, mask, onEventDelivered } = options;
  const groups = new Map<string, Group<never>>();
  const reads = createSharedReads();
  // A group's stream is served without yoga's subscription hooks (live-plugin.ts): it masks its errors itself.
  const failure = (error: unknown): GraphQLError => {
    const feed = liveFeedError(error);
    if (feed instanceof GraphQLError) return mask(feed);
    const originalError = feed instanceof Error ? feed : new Error(String(feed));
    return mask(new GraphQLError(originalError.message, { originalError }));
  };

  function open<T>(key: string, feed: PubSub<T>, topic: string, render: Render<T>, cacheKey: (value: T) => unknown, accepts: (value: T) => boolean, shared: ShareOf<T>): Group<T> {
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
      share: {
        ...shared,
        render: cached,
        maxQueue,
        leave(member) {
          members.delete(member);
          if (members.size > 0) return;
          listener.close();
          groups.delete(key);
        },
      },
      join: (member) => members.add(member),
    };
    groups.set(key, group as unknown as Group<never>);
    return group;
  }

  /** Joins the group `group` (`after`: the position of a runEvents subscriber in the run's sequence). */
  function join<T>(context: Context, group: Group<T>, after: number): AsyncIterableIterator<never> {
    const slot = (context as LiveContext).live!;
    let member: Member<T>;
    if (slot.frames) {
      member = createMember(group.share, framesSink(slot.frames.writer, slot.frames.id), after);
      slot.stream = framesStream(member, failure);
    } else {
      const results = resultsSink();
      member = createMember(group.share, results.sink, after);
      slot.stream = results.stream(member, failure);
    }
    group.join(member);
    member.start();
    return placeholder();
  }

  return {
    runEvents(context, info, runId, afterSeq) {
      const args = (context as LiveContext).live!.args!;
      const key = groupKey('runEvents', runId, context, args, info);
      // The key holds the organization: every member of the group reads the run as this one does.
      const organizationId = context.auth!.organizationId;
      const group = (groups.get(key) as Group<RunEventRow> | undefined) ??
        open<RunEventRow>(key, pubsub.events, runId, createRender(args, context, mask), seqOf, () => true, {
          onTooSlow: () => pubsub.events.countDrop(runId),
          ...(onEventDelivered ? { delivered: (event: RunEventRow) => onEventDelivered(event.at) } : {}),
          sequence: {
            seqOf,
            isFinal,
            read: (seq) => reads.get(`events ${runId} ${seq}`, () => readRunEvents(database, runId, seq, pageSize)),
            pageSize,
            // Read once joined, before the replay: if the run was final then, all of its events are stored.
            endedBefore: async () => {
              const run = await reads.get(`run ${organizationId} ${runId}`, () => findRun(database.db, organizationId, runId));
              return !run || finalRunStatuses.has(run.status);
            },
          },
        });
      return join(context, group, afterSeq);
    },

    runUpdates(context, info, workflowId) {
      const args = (context as LiveContext).live!.args!;
      const organizationId = context.auth!.organizationId;
      const key = groupKey('runUpdates', organizationId, context, args, info);
      const group = (groups.get(key) as Group<RunRow> | undefined) ??
        open<RunRow>(key, pubsub.runs, organizationId, createRender(args, context, mask), (run) => run,
          (run) => workflowId === null || run.workflowId === workflowId, { onTooSlow: () => pubsub.runs.countDrop(organizationId) });
      return join(context, group, 0);
    },

    get size() {
      return groups.size;
    },
  };
}
