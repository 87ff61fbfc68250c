// Braid's own socket adapter for graphql-ws: the protocol is graphql-ws's `makeServer`; the sockets are
// ws's, written through a SocketWriter (ws-writer.ts) that never waits for a write, so that a live
// group can put its frames on the same ordered queue as graphql-ws's own messages.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { createSocketWriter, type SocketWriter } from './ws-writer.js';

/** What graphql-ws's context carries for each socket (`ctx.extra`). */
export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
  writer: SocketWriter;
}

const keepAliveMs = 12_000;
const internalError = 'Internal server error';

/** Serves graphql-ws on `wss` as graphql-ws's own `useServer` does, over Braid's writer; returns its disposer. */
export function serveGraphqlWs<P extends Record<string, unknown>, E extends Record<PropertyKey, unknown>>(
  options: ServerOptions<P, SocketExtra & E>,
  wss: WebSocketServer,
) {
  const server = makeServer(options);
  const writers = new Map<WebSocket, SocketWriter>();
  wss.options.handleProtocols = handleProtocols;
  wss.once('error', (error) => {
    console.error('graphql-ws: the WebSocket server failed', error);
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, internalError);
  });
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.once('error', (error) => {
      console.error('graphql-ws: a socket failed', error);
      socket.close(CloseCode.InternalServerError, internalError);
    });
    // A client that answers no ping for keepAliveMs is cut off.
    let pongWait: NodeJS.Timeout | null = null;
    const pings = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
      socket.once('pong', () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, keepAliveMs);
    const writer = createSocketWriter(socket, request.socket as Socket);
    writers.set(socket, writer);
    const extra = { socket, request, writer } as SocketExtra & E;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => writer.send(data),
        close: (code, reason) => {
          writer.flush();
          socket.close(code, reason);
        },
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              console.error('graphql-ws: handling a message failed', error);
              writer.flush();
              socket.close(CloseCode.InternalServerError, internalError);
            });
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      clearInterval(pings);
      writers.delete(socket);
      void closed(code, String(reason));
    });
  });
  return {
    dispose: async () => {
      for (const client of wss.clients) {
        writers.get(client)?.flush();
        client.close(1001, 'Going away');
      }
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
