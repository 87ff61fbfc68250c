// One GraphQL operation sent over any of the server's transports (HTTP POST and GET, SSE, graphql-ws),
// answered in one shape, so a test can require the same refusal of every transport.
import type { GraphQLFormattedError } from 'graphql';
import type { Client } from 'graphql-ws';
import { Agent } from 'undici';
import WebSocket from 'ws';

export type Transport = 'post' | 'post-json' | 'get' | 'sse' | 'ws';

export interface Answer {
  /** The HTTP status; null over graphql-ws. */
  status: number | null;
  data?: unknown;
  errors?: readonly GraphQLFormattedError[];
  /** graphql-ws only: the operation ended with an `error` message (not `next` + `complete`). */
  errorMessage?: boolean;
  /** The raw body when it was not what the transport should send. */
  raw?: string;
  /** A subscription still open after `streamMs` (then ended by the client). */
  streaming?: boolean;
}

/** Variables as JSON text, sent as they are (JSON.stringify overflows on a value nested a few thousand levels). */
export class RawJson {
  constructor(readonly text: string) {}
}

const variablesText = (variables: unknown) => (variables instanceof RawJson ? variables.text : JSON.stringify(variables));

export interface Target {
  url: string;
  key: string | null;
  /** The graphql-ws client (for 'ws'). */
  ws?: Client;
  /** The graphql-ws URL, for variables sent as RawJson over a socket of their own. */
  wsUrl?: string;
}

// A connection per request: a kept-alive socket the server closes (idle timeout, a 413) while a request
// is put on it would fail that request with ECONNRESET, which says nothing about the server.
export const fresh = new Agent({ pipelining: 0 });

const accepts: Record<Exclude<Transport, 'ws'>, string> = {
  post: 'application/graphql-response+json, application/json',
  'post-json': 'application/json',
  get: 'application/graphql-response+json, application/json',
  sse: 'text/event-stream',
};

/**
 * Sends `query` with `variables` over `transport`. An HTTP answer's body is read whole; an SSE stream
 * until its first `next` event; a subscription still open after `streamMs` is ended and marked `streaming`.
 */
export async function send(target: Target, transport: Transport, query: string, variables?: unknown, streamMs = 2000): Promise<Answer> {
  if (transport === 'ws') {
    return variables instanceof RawJson ? sendRawWs(target, query, variables) : sendWs(target, query, variables, streamMs);
  }
  const headers: Record<string, string> = { accept: accepts[transport] };
  if (target.key) headers.authorization = `Bearer ${target.key}`;
  let response: Response;
  if (transport === 'get') {
    const params = new URLSearchParams({ query });
    if (variables !== undefined) params.set('variables', variablesText(variables));
    response = await fetch(`${target.url}?${params.toString()}`, { headers, dispatcher: fresh } as RequestInit);
  } else {
    headers['content-type'] = 'application/json';
    const body = `{"query":${JSON.stringify(query)}${variables === undefined ? '' : `,"variables":${variablesText(variables)}`}}`;
    response = await fetch(target.url, { method: 'POST', headers, body, dispatcher: fresh } as RequestInit);
  }
  if (transport !== 'sse' || !response.headers.get('content-type')?.includes('text/event-stream')) {
    return { status: response.status, ...parseBody(transport, await response.text()) };
  }
  const { text, streaming } = await readFirstEvent(response, streamMs);
  return { status: response.status, ...(streaming ? { streaming } : parseBody(transport, text)) };
}

/** Reads an SSE body until its first `next` event ends (or the stream does, or `streamMs` passes). */
async function readFirstEvent(response: Response, streamMs: number): Promise<{ text: string; streaming: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), streamMs)));
  try {
    for (;;) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === 'timeout') return { text, streaming: true };
      if (chunk.done) return { text, streaming: false };
      text += decoder.decode(chunk.value, { stream: true });
      const next = text.indexOf('event: next');
      if (next >= 0 && text.indexOf('\n\n', next) >= 0) return { text, streaming: false };
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

function parseBody(transport: Transport, text: string): Omit<Answer, 'status'> {
  try {
    if (transport !== 'sse' || !text.includes('event:')) return JSON.parse(text) as Omit<Answer, 'status'>;
    // The first `next` event carries the answer of a query or mutation (or a refusal).
    const event = text.split('\n\n').find((block) => block.includes('event: next'));
    const data = event?.split('\n').find((line) => line.startsWith('data: '));
    if (data) return JSON.parse(data.slice('data: '.length)) as Omit<Answer, 'status'>;
    // A subscription may complete without a value (runEvents after the last event of a finished run).
    return text.includes('event: complete') ? {} : { raw: text };
  } catch {
    return { raw: text };
  }
}

function sendWs(target: Target, query: string, variables: unknown, streamMs: number): Promise<Answer> {
  const client = target.ws;
  if (!client) throw new Error('no graphql-ws client');
  return new Promise((resolve) => {
    let answer: Answer = { status: null };
    const timer = setTimeout(() => {
      dispose();
      resolve({ ...answer, streaming: true });
    }, streamMs);
    const done = (value: Answer) => {
      clearTimeout(timer);
      resolve(value);
    };
    const dispose = client.subscribe(
      { query, ...(variables === undefined ? {} : { variables: variables as Record<string, unknown> }) },
      {
        next: (value) => {
          answer = { status: null, data: value.data, ...(value.errors ? { errors: value.errors } : {}) };
        },
        error: (error) => {
          done(
            Array.isArray(error)
              ? { status: null, errors: error as GraphQLFormattedError[], errorMessage: true }
              : { status: null, raw: `socket error: ${String((error as { code?: number }).code ?? error)}` },
          );
        },
        complete: () => done(answer),
      },
    );
  });
}

/**
 * One operation over a socket of its own, speaking graphql-transport-ws by hand so that the variables
 * go out as written; the socket is closed after the answer (`raw` says how it ended otherwise).
 */
function sendRawWs(target: Target, query: string, variables: RawJson): Promise<Answer> {
  if (!target.wsUrl) throw new Error('no graphql-ws URL');
  const socket = new WebSocket(target.wsUrl, 'graphql-transport-ws');
  return new Promise((resolve) => {
    let answer: Answer = { status: null };
    const finish = (value: Answer) => {
      resolve(value);
      socket.close(1000);
    };
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload: target.key ? { authorization: `Bearer ${target.key}` } : {} }));
    });
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') {
        socket.send(`{"id":"1","type":"subscribe","payload":{"query":${JSON.stringify(query)},"variables":${variables.text}}}`);
      } else if (message.type === 'next') {
        const payload = message.payload as { data?: unknown; errors?: Answer['errors'] };
        answer = { status: null, data: payload.data, ...(payload.errors ? { errors: payload.errors } : {}) };
      } else if (message.type === 'error') {
        finish({ status: null, errors: message.payload as Answer['errors'], errorMessage: true });
      } else if (message.type === 'complete') finish(answer);
    });
    socket.on('close', (code) => resolve({ status: null, raw: `socket closed with ${code}` }));
    socket.on('error', (error) => resolve({ status: null, raw: `socket error: ${error.message}` }));
  });
}
