// The web client (e2e/app, built into e2e/app/dist) at `/`: hashed assets cached for a year, everything else
// (index.html, the service worker, the manifest) revalidated on each visit so a new version arrives at once, and
// index.html for any other path a browser navigates to, except the server's own paths.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import type { Logger } from '../../core/logger.ts';

/** Paths the server answers itself: never shadowed by the app's fallback (the service worker keeps the same list). */
const serverPaths = /^\/(api|collab|rtc|admin|metrics|health)(\/|$)/;

export function mountWebClient(app: Express, dir: string, log: Logger): void {
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) {
    log.warn({ dir }, 'web client not built: `/` answers 404 (run npm run build:web, or npm start, which builds it)');
    return;
  }
  app.use(
    express.static(dir, {
      index: false,
      setHeaders: (res, file) => {
        const hashed = path.relative(dir, file).startsWith(`assets${path.sep}`);
        res.setHeader('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  app.get(/.*/, (req, res, next) => {
    if (serverPaths.test(req.path) || !req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
}
