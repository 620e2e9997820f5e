import type { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { enqueue } from '../../ai/index.ts';
import { inTransaction } from '../../core/db/database.ts';
import { ApiError } from '../../core/errors.ts';
import { recordAdminAction } from './audit.ts';
import { viewerOf } from './guard.ts';
import { html, type Html } from './html.ts';
import { actionForm, flash, page, pager, redirectDone, send, type Viewer } from './layout.ts';
import { idParam, PAGE_SIZE, pageNumber, parse, splitPage } from './params.ts';

interface FileRow {
  id: string;
  filename: string;
  content_type: string;
  size_bytes: string;
  created_at: Date;
  channel_id: string;
  channel_name: string;
  uploader: string | null;
}

/** Files newest first (of one channel, or all), each with a remove button. */
export async function filesTable(
  db: pg.Pool,
  viewer: Viewer,
  which: { channelId?: string; limit: number; offset: number },
): Promise<Html & { hasMore?: boolean }> {
  const { rows, hasMore } = splitPage((await db.query<FileRow>(
    `SELECT f.id, f.filename, f.content_type, f.size_bytes::text, f.created_at, f.channel_id, c.name AS channel_name,
            u.username AS uploader
       FROM files f JOIN channels c ON c.id = f.channel_id LEFT JOIN users u ON u.id = f.uploader_id
      WHERE $1::uuid IS NULL OR f.channel_id = $1 ORDER BY f.created_at DESC, f.id LIMIT $2 OFFSET $3`,
    [which.channelId ?? null, Math.min(which.limit, PAGE_SIZE) + 1, which.offset],
  )).rows);
  const table = html`<table><thead><tr><th>File</th><th>Type</th><th>Bytes</th><th>Channel</th><th>Uploaded by</th><th>When</th><th></th></tr></thead>
    <tbody>${rows.map((f) => html`<tr data-testid="file" data-file="${f.filename}"><td>${f.filename}</td><td>${f.content_type}</td><td>${f.size_bytes}</td>
      <td><a href="/admin/channels/${f.channel_id}">${f.channel_name}</a></td><td>${f.uploader ?? ''}</td><td>${f.created_at}</td>
      <td>${actionForm(viewer, `/admin/files/${f.id}/remove`, 'Remove file')}</td></tr>`)}</tbody></table>`;
  return Object.assign(table, { hasMore });
}

export function mountFilePages(router: Router, db: pg.Pool): void {
  router.get('/admin/files', async (req, res) => {
    const viewer = viewerOf(res);
    const query = parse(z.object({ page: pageNumber, done: z.string().optional() }), req.query, 'query');
    const table = await filesTable(db, viewer, { limit: PAGE_SIZE, offset: (query.page - 1) * PAGE_SIZE });
    send(res, page('Files', html`${flash('ok', query.done)}${table}${pager('/admin/files', {}, query.page, table.hasMore ?? false)}`, viewer, '/admin/files'));
  });

  /**
   * Removes a file: its row (bytes and extracted text) goes, and an indexing job for it is queued in the same
   * transaction, which finds the file gone and deletes its chunks from Chroma.
   */
  router.post('/admin/files/:id/remove', async (req, res) => {
    const viewer = viewerOf(res);
    const id = idParam(req.params.id, 'file');
    await inTransaction(db, async (tx) => {
      const { rows: [file] } = await tx.query<{ channel_id: string; filename: string; uploader_id: string | null }>(
        'DELETE FROM files WHERE id = $1 RETURNING channel_id, filename, uploader_id', [id],
      );
      if (!file) throw new ApiError(404, 'not_found', 'file not found');
      await enqueue(tx, { kind: 'index_file', fileId: id });
      await recordAdminAction(tx, { actorId: viewer.userId, action: 'file.remove', targetType: 'file', targetId: id, details: file });
    });
    redirectDone(res, '/admin/files', 'file-removed');
  });
}
