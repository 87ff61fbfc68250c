// Small pieces of plain node:http shared by the server and its endpoints: a JSON answer, and a request
// body read whole within a limit.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Reads the whole body, or answers 413 and resolves null once it passes `limit` bytes (checked against
 * Content-Length first, then while reading). The rest of an oversized body is discarded, not kept.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = () => {
      refused = true;
      chunks.length = 0;
      res.setHeader('connection', 'close');
      sendJson(res, 413, {
        errors: [
          { message: `request body too large: at most ${limit} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE', limit } },
        ],
      });
      resolve(null);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the bytes are dropped (the client then reads the 413 instead of a reset);
      // a client that keeps sending far beyond it is cut off.
      if (refused) {
        if (size > 64 * limit) req.destroy();
        return;
      }
      if (size > limit) return refuse();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (!refused) reject(error);
    });
  });
}
