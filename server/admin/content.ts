import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { chat, kanban, page as pageShape, pageOfHistory, tasks, type Collab } from '../../collab/index.ts';
import type { Calls } from '../../sfu/index.ts';
import type { Logger } from '../../core/logger.ts';
import { ApiError } from '../../core/errors.ts';
import { recordAdminAction } from './audit.ts';
import { messageWriters, partName, type Writer } from './attribution.ts';
import { filesTable } from './files.ts';
import { viewerOf } from './guard.ts';
import { html, type Html } from './html.ts';
import { actionForm, flash, page, redirectDone, send, type Viewer } from './layout.ts';
import { idParam, parse } from './params.ts';

interface ChannelRow {
  id: string;
  name: string;
  type: 'TEXT' | 'VOICE' | 'TODO' | 'DOC' | 'KANBAN' | 'DM';
  group_id: string | null;
  group_name: string | null;
}

const MessagesQuery = z.object({ before: z.string().max(100).optional(), done: z.string().optional() });
const DeleteForm = z.object({ _csrf: z.string(), part: z.union([z.literal(''), z.coerce.number().int().min(0)]) });

async function usernames(db: pg.Pool, ids: (string | null | undefined)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => typeof id === 'string' && z.uuid().safeParse(id).success))];
  const { rows } = await db.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE id = ANY($1::uuid[])', [wanted]);
  return new Map(rows.map((r) => [r.id, r.username]));
}

/**
 * A chat's messages a page at a time (the whole history, segments included), each with who wrote it as the server
 * recorded it beside who it claims to be from, and a moderation delete.
 */
async function messagesView(db: pg.Pool, collab: Collab, viewer: Viewer, channel: ChannelRow, before: string | undefined): Promise<Html> {
  const history = await pageOfHistory(db, collab.read, channel.id, { limit: 50, before });
  if (!history) throw new ApiError(404, 'not_found', 'message not found');
  const parts = [...new Set(history.messages.map((m) => m.part))];
  const writers = new Map<string, Writer>();
  for (const part of parts) {
    const ids = history.messages.filter((m) => m.part === part).map((m) => m.id);
    for (const [id, writer] of await messageWriters(db, collab, channel.id, part, ids)) writers.set(id, writer);
  }
  const names = await usernames(db, [...history.messages.map((m) => m.author_id), ...[...writers.values()].map((w) => w.userId)]);
  const nameOf = (id: string | null | undefined) => (id ? (names.get(id) ?? id) : 'the server');
  return html`<h2>Messages</h2>
    ${history.next_before ? html`<p><a href="/admin/channels/${channel.id}?before=${history.next_before}">Older messages</a></p>` : ''}
    <table><thead><tr><th>Written by (recorded)</th><th>Claimed author</th><th>Received</th><th>Text</th><th></th></tr></thead>
    <tbody>${history.messages.map((m) => {
      const writer = writers.get(m.id);
      const claimMatches = writer?.userId === m.author_id;
      return html`<tr data-testid="message" data-message="${m.id}">
        <td data-testid="writer">${writer ? nameOf(writer.userId) : 'unrecorded'}</td>
        <td>${nameOf(m.author_id)}${writer && !claimMatches ? html` <strong>(differs)</strong>` : ''}</td>
        <td>${m.received_at ?? m.created_at}</td>
        <td data-testid="text">${m.deleted ? html`<em>deleted</em>` : m.text}${m.parent_id ? html` <span class="muted">(reply)</span>` : ''}</td>
        <td>${m.deleted ? '' : actionForm(viewer, `/admin/channels/${channel.id}/messages/${m.id}/delete`, 'Delete message', { part: m.part === null ? '' : String(m.part) })}</td></tr>`;
    })}</tbody></table>`;
}

