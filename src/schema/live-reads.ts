// Reads of the store shared by live members that ask for the same thing at about the same time (a
// thousand subscribers of one run joining together): reads go in waves, one query per distinct key and
// wave. A request made while a wave is in flight waits for the next one, so every read a member gets
// started after it asked (after it joined its group): nothing published in between is missed.

export interface SharedReads {
  /** `read()`'s result, shared with the other requests for `key` of the same wave. */
  get<V>(key: string, read: () => Promise<V>): Promise<V>;
}

interface Waiting {
  read: () => Promise<unknown>;
  settle: { resolve(value: unknown): void; reject(error: unknown): void }[];
}

export function createSharedReads(): SharedReads {
  let waiting = new Map<string, Waiting>();
  let inFlight = false;

  const launch = () => {
    inFlight = true;
    const wave = waiting;
    waiting = new Map();
    const reads = [...wave.values()].map((entry) =>
      entry.read().then(
        (value) => entry.settle.forEach((s) => s.resolve(value)),
        (error: unknown) => entry.settle.forEach((s) => s.reject(error)),
      ),
    );
    void Promise.all(reads).then(() => {
      inFlight = false;
      if (waiting.size > 0) launch();
    });
  };

  return {
    get<V>(key: string, read: () => Promise<V>): Promise<V> {
      return new Promise<V>((resolve, reject) => {
        let entry = waiting.get(key);
        if (!entry) waiting.set(key, (entry = { read, settle: [] }));
        entry.settle.push({ resolve: resolve as (value: unknown) => void, reject });
        if (!inFlight) launch();
      });
    },
  };
}
