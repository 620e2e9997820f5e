import type { Router } from 'express';
import type pg from 'pg';

/** Liveness (the process answers) and readiness (the database answers within a second). */
export function mountHealthRoutes(router: Router, db: pg.Pool): void {
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_req, res) => {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref());
    try {
      await Promise.race([db.query('SELECT 1'), timeout]);
      res.json({ status: 'ready', checks: { database: 'ok' } });
    } catch {
      res.status(503).json({
        error: { code: 'unavailable', message: 'database is not reachable', details: { database: 'down' } },
      });
    }
  });
}
