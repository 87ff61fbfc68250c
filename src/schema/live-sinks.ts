// The two transports of a live member, each with the stream that stands for the subscription:
// graphql-ws frames written straight to the socket's writer (the stream yields nothing and ends with
// the member), and results yielded to yoga (SSE, graphql-sse), which serializes them itself.
import type { ExecutionResult } from 'graphql';
import type { Member, LiveSink } from './live-member.js';
import type { Rendered } from './live-render.js';
import type { SocketWriter } from './ws-writer.js';

/** Past this many bytes waiting on its socket, a member keeps its events instead of writing them. */
export const socketHighWater = 256 * 1024;
/** Results yoga has not taken yet, past which a member keeps its events. */
const resultsHighWater = 64;

type Done = IteratorResult<never, undefined>;
const done: Done = { done: true, value: undefined };

/** How a subscription's stream is left early (the client completes it, or the server closes it): the member goes. */
function closers(member: Member<unknown>) {
  return {
    return(): Promise<Done> {
      member.close();
      return Promise.resolve(done);
    },
    throw(error?: unknown): Promise<never> {
      member.close();
      return Promise.reject(error);
    },
  };
}

/**
 * A subscription's `next` frames: `{"id":…,"type":"next","payload":<the group's payload>}`. A class, as
 * the frames stream below: an idle subscriber's sink and stream hold their fields only.
 */
class SocketFrames implements LiveSink {
  private readonly prefix: string;

  constructor(
    private readonly writer: SocketWriter,
    id: string,
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  }

  write(rendered: Rendered): void {
    this.writer.send(this.prefix + rendered.payload() + '}');
  }

  ready(): boolean {
    return this.writer.buffered() < socketHighWater;
  }

  whenReady(callback: () => void): void {
    this.writer.onDrain(callback);
  }
}

export function framesSink(writer: SocketWriter, id: string): LiveSink {
  return new SocketFrames(writer, id);
}

/** What a member's failure becomes for its subscriber (an error as the client may see it). */
export type Failure = (error: unknown) => unknown;

const returnDone = (): Done => done;

/** The stream of a member whose frames go to the socket: it yields nothing, and ends as the member does. */
class FramesStream implements AsyncIterableIterator<never> {
  private ended: Promise<Done> | null = null;

  constructor(
    private readonly member: Member<unknown>,
    private readonly failure: Failure,
  ) {}

  next(): Promise<Done> {
    return (this.ended ??= this.member.finished.then(returnDone, (error: unknown) => Promise.reject(this.failure(error))));
  }

  return(): Promise<Done> {
    this.member.close();
    return Promise.resolve(done);
  }

  throw(error?: unknown): Promise<never> {
    this.member.close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }
}

export function framesStream(member: Member<unknown>, failure: Failure): AsyncIterableIterator<never> {
  return new FramesStream(member, failure);
}

/** A sink of results and the stream yoga reads them from. */
export function resultsSink(): { sink: LiveSink; stream(member: Member<unknown>, failure: Failure): AsyncIterableIterator<ExecutionResult> } {
  const results: ExecutionResult[] = [];
  let head = 0;
  let reader: { resolve(result: IteratorResult<ExecutionResult>): void; reject(error: unknown): void } | null = null;
  let readyWaiters: (() => void)[] = [];
  const sink: LiveSink = {
    write(rendered) {
      if (reader) {
        const read = reader;
        reader = null;
        read.resolve({ done: false, value: rendered.result });
      } else results.push(rendered.result);
    },
    ready: () => results.length - head < resultsHighWater,
    whenReady: (callback) => readyWaiters.push(callback),
  };
  const stream = (member: Member<unknown>, failure: Failure): AsyncIterableIterator<ExecutionResult> => {
    let ended: Promise<IteratorResult<ExecutionResult>> | null = null;
    void member.finished.then(
      () => (ended = Promise.resolve(done)),
      (error: unknown) => {
        ended = Promise.reject(failure(error));
        ended.catch(() => {});
      },
    ).then(() => {
      if (reader && head === results.length) {
        const read = reader;
        reader = null;
        ended!.then(read.resolve, read.reject);
      }
    });
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next() {
        if (head < results.length) {
          const value = results[head++]!;
          if (head === results.length) {
            results.length = 0;
            head = 0;
          }
          const waiters = readyWaiters;
          readyWaiters = [];
          for (const waiter of waiters) waiter();
          return Promise.resolve({ done: false, value });
        }
        if (ended) return ended;
        return new Promise((resolve, reject) => (reader = { resolve, reject }));
      },
      ...closers(member),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  };
  return { sink, stream };
}
