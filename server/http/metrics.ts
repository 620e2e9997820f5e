import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { unauthorized } from '../../core/errors.ts';

export interface HttpMetrics {
  /** Counts and times every request by method, matched route pattern and status. */
  middleware: RequestHandler;
  /** Serves the Prometheus exposition, behind a bearer token when one is configured. */
  endpoint: RequestHandler;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The process's metrics registry, with Node's default process metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}


export function createHttpMetrics(registry: Registry, token?: string): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total', help: 'HTTP requests served', labelNames, registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds', help: 'HTTP request latency', labelNames, registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });

  const middleware: RequestHandler = (req, res, next) => {
    const stop = duration.startTimer();
    res.on('finish', () => {
      // The route pattern, not the URL, keeps label cardinality bounded whatever ids clients send.
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      requests.inc(labels);
      stop(labels);
    });
    next();
  };

  const endpoint: RequestHandler = async (req, res) => {
    if (token && !sameSecret(req.get('authorization') ?? '', `Bearer ${token}`)) {
      throw unauthorized('metrics need the METRICS_TOKEN bearer token');
    }
    res.type(registry.contentType).send(await registry.metrics());
  };

  return { middleware, endpoint };
}
