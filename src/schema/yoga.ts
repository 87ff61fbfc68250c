// The yoga instance: the schema with masking on, depth and cost limits, GraphiQL (dev key pre-filled)
// and the context built from the Authorization header, or from graphql-ws' connection for WebSockets.
import { createYoga, type Plugin, type YogaInitialContext, type YogaServerOptions } from 'graphql-yoga';
import type { Caller } from './auth.js';
import { callerOfRequest } from './auth-throttle.js';
import { useKeyLimits } from './rate-limits.js';
import type { Context, Services } from './context.js';
import { schema } from './index.js';
import { noteOperation } from './key-holds.js';
import { isOriginAllowed } from '../origin-policy.js';
import { limitPlugins } from './limits.js';
import type { LiveGroups } from './live-groups.js';
import { useLiveGroups } from './live-plugin.js';
import { renderLocalGraphiQL } from './graphiql-page.js';

/** What graphql-ws operations bring into the context instead of an HTTP request. */
export interface WsInitialContext {
  wsCaller: Caller;
}

const exampleQuery = `# Welcome to Braid. Create a workflow, start it, and watch its events:
query NodeTypes {
  nodeTypes { type description handles }
}
`;

/**
 * `live`: subscriptions join live groups (one execution per event per group); without it, one per subscriber.
 * `logging`: yoga's logger (default: warnings to the console); `plugins` run after Braid's own.
 */
export function createBraidYoga(
  services: Services,
  options: {
    devApiKey?: string | undefined;
    live?: LiveGroups | undefined;
    logging?: YogaServerOptions<Record<string, unknown>, Context>['logging'];
    plugins?: Plugin[];
  },
) {
  const { config } = services;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Never the original message of an unexpected error, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    landingPage: false,
    // Browsers only from the server's own origin and CORS_ORIGINS (server.ts refuses other origins outright).
    cors: (request) => {
      const origin = request.headers.get('origin');
      const allowed = origin !== null && isOriginAllowed(origin, request.headers.get('host') ?? undefined, config.corsOrigins);
      return allowed ? { origin: [origin], credentials: true } : false;
    },
    logging: options.logging ?? 'warn',
    renderGraphiQL: renderLocalGraphiQL,
    graphiql: {
      title: 'Braid',
      defaultQuery: exampleQuery,
      ...(options.devApiKey ? { headers: JSON.stringify({ Authorization: `Bearer ${options.devApiKey}` }) } : {}),
    },
    plugins: [
      ...limitPlugins(config),
      useKeyLimits(services.limits),
      ...(options.live ? [useLiveGroups(options.live)] : []),
      ...(options.plugins ?? []),
    ],
    context: async (initial: YogaInitialContext & Partial<WsInitialContext>) => {
      const caller = initial.wsCaller ?? (await callerOfRequest(services, initial));
      noteOperation(services.keys, caller, initial);
      return { auth: caller.auth, adminToken: caller.adminToken, services };
    },
  });
}

export type BraidYoga = ReturnType<typeof createBraidYoga>;
