// graphql-ws on a ws WebSocketServer, run through yoga's envelop so that every plugin (masking, depth
// and cost limits) applies as on HTTP. The caller is authenticated once, in onConnect. With live groups,
// Braid's own socket adapter (ws-server.ts) serves it and a subscription's events go out as the group's
// frames; without them (benchmarks only), graphql-ws's own `useServer` executes and writes per subscriber.
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';
import { anonymous, type Caller } from './auth.js';
import type { Services } from './context.js';
import type { LiveContext, LiveGroups } from './live-groups.js';
import { createWsLimits } from './ws-limits.js';
import { holdSocket } from './key-holds.js';
import { serveGraphqlWs, type SocketExtra } from './ws-server.js';
import type { BraidYoga } from './yoga.js';

type Extra = {
  caller?: Caller;
  writer?: SocketExtra['writer'];
};

type EnvelopedFns = Pick<ReturnType<BraidYoga['getEnveloped']>, 'execute' | 'subscribe'>;

/** The Authorization value of connectionParams: `authorization`, `Authorization`, or under `headers`. */
function authorizationOf(params: Readonly<Record<string, unknown>> | undefined): unknown {
  if (!params) return undefined;
  const headers = params.headers as Record<string, unknown> | undefined;
  return params.authorization ?? params.Authorization ?? headers?.authorization ?? headers?.Authorization;
}

/** An error as sent over graphql-ws: without yoga's `http` extension, which only HTTP answers use. */
function forClient(error: GraphQLError): GraphQLError {
  if (!('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    extensions,
  });
}

/** Serves graphql-ws on `wss` (subscriptions joining `live` groups when given); returns its disposer. */
export function useGraphqlWs(wss: WebSocketServer, yoga: BraidYoga, services: Services, live?: LiveGroups) {
  const limits = createWsLimits(services);
  const options: ServerOptions<Record<string, unknown>, Extra & Omit<SocketExtra, 'writer'>> = {
    // An unknown key does not close the socket: its operations get UNAUTHENTICATED, as over HTTP.
    onConnect: async (ctx) => {
      const caller = await limits.connect(ctx.extra, authorizationOf(ctx.connectionParams));
      if (!caller) return false; // closed with 4429 (rate-limits.ts)
      ctx.extra.caller = caller;
      // Closed with 4403 when its key is revoked (on any process).
      holdSocket(services.keys, ctx.extra.caller, ctx.extra.socket);
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
        wsCaller: ctx.extra.caller ?? anonymous,
      });
      // Parse and validation (depth and cost limits included) may throw a GraphQLError: it becomes
      // the operation's error, as over HTTP, instead of closing the socket.
      let document;
      try {
        document = parse(payload.query);
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map(forClient);
      } catch (error) {
        if (error instanceof GraphQLError) return [forClient(error)];
        // Not a client's fault: masked and logged, and the socket stays open (graphql-ws would close it with 4500).
        console.error('graphql-ws: parsing or validating an operation failed', error);
        return [new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })];
      }
      const refused = await limits.operation(ctx.extra, ctx.extra.caller ?? anonymous, payload, document);
      if (refused) return [refused];
      const rootValue: EnvelopedFns = { execute, subscribe };
      const contextValue = await contextFactory();
      if (live && ctx.extra.writer) (contextValue as unknown as LiveContext).live = { groups: live, frames: { writer: ctx.extra.writer, id } };
      const args: ExecutionArgs = {
        schema,
        operationName: payload.operationName ?? null,
        document,
        variableValues: payload.variables ?? null,
        contextValue,
        rootValue,
      };
      return args;
    },
    onComplete: (ctx, _id, payload) => limits.complete(ctx.extra, payload),
    onClose: (ctx) => limits.close(ctx.extra),
    execute: (args) => (args.rootValue as EnvelopedFns).execute(args),
    subscribe: (args) => (args.rootValue as EnvelopedFns).subscribe(args),
  };
  return live ? serveGraphqlWs<Record<string, unknown>, Extra>(options, wss) : useServer({ ...options, isProd: true }, wss);
}
