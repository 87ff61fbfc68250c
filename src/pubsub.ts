// In-process pubsub for live run events and run updates, with a bounded queue per subscriber: one that
// falls too far behind is dropped (its iterator throws SubscriberTooSlowError); publishers never block or throw.
// Listeners are called synchronously instead (a live group fans out to its own bounded members).

/** The subscriber's queue passed its bound and it was dropped; it should re-subscribe with afterSeq. */
export class SubscriberTooSlowError extends Error {
  override name = 'SubscriberTooSlowError';
  constructor(readonly queued: number) {
    super(`subscriber too slow: more than ${queued} events queued; subscribe again with afterSeq`);
  }
}

/** A live feed of one topic. `close()` ends it (a pending `next()` resolves done). */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  close(): void;
  /** Resolves with the error when the subscriber is dropped as too slow; never resolves otherwise. */
  readonly dropped: Promise<SubscriberTooSlowError>;
}

export interface PubSub<T> {
  /** Hands `value` to every subscriber of `topic`; drops those already too far behind. */
  publish(topic: string, value: T): void;
  /** Starts buffering `topic` at once, before the first `next()`. */
  subscribe(topic: string): Subscription<T>;
  /**
   * Calls `listener` synchronously with every value published on `topic` until `close()`; `onEnd` runs
   * when the pubsub closes. A listener counts as a subscriber and is never dropped.
   */
  attach(topic: string, listener: (value: T) => void, onEnd?: () => void): { close(): void };
  /** Counts a subscriber dropped as too slow by a listener's own bound (see droppedCount). */
  countDrop(topic: string): void;
  /** Subscribers per topic (or in total), for health and tests. */
  subscriberCount(topic?: string): number;
  /** Subscribers dropped as too slow since creation. */
  droppedCount(): number;
  /** Ends every subscription. */
  close(): void;
}

/** The server's two feeds: run events keyed by run id, run updates keyed by organization id. */
export interface RunPubSub<Event, RunUpdate> {
  events: PubSub<Event>;
  runs: PubSub<RunUpdate>;
}

export interface PubSubOptions {
  /** Most values queued for one subscriber before it is dropped. */
  maxQueue: number;
  onDrop?(topic: string): void;
}

interface Subscriber<T> {
  listener?: (value: T) => void;
  onEnd?: () => void;
  onDrop(error: SubscriberTooSlowError): void;
  queue: T[];
  head: number;
  waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | null;
  failure: Error | null;
  done: boolean;
}

/** Creates a pubsub whose subscribers each hold at most `maxQueue` undelivered values. */
export function createPubSub<T>(options: PubSubOptions): PubSub<T> {
  const topics = new Map<string, Set<Subscriber<T>>>();
  let dropped = 0;

  function detach(topic: string, subscriber: Subscriber<T>): void {
    const set = topics.get(topic);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) topics.delete(topic);
  }

  function end(topic: string, subscriber: Subscriber<T>, failure: Error | null): void {
    if (subscriber.done) return;
    subscriber.done = true;
    subscriber.failure = failure;
    detach(topic, subscriber);
    if (failure) {
      // The backlog is what made it too slow: drop it and fail on the next read.
      subscriber.queue = [];
      subscriber.head = 0;
    }
    const waiting = subscriber.waiting;
    subscriber.waiting = null;
    subscriber.onEnd?.();
    if (waiting && failure) waiting.reject(failure);
    else if (waiting) waiting.resolve({ value: undefined, done: true });
  }

  return {
    publish(topic, value) {
      const set = topics.get(topic);
      if (!set) return;
      for (const subscriber of [...set]) {
        if (subscriber.listener) {
          subscriber.listener(value);
          continue;
        }
        if (subscriber.waiting) {
          const waiting = subscriber.waiting;
          subscriber.waiting = null;
          waiting.resolve({ value, done: false });
          continue;
        }
        if (subscriber.queue.length - subscriber.head >= options.maxQueue) {
          dropped++;
          const error = new SubscriberTooSlowError(options.maxQueue);
          end(topic, subscriber, error);
          subscriber.onDrop(error);
          options.onDrop?.(topic);
          continue;
        }
        subscriber.queue.push(value);
      }
    },

    subscribe(topic) {
      let onDrop!: (error: SubscriberTooSlowError) => void;
      const droppedPromise = new Promise<SubscriberTooSlowError>((resolve) => (onDrop = resolve));
      const subscriber: Subscriber<T> = { onDrop, queue: [], head: 0, waiting: null, failure: null, done: false };
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(subscriber);
      const iterator: Subscription<T> = {
        next() {
          if (subscriber.head < subscriber.queue.length) {
            const value = subscriber.queue[subscriber.head++] as T;
            if (subscriber.head > 1024 && subscriber.head * 2 > subscriber.queue.length) {
              subscriber.queue = subscriber.queue.slice(subscriber.head);
              subscriber.head = 0;
            }
            return Promise.resolve({ value, done: false });
          }
          if (subscriber.failure) {
            const failure = subscriber.failure;
            subscriber.failure = null;
            return Promise.reject(failure);
          }
          if (subscriber.done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve, reject) => {
            subscriber.waiting = { resolve, reject };
          });
        },
        return() {
          end(topic, subscriber, null);
          subscriber.queue = [];
          subscriber.head = 0;
          return Promise.resolve({ value: undefined, done: true });
        },
        close() {
          void iterator.return!();
        },
        dropped: droppedPromise,
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },

    attach(topic, listener, onEnd) {
      const subscriber: Subscriber<T> = {
        listener, onDrop: () => {}, queue: [], head: 0, waiting: null, failure: null, done: false,
        ...(onEnd ? { onEnd } : {}),
      };
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(subscriber);
      return {
        close: () => {
          delete subscriber.onEnd;
          end(topic, subscriber, null);
        },
      };
    },

    countDrop(topic) {
      dropped++;
      options.onDrop?.(topic);
    },

    subscriberCount(topic) {
      if (topic !== undefined) return topics.get(topic)?.size ?? 0;
      let count = 0;
      for (const set of topics.values()) count += set.size;
      return count;
    },

    droppedCount: () => dropped,

    close() {
      for (const [topic, set] of [...topics]) for (const subscriber of [...set]) end(topic, subscriber, null);
    },
  };
}
