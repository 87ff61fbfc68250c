// The operational endpoints beside GraphQL: /health (the process answers and reaches its database),
// /ready (it takes work: see observability/ready.ts) and /metrics (Prometheus text, behind METRICS_TOKEN
// when set).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { sendJson } from './http-io.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { createReadinessCheck } from './observability/ready.js';

export function createOpsEndpoints(options: {
  config: Config;
  database: Database;
  logger: Logger;
  metrics: Metrics;
  draining(): boolean;
  shedding(): string | null;
}) {
  const { config, database, logger, metrics } = options;
  const readiness = createReadinessCheck({ database, draining: options.draining, shedding: options.shedding }, (error) =>
    logger.error({ err: error }, 'readiness check: database unreachable'),
  );
  return {
    async health(res: ServerResponse): Promise<void> {
      try {
        await database.rows(sql`select 1 as ok`);
        sendJson(res, 200, { status: 'ok', database: database.driver });
      } catch (error) {
        logger.error({ err: error }, 'health check: database unreachable');
        sendJson(res, 503, { status: 'unavailable', database: database.driver });
      }
    },

    /** 200 while the process takes work (database reachable, migrations applied, not draining or shedding); 503 with the reason otherwise. */
    async ready(res: ServerResponse): Promise<void> {
      const { ready, reason } = await readiness();
      if (ready) sendJson(res, 200, { status: 'ready' });
      else sendJson(res, 503, { status: 'unavailable', reason });
    },

    /** Prometheus text; with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`. */
    async metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
      if (config.metricsToken !== undefined && !bearerIs(req.headers.authorization, config.metricsToken)) {
        res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, 401, { errors: [{ message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>', extensions: { code: 'UNAUTHENTICATED' } }] });
      }
      const text = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
  };
}

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function bearerIs(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
