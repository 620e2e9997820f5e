import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { ApiError } from '../../core/errors.ts';
import { viewerOf } from './guard.ts';
import { html } from './html.ts';
import { page, pager, send } from './layout.ts';
import { idParam, PAGE_SIZE, pageNumber, parse, splitPage } from './params.ts';

const ListQuery = z.object({ q: z.string().trim().max(100).optional(), page: pageNumber });
const likeOrNull = (q: string | undefined) => q?.replace(/[\\%_]/g, '\\$&') || null;

export function mountGroupPages(router: Router, db: pg.Pool): void {
  router.get('/admin/groups', async (req, res) => {
    const query = parse(ListQuery, req.query, 'query');
    const { rows, hasMore } = splitPage((await db.query<{ id: string; name: string; members: number; channels: number; created_at: Date }>(
      `SELECT g.id, g.name, g.created_at,
              (SELECT count(*)::int FROM memberships m WHERE m.group_id = g.id) AS members,
              (SELECT count(*)::int FROM channels c WHERE c.group_id = g.id) AS channels
         FROM groups g WHERE $1::text IS NULL OR g.name ILIKE '%' || $1 || '%'
        ORDER BY lower(g.name), g.id LIMIT $2 OFFSET $3`,
      [likeOrNull(query.q), PAGE_SIZE + 1, (query.page - 1) * PAGE_SIZE],
    )).rows);
    send(res, page('Groups', html`
      <form method="get" action="/admin/groups"><label>Search <input name="q" value="${query.q ?? ''}"></label> <button type="submit">Find</button></form>
      <table><thead><tr><th>Name</th><th>Members</th><th>Channels</th><th>Created</th></tr></thead>
      <tbody>${rows.map((g) => html`<tr><td><a href="/admin/groups/${g.id}">${g.name}</a></td><td>${g.members}</td><td>${g.channels}</td><td>${g.created_at}</td></tr>`)}</tbody></table>
      ${pager('/admin/groups', { q: query.q }, query.page, hasMore)}`, viewerOf(res), '/admin/groups'));
  });

  router.get('/admin/groups/:id', async (req, res) => {
    const id = idParam(req.params.id, 'group');
    const { rows: [group] } = await db.query<{ name: string; description: string; created_at: Date }>(
      'SELECT name, description, created_at FROM groups WHERE id = $1', [id],
    );
    if (!group) throw new ApiError(404, 'not_found', 'group not found');
    const { rows: members } = await db.query<{ id: string; username: string; role: string; is_active: boolean; created_at: Date }>(
      `SELECT u.id, u.username, m.role, u.is_active, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = $1 ORDER BY array_position(ARRAY['owner','admin','member','viewer'], m.role), lower(u.username)`,
      [id],
    );
    const { rows: channels } = await db.query<{ id: string; name: string; type: string; created_at: Date }>(
      'SELECT id, name, type, created_at FROM channels WHERE group_id = $1 ORDER BY lower(name)', [id],
    );
    send(res, page(`Group ${group.name}`, html`<p>${group.description}</p><p class="muted">Created ${group.created_at}</p>
      <h2>Members</h2><table><thead><tr><th>User</th><th>Role</th><th>Active</th><th>Since</th></tr></thead>
      <tbody>${members.map((m) => html`<tr><td><a href="/admin/users/${m.id}">${m.username}</a></td><td>${m.role}</td><td>${m.is_active ? 'yes' : 'no'}</td><td>${m.created_at}</td></tr>`)}</tbody></table>
      <h2>Channels</h2><table><thead><tr><th>Name</th><th>Type</th><th>Created</th></tr></thead>
      <tbody>${channels.map((c) => html`<tr><td><a href="/admin/channels/${c.id}">${c.name}</a></td><td>${c.type}</td><td>${c.created_at}</td></tr>`)}</tbody></table>`,
    viewerOf(res), '/admin/groups'));
  });

  router.get('/admin/channels', async (req, res) => {
    const query = parse(ListQuery.extend({ type: z.enum(['', 'TEXT', 'VOICE', 'TODO', 'DOC', 'KANBAN', 'DM']).optional() }), req.query, 'query');
    const { rows, hasMore } = splitPage((await db.query<{ id: string; name: string; type: string; group_id: string | null; group_name: string | null; created_at: Date }>(
      `SELECT c.id, c.name, c.type, c.group_id, g.name AS group_name, c.created_at
         FROM channels c LEFT JOIN groups g ON g.id = c.group_id
        WHERE ($1::text IS NULL OR c.name ILIKE '%' || $1 || '%' OR g.name ILIKE '%' || $1 || '%')
          AND ($2::text IS NULL OR c.type = $2)
        ORDER BY c.created_at DESC, c.id LIMIT $3 OFFSET $4`,
      [likeOrNull(query.q), query.type || null, PAGE_SIZE + 1, (query.page - 1) * PAGE_SIZE],
    )).rows);
    send(res, page('Channels', html`
      <form method="get" action="/admin/channels"><label>Search <input name="q" value="${query.q ?? ''}"></label>
        <label>Type <select name="type">${['', 'TEXT', 'VOICE', 'TODO', 'DOC', 'KANBAN', 'DM'].map((t) =>
          html`<option value="${t}" ${query.type === t ? html`selected` : ''}>${t || 'any'}</option>`)}</select></label>
        <button type="submit">Find</button></form>
      <table><thead><tr><th>Channel</th><th>Type</th><th>Group</th><th>Created</th></tr></thead>
      <tbody>${rows.map((c) => html`<tr><td><a href="/admin/channels/${c.id}">${c.name}</a></td><td>${c.type}</td>
        <td>${c.group_id ? html`<a href="/admin/groups/${c.group_id}">${c.group_name}</a>` : 'direct message'}</td><td>${c.created_at}</td></tr>`)}</tbody></table>
      ${pager('/admin/channels', { q: query.q, type: query.type }, query.page, hasMore)}`, viewerOf(res), '/admin/channels'));
  });
}
