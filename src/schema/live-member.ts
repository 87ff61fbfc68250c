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

/** Stored values of a sequence (runEvents): replayed after a member's position, gaps filled. */
export interface Sequence<T> {
  seqOf(value: T): number;
  isFinal(value: T): boolean;
  /** The stored values after `seq`, in order, at most `pageSize`. */
  read(seq: number): Promise<T[]>;
  pageSize: number;
  /** Whether the sequence had ended before the member joined (then it ends after the replay). */
  endedBefore(): Promise<boolean>;
}

/** What every member of one group shares: made once per group, not per subscriber. */
export interface MemberShare<T> {
  render: Render<T>;
  maxQueue: number;
  /** A member was dropped as too slow. */
  onTooSlow(): void;
  /** A member ended (for its group to forget it). */
  leave(member: Member<T>): void;
  /** A live value (not a replayed one) was written to a member's sink: for the delivery metric. */
  delivered?(value: T): void;
  sequence?: Sequence<T>;
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

const isPromise = <V>(value: V | Promise<V>): value is Promise<V> => value instanceof Promise;
const ignore = () => {};

/**
 * A member of a group sharing `share`, writing to `sink`, after `after` in the sequence (runEvents).
 * A class rather than closures: an idle subscriber holds only its fields; its methods and everything
 * else it needs are shared by the group (each closure made per subscriber cost ~0.3 KB under tsx).
 */
class LiveMember<T> implements Member<T> {
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  private rejectFinished!: (error: unknown) => void;
  private queue: T[] = [];
  private head = 0;
  private last: number;
  // While busy (replaying, waiting for a rendering or for the sink), offers only queue.
  private busy: boolean;
  private ended = false;

  constructor(
    private readonly share: MemberShare<T>,
    private readonly sink: LiveSink,
    after: number,
  ) {
    this.last = after;
    this.busy = share.sequence !== undefined;
    this.finished = new Promise<void>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    this.finished.catch(ignore); // the transport reads it; a member closed early is read by nobody
  }

  start(): void {
    const sequence = this.share.sequence;
    if (!sequence) return;
    // Joined the group first: what is published from now on queues while the store is replayed.
    void (async () => {
      const endedBefore = await sequence.endedBefore();
      if ((await this.replay()) || endedBefore) return this.finish();
      this.resume();
    })().catch((error: unknown) => this.finish(error));
  }

  offer(value: T): void {
    if (this.ended) return;
    const { sequence, maxQueue } = this.share;
    // Values the replay already sent wait for nothing: only what is still to go counts toward maxQueue.
    if (sequence) while (this.head < this.queue.length && sequence.seqOf(this.queue[this.head] as T) <= this.last) this.head++;
    if (this.queue.length - this.head >= maxQueue) {
      this.share.onTooSlow();
      return this.finish(new SubscriberTooSlowError(maxQueue));
    }
    if (!this.busy && this.head === this.queue.length && this.deliver(value)) return;
    this.queue.push(value);
    if (!this.busy) this.pump();
  }

  close(): void {
    this.finish();
  }

  private finish(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.head = 0;
    this.share.leave(this);
    if (error === undefined) this.resolveFinished();
    else this.rejectFinished(error);
  }

  private resume(): void {
    this.busy = false;
    this.pump();
  }

  private wait(promise: Promise<unknown>): void {
    this.busy = true;
    promise.then(
      () => this.resume(),
      (error: unknown) => this.finish(error),
    );
  }

  /** Sends the stored values after `last`; true once the final one went out (or the member ended). */
  private async replay(): Promise<boolean> {
    const { sequence, render } = this.share as Required<MemberShare<T>>;
    for (;;) {
      const page = await sequence.read(this.last);
      for (const value of page) {
        const rendered = await render(value);
        while (!this.ended && !this.sink.ready()) await new Promise<void>((resolve) => this.sink.whenReady(resolve));
        if (this.ended) return true;
        this.sink.write(rendered);
        this.last = sequence.seqOf(value);
        if (sequence.isFinal(value)) return true;
      }
      if (page.length < sequence.pageSize) return this.ended;
    }
  }

  private async fillGap(): Promise<void> {
    if (await this.replay()) this.finish();
  }

  /** The common case: nothing waits, so `value` goes out now. False when it must queue. */
  private deliver(value: T): boolean {
    const { sequence } = this.share;
    if (sequence) {
      const seq = sequence.seqOf(value);
      if (seq <= this.last) return true;
      if (seq > this.last + 1) return false;
    }
    const rendered = this.share.render(value);
    if (isPromise(rendered) || !this.sink.ready()) return false;
    this.sink.write(rendered);
    this.share.delivered?.(value);
    if (sequence) {
      this.last = sequence.seqOf(value);
      if (sequence.isFinal(value)) this.finish();
    }
    return true;
  }

  private pump(): void {
    const { sequence } = this.share;
    while (!this.ended && this.head < this.queue.length) {
      const value = this.queue[this.head] as T;
      if (sequence) {
        const seq = sequence.seqOf(value);
        if (seq <= this.last) {
          this.head++;
          continue;
        }
        if (seq > this.last + 1) return this.wait(this.fillGap());
      }
      const rendered = this.share.render(value);
      if (isPromise(rendered)) return this.wait(rendered);
      if (!this.sink.ready()) {
        this.busy = true;
        return this.sink.whenReady(() => this.resume());
      }
      this.head++;
      this.sink.write(rendered);
      this.share.delivered?.(value);
      if (sequence) {
        this.last = sequence.seqOf(value);
        if (sequence.isFinal(value)) return this.finish();
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** A member of the group sharing `share`, writing to `sink`; with a sequence, it starts after `after`. */
export function createMember<T>(share: MemberShare<T>, sink: LiveSink, after = 0): Member<T> {
  return new LiveMember(share, sink, after);
}
