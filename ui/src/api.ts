// The dashboard's only way to the server: the public GraphQL API with the caller's key, queries and
// mutations over HTTP, subscriptions over graphql-ws on the same path. Documents are typed by codegen.
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from './gql/graphql';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface Response<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const endpoint = '/graphql';

export function createApi(key: string) {
  let socket: Client | undefined;
  const ws = () =>
    (socket ??= createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${endpoint}`,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: Infinity,
      shouldRetry: () => true,
    }));

  return {
    /** A query or mutation; throws ApiError on a GraphQL error. */
    async request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: document.toString(), variables }),
      });
      const body = (await response.json()) as Response<R>;
      const error = body.errors?.[0];
      if (error || !body.data) throw new ApiError(error?.message ?? `HTTP ${response.status}`, error?.extensions?.code);
      return body.data;
    },
    /** Calls `next` per result until `dispose()`; `complete` when the server ends the stream. */
    subscribe<R, V>(
      document: TypedDocumentString<R, V>,
      variables: V,
      handlers: { next(data: R): void; complete?(): void; error?(error: unknown): void },
    ): () => void {
      return ws().subscribe<R>(
        { query: document.toString(), variables: variables as Record<string, unknown> },
        {
          next: (result) => result.data && handlers.next(result.data as R),
          complete: () => handlers.complete?.(),
          error: (error) => handlers.error?.(error),
        },
      );
    },
    close(): void {
      void socket?.dispose();
    },
  };
}

export type Api = ReturnType<typeof createApi>;
