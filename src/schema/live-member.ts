// One subscriber of a live group: the values its group offers, in order, handed to its transport (a
// sink) as the group rendered them. It writes without waiting while its sink takes more; past the
// sink's threshold it keeps the values (references, not copies) and is dropped with
// SubscriberTooSlowError once more than `maxQueue` wait. With a sequence (runEvents), it first replays
// the stored values after its own position, and fills any gap in what it is offered from the store.
import { SubscriberTooSlowError } from '../pubsub.js';
import type { Render, Rendered } from './live-render.js';

/** Where a member's rendered values go: graphql-ws frames on a socket, or results for yoga (SSE). */
export interface LiveSink {
  write(rendered: Rendered): void;
  /** False while the transport holds more than it should; `whenReady` calls back once it took some. */
  ready(): boolean;
  whenReady(callback: () => void): void;
}

/** Stored values of a sequence (runEvents): replayed after the member's position, gaps filled. */
export interface Sequence<T> {
  after: number;
  seqOf(value: T): number;
  isFinal(value: T): boolean;
  /** The stored values after `seq`, in order, at most `pageSize`. */
  read(seq: number): Promise<T[]>;
  pageSize: number;
  /** Whether the sequence had ended before the member joined (then it ends after the replay). */
  endedBefore: () => Promise<boolean>;
}

export interface Member<T> {
  /** A value of the group, in publication order (synchronous). */
  offer(value: T): void;
  /** Resolves when the member completed, rejects when it was dropped or failed. */
  readonly finished: Promise<void>;
  /** Ends it without a word (the client left). */
  close(): void;
  /** Starts the replay (once the member joined its group: nothing published after is missed). */
  start(): void;
}

export interface MemberOptions<T> {
  sink: LiveSink;
  render: Render<T>;
  maxQueue: number;
  /** The member was dropped as too slow. */
  onTooSlow(): void;
  /** The member ended (for its group to forget it). */
  onEnd(): void;
  /** A live value (not a replayed one) was written to the sink: for the delivery metric. */
  delivered?(value: T): void;
  sequence?: Sequence<T>;
}

const isPromise = <V>(value: V | Promise<V>): value is Promise<V> => value instanceof Promise;

export function createMember<T>(options: MemberOptions<T>): Member<T> {
  const { sink, render, sequence } = options;
  let queue: T[] = [];
  let head = 0;
  let last = sequence?.after ?? 0;
  // While busy (replaying, waiting for a rendering or for the sink), offers only queue.
  let busy = sequence !== undefined;
  let ended = false;
  let settle!: (error?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
  finished.catch(() => {}); // the transport reads it; a member closed early is read by nobody

  const finish = (error?: unknown) => {
    if (ended) return;
    ended = true;
    queue = [];
    head = 0;
    options.onEnd();
    settle(error);
  };
  const resume = () => {
    busy = false;
    pump();
  };
  const wait = (promise: Promise<unknown>) => {
    busy = true;
    promise.then(resume, finish);
  };

  /** Sends the stored values after `last`; true once the final one went out (or the member ended). */
  const replay = async (): Promise<boolean> => {
    for (;;) {
      const page = await sequence!.read(last);
      for (const value of page) {
        const rendered = await render(value);
        while (!ended && !sink.ready()) await new Promise<void>((resolve) => sink.whenReady(resolve));
        if (ended) return true;
        sink.write(rendered);
        last = sequence!.seqOf(value);
        if (sequence!.isFinal(value)) return true;
      }
      if (page.length < sequence!.pageSize) return ended;
    }
  };
  const fillGap = async () => {
    if (await replay()) finish();
  };

  /** The common case: nothing waits, so `value` goes out now. False when it must queue. */
  function deliver(value: T): boolean {
    if (sequence) {
      const seq = sequence.seqOf(value);
      if (seq <= last) return true;
      if (seq > last + 1) return false;
    }
    const rendered = render(value);
    if (isPromise(rendered) || !sink.ready()) return false;
    sink.write(rendered);
    options.delivered?.(value);
    if (sequence) {
      last = sequence.seqOf(value);
      if (sequence.isFinal(value)) finish();
    }
    return true;
  }

  function pump(): void {
    while (!ended && head < queue.length) {
      const value = queue[head] as T;
      if (sequence) {
        const seq = sequence.seqOf(value);
        if (seq <= last) {
          head++;
          continue;
        }
        if (seq > last + 1) return wait(fillGap());
      }
      const rendered = render(value);
      if (isPromise(rendered)) return wait(rendered);
      if (!sink.ready()) {
        busy = true;
        return sink.whenReady(resume);
      }
      head++;
      sink.write(rendered);
      options.delivered?.(value);
      if (sequence) {
        last = sequence.seqOf(value);
        if (sequence.isFinal(value)) return finish();
      }
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  return {
    start() {
      if (!sequence) return;
      // Joined the group first: what is published from now on queues while the store is replayed.
      void (async () => {
        const endedBefore = await sequence.endedBefore();
        if ((await replay()) || endedBefore) return finish();
        resume();
      })().catch(finish);
    },
    offer(value) {
      if (ended) return;
      // Values the replay already sent wait for nothing: only what is still to go counts toward maxQueue.
      if (sequence) while (head < queue.length && sequence.seqOf(queue[head] as T) <= last) head++;
      if (queue.length - head >= options.maxQueue) {
        options.onTooSlow();
        return finish(new SubscriberTooSlowError(options.maxQueue));
      }
      if (!busy && head === queue.length && deliver(value)) return;
      queue.push(value);
      if (!busy) pump();
    },
    finished,
    close: () => finish(),
  };
}
