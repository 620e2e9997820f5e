import express, { type ErrorRequestHandler, type Express } from 'express';
import type pg from 'pg';
import type { Ai } from '../../ai/index.ts';
import type { Collab } from '../../collab/index.ts';
import type { Calls } from '../../sfu/index.ts';
import type { AccessCache } from '../../core/access/access-cache.ts';
import type { Config } from '../../core/config.ts';
import { ApiError } from '../../core/errors.ts';
import type { Licensing } from '../license/licensing.ts';
import type { Logger } from '../../core/logger.ts';
import { endAdminSession } from './sessions.ts';
import { recordAdminAction } from './audit.ts';
import { mountContentPages } from './content.ts';
import { figures } from './figures.ts';
import { mountFilePages } from './files.ts';
import { mountGroupPages } from './groups.ts';
import { cookie, refuse, requireSuperuser, SESSION_COOKIE, viewerOf } from './guard.ts';
import { serviceChecks } from './health.ts';
import { html } from './html.ts';
import { page, send } from './layout.ts';
import { licensePanel } from './license-panel.ts';
import { mountLogin } from './login.ts';
import { mountOperationPages } from './operations.ts';
import { mountUserPages } from './users.ts';

export interface AdminDeps {
  config: Config;
  db: pg.Pool;
  access: AccessCache;
  collab: Collab;
  calls: Calls;
  ai: Ai;
  licensing: Licensing;
  log: Logger;
}

const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/** Errors as pages: the console is HTML, never the API's JSON (which a 5xx would also log). */
const pageErrors: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const known = err instanceof ApiError ? err : undefined;
  if (!known) req.log.error({ err }, 'admin request failed');
  const status = known?.status ?? 500;
  refuse(res, status, status === 404 ? 'Not found' : status === 429 ? 'Too many attempts' : 'Refused',
    known?.message ?? 'Something failed on the server; the log has the details.', res.locals.viewer);
};

/**
 * The admin console at /admin: server-rendered pages for superusers, with a session login of its own. Mounted
 * before the web client, which never answers /admin.
 */
export function mountAdmin(app: Express, deps: AdminDeps): void {
  const { config, db, collab, calls, ai } = deps;
  const limits = { idleSeconds: config.ADMIN_SESSION_IDLE_SECONDS, maxSeconds: config.ADMIN_SESSION_MAX_SECONDS };
  const router = express.Router();
  mountLogin(router, db, limits, { limit: config.AUTH_RATE_LIMIT, windowSeconds: config.AUTH_RATE_WINDOW_SECONDS });
  router.use('/admin', requireSuperuser(db, limits));

  router.post('/admin/logout', async (req, res) => {
    await endAdminSession(db, cookie(req, SESSION_COOKIE)!);
    await recordAdminAction(db, { actorId: viewerOf(res).userId, action: 'session.logout', targetType: 'session', targetId: null });
    res.clearCookie(SESSION_COOKIE, { path: '/admin' });
    res.redirect(303, '/admin/login');
  });

  router.get('/admin', async (_req, res) => {
    const [f, license] = await Promise.all([figures(db, collab), deps.licensing.status()]);
    const peak = Math.max(1, ...f.messagesPerDay.map((d) => d.count));
    send(res, page('Overview', html`
      <table aria-label="Users"><tbody>
        <tr><th>Accounts</th><td data-testid="users-total">${f.users.total}</td></tr><tr><th>Active accounts</th><td>${f.users.active}</td></tr>
        <tr><th>Superusers</th><td>${f.users.superusers}</td></tr>
        <tr><th>Active in the last 7 days</th><td data-testid="active-7">${f.activeUsers.days7}</td></tr>
        <tr><th>Active in the last 30 days</th><td>${f.activeUsers.days30}</td></tr>
      </tbody></table>
      ${licensePanel(license)}
      <h2>Messages per day (last 30 days)</h2>
      <table aria-label="Messages per day"><tbody>${f.messagesPerDay.map((d) => html`<tr data-testid="messages-day" data-day="${d.day}"><th>${d.day}</th>
        <td>${d.count}</td><td><span class="bar" style="width:${Math.round((d.count / peak) * 300)}px"></span></td></tr>`)}</tbody></table>
      <h2>Storage per group</h2>
      <table aria-label="Storage"><thead><tr><th>Group</th><th>Documents</th><th>Files</th></tr></thead>
      <tbody>${f.storage.map((s) => html`<tr><td>${s.group_id ? html`<a href="/admin/groups/${s.group_id}">${s.group_name}</a>` : 'direct messages'}</td>
        <td>${bytes(s.document_bytes)}</td><td>${bytes(s.file_bytes)} in ${s.files} file(s)</td></tr>`)}</tbody></table>`,
    viewerOf(res), '/admin'));
  });

  router.get('/admin/health', async (_req, res) => {
    const checks = await serviceChecks(db, config.REDIS_URL, ai, calls);
    send(res, page('Service health', html`<table><thead><tr><th>Service</th><th>Status</th><th>Detail</th></tr></thead>
      <tbody>${checks.map((c) => html`<tr data-testid="service" data-service="${c.name}"><td>${c.name}</td><td>${c.status}</td><td>${c.detail}</td></tr>`)}</tbody></table>`,
    viewerOf(res), '/admin/health'));
  });

  mountUserPages(router, db, deps.licensing, deps.access);
  mountGroupPages(router, db);
  mountContentPages(router, db, collab, calls, deps.log);
  mountFilePages(router, db);
  mountOperationPages(router, db, ai);
  router.use('/admin', (_req, _res, next) => next(new ApiError(404, 'not_found', 'no such page')));
  router.use('/admin', pageErrors);
  app.use(router);
}
