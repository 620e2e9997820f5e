import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { errorHandler, notFoundHandler } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { mountHealthRoutes } from './health.ts';
import { createHttpMetrics } from './metrics.ts';
import { requestLog } from './request-log.ts';

export interface OperationsServerOptions {
  port: number;
  host: string;
  pool: pg.Pool;
  registry: Registry;
  metricsToken?: string;
  log: Logger;
}

/**
 * `/health`, `/health/ready` and `/metrics` alone on a port of their own, for a process that serves no API
 * (`npm run ai:worker`): the server's own routes, `/metrics` behind the same METRICS_TOKEN rule.
 */
export async function serveOperations(options: OperationsServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const metrics = createHttpMetrics(options.registry, options.metricsToken);
  const app = express();
  app.use(requestLog(options.log), metrics.middleware);
  mountHealthRoutes(app, options.pool);
  app.get('/metrics', metrics.endpoint);
  app.use(notFoundHandler, errorHandler);
  const http = app.listen(options.port, options.host);
  await once(http, 'listening');
  return {
    port: (http.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeIdleConnections();
    }),
  };
}
