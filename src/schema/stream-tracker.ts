// Keeps count of the subscription streams being served, so that a stopping server can let them send
// their last events (a run's final event, "complete") before it closes the sockets.

export interface StreamTracker {
  /** The same stream, counted until it ends (done, return or throw). */
  track<T>(stream: AsyncIterableIterator<T>): AsyncIterableIterator<T>;
  /** Resolves once no tracked stream is open, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void>;
  readonly open: number;
}

export function createStreamTracker(): StreamTracker {
  let open = 0;
  let waiters: (() => void)[] = [];

  const release = () => {
    open--;
    if (open === 0) {
      const done = waiters;
      waiters = [];
      // One more turn: the transport sends "complete" right after it sees the end.
      setImmediate(() => done.forEach((resolve) => resolve()));
    }
  };

  return {
    get open() {
      return open;
    },
    track<T>(stream: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
      open++;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        release();
      };
      const settle = <R extends IteratorResult<T>>(promise: Promise<R>): Promise<R> =>
        promise.then(
          (result) => {
            if (result.done) end();
            return result;
          },
          (error: unknown) => {
            end();
            throw error;
          },
        );
      const tracked: AsyncIterableIterator<T> = {
        next: () => settle(stream.next()),
        return: (value?: unknown) => {
          const result = stream.return ? stream.return(value) : Promise.resolve({ value: undefined, done: true as const });
          return settle(Promise.resolve(result) as Promise<IteratorResult<T>>).finally(end);
        },
        throw: (error?: unknown) => {
          const result = stream.throw ? stream.throw(error) : Promise.reject(error);
          return settle(Promise.resolve(result)).finally(end);
        },
        [Symbol.asyncIterator]: () => tracked,
      };
      return tracked;
    },
    drained(timeoutMs) {
      if (open === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
