// What a graphql-ws socket sends goes out through its writer: frames are queued without waiting for
// any write and leave once per event-loop turn, corked, so that a burst of events to one socket is one
// system call. `buffered()` tells how much is waiting (the backpressure threshold is the caller's).
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export interface SocketWriter {
  /** Queues one text frame (dropped if the socket is no longer open). */
  send(text: string): void;
  /** Sends what is queued now (before a close frame, say). */
  flush(): void;
  /** Bytes queued here and not yet taken by the kernel. */
  buffered(): number;
  /** Calls `callback` once the socket's buffers have drained (at once if nothing waits). */
  onDrain(callback: () => void): void;
}

const dirty = new Set<() => void>();
let scheduled = false;

/** One setImmediate for every socket with frames queued this turn. */
function schedule(flush: () => void): void {
  dirty.add(flush);
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    const flushes = [...dirty];
    dirty.clear();
    for (const each of flushes) each();
  });
}

/** The writer of `socket`, whose TCP connection is `raw` (the upgrade request's socket). */
export function createSocketWriter(socket: WebSocket, raw: Socket): SocketWriter {
  let frames: string[] = [];
  let queuedBytes = 0;
  let drainWaiters: (() => void)[] = [];

  const flush = () => {
    dirty.delete(flush);
    if (frames.length === 0) return;
    const batch = frames;
    frames = [];
    queuedBytes = 0;
    if (socket.readyState !== socket.OPEN) return;
    raw.cork();
    for (const text of batch) socket.send(text);
    raw.uncork();
    if (drainWaiters.length > 0 && raw.writableLength === 0) drained();
  };

  const drained = () => {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const waiter of waiters) waiter();
  };
  raw.on('drain', drained);
  socket.once('close', () => {
    frames = [];
    raw.off('drain', drained);
    // Whoever waits to write learns it cannot: their next check finds the socket closed.
    drained();
  });

  return {
    send(text) {
      if (socket.readyState !== socket.OPEN) return;
      frames.push(text);
      // Strings are mostly one byte per character here; the exact count is not needed for a threshold.
      queuedBytes += text.length;
      if (frames.length === 1) schedule(flush);
    },
    flush,
    buffered: () => queuedBytes + socket.bufferedAmount,
    onDrain(callback) {
      if (socket.readyState !== socket.OPEN || (frames.length === 0 && raw.writableLength === 0)) {
        queueMicrotask(callback);
        return;
      }
      drainWaiters.push(callback);
    },
  };
}
