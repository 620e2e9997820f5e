import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import type { AccessCache } from '../../core/access/access-cache.ts';
import { ApiError } from '../../core/errors.ts';
import type { Licensing } from '../license/licensing.ts';
import { oneTimePassword, resetPassword, revokeAllSessions, setActive, setSuperuser } from './accounts.ts';
import { viewerOf } from './guard.ts';
import { html } from './html.ts';
import { actionForm, csrfField, flash, page, pager, redirectDone, send, type Done } from './layout.ts';
import { idParam, PAGE_SIZE, pageNumber, parse, splitPage } from './params.ts';

const UsersQuery = z.object({
  q: z.string().trim().max(100).optional(),
  status: z.enum(['', 'active', 'inactive']).optional(),
  superuser: z.enum(['', 'yes', 'no']).optional(),
  page: pageNumber,
  done: z.string().optional(),
});

interface UserRow {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  is_active: boolean;
  is_superuser: boolean;
  is_bot: boolean;
  created_at: Date;
}

const yesNo = (on: boolean) => (on ? 'yes' : 'no');

async function findUsers(db: pg.Pool, query: z.output<typeof UsersQuery>) {
  const { rows } = await db.query<UserRow>(
    `SELECT id, username, email, display_name, is_active, is_superuser, is_bot, created_at FROM users
      WHERE ($1::text IS NULL OR username ILIKE '%' || $1 || '%' OR email ILIKE '%' || $1 || '%'
             OR display_name ILIKE '%' || $1 || '%')
        AND ($2::boolean IS NULL OR is_active = $2) AND ($3::boolean IS NULL OR is_superuser = $3)
      ORDER BY lower(username) LIMIT $4 OFFSET $5`,
    [
      query.q?.replace(/[\\%_]/g, '\\$&') || null,
      query.status ? query.status === 'active' : null,
      query.superuser ? query.superuser === 'yes' : null,
      PAGE_SIZE + 1,
      (query.page - 1) * PAGE_SIZE,
    ],
  );
  return splitPage(rows);
}

