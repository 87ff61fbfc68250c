// GET /ready from a real server: 200 while it takes work; 503 with the reason once it drains (asked on a
// keep-alive connection whose request was under way when the drain began, while a run holds the drain
// open behind a loopback gate). GET /metrics is open when METRICS_TOKEN is unset.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservedServer, type ObservedServer } from '../helpers/observed-server.js';
import { startSlowServer, type SlowServer } from '../helpers/slow-server.js';

let t: ObservedServer;
let slow: SlowServer;

beforeAll(async () => {
  [t, slow] = await Promise.all([startObservedServer({ shutdownGraceMs: 60_000 }), startSlowServer()]);
});

afterAll(async () => {
  await t?.close();
  await slow?.close();
});

/** Reads one HTTP/1.1 answer with a Content-Length from `socket`. */
function readAnswer(socket: Socket): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
      if (text.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ status: Number(text.slice(9, 12)), body: JSON.parse(text.slice(end + 4, end + 4 + length)) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

describe('GET /ready', () => {
  it('answers 200 while the server takes work, and /metrics needs no token without METRICS_TOKEN', async () => {
    const response = await fetch(`${t.baseUrl}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
    const metrics = await fetch(`${t.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('braid_runs_active 0');
  });

  it('answers 503 with the reason once the server drains', async () => {
    const key = await t.createKey();
    const workflowId = await t.createWorkflow(key, {
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'call', type: 'http', params: { url: `${slow.url}/hold?tag=drain` } },
      ],
      edges: [{ source: 'start', target: 'call' }],
    });
    const runId = await t.startRun(key, workflowId);
    await slow.waitForRequest((request) => request.tag === 'drain');

    // A keep-alive connection that answered once, then a request begun on it (headers not finished):
    // the drain closes idle connections only, so this one gets its answer.
    const socket = connect(t.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const first = readAnswer(socket);
    socket.write('GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await first).toEqual({ status: 200, body: { status: 'ready' } });
    socket.write('GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // The server has read the partial request once an answer on another connection came back.
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);

    const stopped = t.server.stop();
    const second = readAnswer(socket);
    socket.write('\r\n');
    expect(await second).toEqual({ status: 503, body: { status: 'unavailable', reason: 'draining' } });

    slow.release('drain');
    await stopped;
    socket.destroy();
    // The held call finished within the grace period: the run ended normally.
    expect(await t.finished(runId)).toMatchObject({ status: 'SUCCEEDED' });
  });
});
