import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers (the web client's policy: its own scripts and connections only, pictures and media from blobs
 * it makes; no upgrade of http requests, which would break a server reached over plain http on a LAN), and CORS
 * only for the configured origins (none: same-origin only).
 */
export function securityMiddleware(corsOrigins: string[]): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: {
        directives: {
          'img-src': ["'self'", 'data:', 'blob:'],
          'media-src': ["'self'", 'blob:'],
          'worker-src': ["'self'"],
          'upgrade-insecure-requests': null,
        },
      },
    }),
    cors({
      origin: corsOrigins.includes('*') ? '*' : corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
      maxAge: 600,
    }),
  ];
}

/** Express's `trust proxy` from TRUST_PROXY: true/false, a hop count, or a list of addresses and names. */
export function trustProxySetting(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
