// What a graphql-ws socket sends goes out through its writer: frames are queued without waiting for
// any write and leave once per event-loop turn as one buffer of WebSocket frames, so that a burst of
// events to one socket is one allocation and one system call. `buffered()` tells how much is waiting
// (the backpressure threshold is the caller's).
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

/**
 * `texts` as unmasked, unfragmented WebSocket text frames (RFC 6455 §5.2: what ws's Sender writes for
 * a server's `send(text)` without compression), in one buffer.
 */
function framed(texts: string[]): Buffer {
  const lengths = texts.map((text) => Buffer.byteLength(text));
  let size = 0;
  for (const length of lengths) size += length + (length < 126 ? 2 : length < 65536 ? 4 : 10);
  const buffer = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    const length = lengths[i]!;
    buffer[at++] = 0x81; // FIN, text
    if (length < 126) buffer[at++] = length;
    else if (length < 65536) {
      buffer[at++] = 126;
      at = buffer.writeUInt16BE(length, at);
    } else {
      buffer[at++] = 127;
      at = buffer.writeUInt32BE(0, at);
      at = buffer.writeUInt32BE(length, at);
    }
    at += buffer.write(texts[i]!, at, 'utf8');
  }
  return buffer;
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
    // ws writes its own frames (pings, close) straight to the same socket, in call order: whole
    // frames written here interleave with them correctly. With compression negotiated, ws frames them.
    if (socket.extensions === '') raw.write(framed(batch));
    else {
      raw.cork();
      for (const text of batch) socket.send(text);
      raw.uncork();
    }
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
