import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { redactUrl, type Logger } from '../../core/logger.ts';

const quietPaths = new Set(['/health', '/health/ready', '/metrics']);

/** One JSON log line per request, tagged with a request id that is echoed back in `X-Request-Id`. */
export function requestLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (req) => quietPaths.has(req.url ?? '') },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    serializers: {
      // Tokens in query strings (e.g. a client that puts `access_token=` in a URL) never reach the logs.
      req: (req) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
      res: (res) => ({ status: res.statusCode }),
    },
  });
}