export function mountUserPages(router: Router, db: pg.Pool, licensing: Licensing, access: AccessCache): void {
  router.get('/admin/users', async (req, res) => {
    const query = parse(UsersQuery, req.query, 'query');
    const { rows, hasMore } = await findUsers(db, query);
    const option = (name: 'status' | 'superuser', value: string, label: string) =>
      html`<option value="${value}" ${query[name] === value ? html`selected` : ''}>${label}</option>`;
    send(res, page('Users', html`
      <form method="get" action="/admin/users" aria-label="Find users">
        <label>Search <input name="q" value="${query.q ?? ''}"></label>
        <label>Status <select name="status">${option('status', '', 'any')}${option('status', 'active', 'active')}${option('status', 'inactive', 'inactive')}</select></label>
        <label>Superuser <select name="superuser">${option('superuser', '', 'any')}${option('superuser', 'yes', 'yes')}${option('superuser', 'no', 'no')}</select></label>
        <button type="submit">Filter</button>
      </form>
      <table><thead><tr><th>Username</th><th>Email</th><th>Name</th><th>Active</th><th>Superuser</th><th>Created</th></tr></thead>
      <tbody>${rows.map((u) => html`<tr data-user="${u.username}"><td><a href="/admin/users/${u.id}">${u.username}</a>${u.is_bot ? ' (bot)' : ''}</td>
        <td>${u.email}</td><td>${u.display_name ?? ''}</td><td>${yesNo(u.is_active)}</td><td>${yesNo(u.is_superuser)}</td><td>${u.created_at}</td></tr>`)}</tbody></table>
      ${pager('/admin/users', { q: query.q, status: query.status, superuser: query.superuser }, query.page, hasMore)}`,
    viewerOf(res), '/admin/users'));
  });

  router.get('/admin/users/:id', async (req, res) => {
    const viewer = viewerOf(res);
    const id = idParam(req.params.id, 'user');
    const { rows: [user] } = await db.query<UserRow & { sessions: number }>(
      `SELECT id, username, email, display_name, is_active, is_superuser, is_bot, created_at,
              (SELECT count(*)::int FROM refresh_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL
                 AND t.used_at IS NULL AND t.expires_at > now()) AS sessions
         FROM users u WHERE id = $1`,
      [id],
    );
    if (!user) throw new ApiError(404, 'not_found', 'user not found');
    const { rows: groups } = await db.query<{ id: string; name: string; role: string }>(
      'SELECT g.id, g.name, m.role FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name',
      [id],
    );
    const base = `/admin/users/${id}`;
    send(res, page(`User ${user.username}`, html`${flash('ok', req.query.done as string | undefined)}
      <table><tbody>
        <tr><th>Email</th><td>${user.email}</td></tr><tr><th>Display name</th><td>${user.display_name ?? ''}</td></tr>
        <tr><th>Active</th><td>${yesNo(user.is_active)}</td></tr><tr><th>Superuser</th><td>${yesNo(user.is_superuser)}</td></tr>
        <tr><th>Open logins</th><td>${user.sessions}</td></tr><tr><th>Created</th><td>${user.created_at}</td></tr>
      </tbody></table>
      <h2>Groups</h2><ul>${groups.map((g) => html`<li><a href="/admin/groups/${g.id}">${g.name}</a> (${g.role})</li>`)}</ul>
      <h2>Actions</h2>
      <p>${user.is_active ? actionForm(viewer, `${base}/deactivate`, 'Deactivate') : actionForm(viewer, `${base}/activate`, 'Activate')}
        ${actionForm(viewer, `${base}/revoke-sessions`, 'Revoke all sessions')}
        ${user.is_superuser ? actionForm(viewer, `${base}/revoke-superuser`, 'Revoke superuser') : actionForm(viewer, `${base}/grant-superuser`, 'Grant superuser')}</p>
      <form method="post" action="${base}/reset-password" aria-label="Reset password">${csrfField(viewer)}
        <label>New password <input name="password" type="password" autocomplete="new-password" minlength="10"></label>
        <button type="submit">Reset password</button> <span class="muted">(empty: a one-time password is made and shown once)</span>
      </form>`, viewer, '/admin/users'));
  });

  const actions: [string, Done, (actor: string, id: string) => Promise<void>][] = [
    ['activate', 'activated', (actor, id) => setActive(db, licensing, actor, id, true)],
    ['deactivate', 'deactivated', (actor, id) => setActive(db, licensing, actor, id, false)],
    ['revoke-sessions', 'sessions-revoked', (actor, id) => revokeAllSessions(db, actor, id)],
    ['grant-superuser', 'superuser-granted', (actor, id) => setSuperuser(db, actor, id, true)],
    ['revoke-superuser', 'superuser-revoked', (actor, id) => setSuperuser(db, actor, id, false)],
  ];
  for (const [name, done, act] of actions) {
    router.post(`/admin/users/:id/${name}`, async (req, res) => {
      const id = idParam(req.params.id, 'user');
      await act(viewerOf(res).userId, id);
      // This instance applies it before answering; the others (and this one again) hear it from the database.
      access.invalidate(`user:${id}`);
      // Whoever ended their own session (deactivating or demoting themselves, revoking their sessions) is signed out.
      redirectDone(res, `/admin/users/${id}`, done);
    });
  }

  const ResetForm = z.object({ _csrf: z.string(), password: z.union([z.literal(''), z.string().min(10).max(256)]).optional() });
  router.post('/admin/users/:id/reset-password', async (req, res) => {
    const viewer = viewerOf(res);
    const id = idParam(req.params.id, 'user');
    const form = parse(ResetForm, req.body, 'body');
    const generated = !form.password;
    const password = form.password || oneTimePassword();
    await resetPassword(db, viewer.userId, id, password, generated);
    access.invalidate(`user:${id}`);
    send(res, page('Password reset', html`<p class="flash ok" role="status">The password is reset and every session of the account is revoked.</p>
      ${generated ? html`<p>One-time password, shown only now: <code data-testid="one-time-password">${password}</code></p>` : ''}
      <p><a href="/admin/users/${id}">Back to the user</a></p>`, viewer, '/admin/users'));
  });
}