async function contentView(db: pg.Pool, collab: Collab, calls: Calls, channel: ChannelRow): Promise<Html> {
  switch (channel.type) {
    case 'TODO': {
      const list = await collab.read(channel.id, tasks.readTasks);
      const names = await usernames(db, list.map((t) => t.assignee_id));
      return html`<h2>Tasks</h2><table><thead><tr><th>Done</th><th>Task</th><th>Assignee</th></tr></thead>
        <tbody>${list.map((t) => html`<tr data-testid="task"><td>${t.is_completed ? 'yes' : 'no'}</td><td>${t.content}</td>
          <td>${t.assignee_id ? (names.get(t.assignee_id) ?? t.assignee_id) : ''}</td></tr>`)}</tbody></table>`;
    }
    case 'KANBAN': {
      const board = await collab.read(channel.id, kanban.readBoard);
      return html`<h2>Board</h2>${board.columns.map((c) => html`<h3>${c.title}</h3>
        <ul>${c.cards.map((card) => html`<li data-testid="card">${card.content}</li>`)}</ul>`)}`;
    }
    case 'DOC': {
      const doc = await collab.read(channel.id, pageShape.readPage);
      const names = await usernames(db, [doc.last_edited_by]);
      return html`<h2>Page: ${doc.title || '(untitled)'}</h2>
        <p class="muted">Last edited by ${doc.last_edited_by ? (names.get(doc.last_edited_by) ?? doc.last_edited_by) : 'no one'}</p>
        <pre data-testid="page-text">${doc.text}</pre>`;
    }
    case 'VOICE': {
      const people = calls.available ? calls.participants(channel.id) : [];
      return html`<h2>In the call (this instance)</h2>
        <ul>${people.map((p) => html`<li>${p.username} (${p.display_name}), since ${p.joined_at}</li>`)}</ul>`;
    }
    default:
      return html``;
  }
}

export function mountContentPages(router: Router, db: pg.Pool, collab: Collab, calls: Calls, log: Logger): void {
  async function channelOf(idValue: unknown): Promise<ChannelRow> {
    const id = idParam(idValue, 'channel');
    const { rows: [channel] } = await db.query<ChannelRow>(
      `SELECT c.id, c.name, c.type, c.group_id, g.name AS group_name FROM channels c LEFT JOIN groups g ON g.id = c.group_id
        WHERE c.id = $1`,
      [id],
    );
    if (!channel) throw new ApiError(404, 'not_found', 'channel not found');
    return channel;
  }

  router.get('/admin/channels/:id', async (req, res) => {
    const viewer = viewerOf(res);
    const channel = await channelOf(req.params.id);
    const query = parse(MessagesQuery, req.query, 'query');
    const content = channel.type === 'TEXT' || channel.type === 'DM'
      ? await messagesView(db, collab, viewer, channel, query.before)
      : await contentView(db, collab, calls, channel);
    const { rows: participants } = await db.query<{ username: string }>(
      'SELECT u.username FROM dm_participants p JOIN users u ON u.id = p.user_id WHERE p.channel_id = $1 ORDER BY 1', [channel.id],
    );
    send(res, page(`Channel ${channel.name}`, html`${flash('ok', query.done)}
      <p>${channel.type} · ${channel.group_id
        ? html`group <a href="/admin/groups/${channel.group_id}">${channel.group_name}</a>`
        : html`direct message between ${participants.map((p) => p.username).join(' and ')}`}</p>
      <p class="muted">Read only: what the documents hold now, decoded on the server.</p>
      ${content}
      ${channel.type === 'VOICE' ? '' : html`<h2>Files</h2>${await filesTable(db, viewer, { channelId: channel.id, limit: 200, offset: 0 })}`}`,
    viewer, '/admin/channels'));
  });

  /**
   * Moderation: the message is deleted in its live document as a REST write would (collab.change: connected
   * clients see it go at once, attributed to the superuser), then the document is compacted so its text leaves
   * storage now rather than at the next compaction.
   */
  router.post('/admin/channels/:id/messages/:messageId/delete', async (req, res) => {
    const viewer = viewerOf(res);
    const channel = await channelOf(req.params.id);
    if (channel.type !== 'TEXT' && channel.type !== 'DM') throw new ApiError(404, 'not_found', 'message not found');
    const messageId = z.string().min(1).max(100).parse(req.params.messageId);
    const form = parse(DeleteForm, req.body, 'body');
    const part = form.part === '' ? null : form.part;
    const name = partName(channel.id, part);
    const message = await collab.change(name, (doc) => {
      const found = chat.readMessageById(doc, messageId);
      if (found && !found.deleted) chat.deleteMessage(doc, messageId);
      return found;
    }, viewer.userId);
    if (!message) throw new ApiError(404, 'not_found', 'message not found in that part of the chat');
    await recordAdminAction(db, {
      actorId: viewer.userId, action: 'message.delete', targetType: 'message', targetId: messageId,
      details: { channel_id: channel.id, part, author_id: message.author_id },
    });
    await collab.compact(name).catch((err) => log.warn({ err, document: name }, 'compaction after a moderation delete failed'));
    redirectDone(res, `/admin/channels/${channel.id}`, 'message-deleted');
  });
}
