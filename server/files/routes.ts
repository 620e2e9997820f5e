import { randomUUID } from 'node:crypto';
import type { Router } from 'express';
import { enqueue } from '../../ai/index.ts';
import { fileEndpoints as api } from '../../schema/index.ts';
import { contentChannel } from '../content/access.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { notFound } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { channelAccess, type ChannelRow } from '../../core/access/access.ts';
import { readSingleFile } from './multipart.ts';
import { pdfPages } from './pdf-text.ts';
import { sniffContentType } from './sniff.ts';
import { fileColumns, insertFile, readFileBytes } from './store.ts';

// Files belong to any channel with content; a VOICE channel has none.
const fileChannelTypes: ChannelRow['type'][] = ['TEXT', 'TODO', 'DOC', 'KANBAN', 'DM'];

/** `attachment` with the name in RFC 5987 form, and a plain-ASCII fallback for clients that predate it. */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function mountFileRoutes(router: Router, app: AppContext): void {
  const { db, keyring, config } = app;
  const route = mounter(router, app);

  route(api.uploadFile, async ({ params, user, req }) => {
    const channelId = params.channel_id;
    // Before reading the body: an outsider's or a viewer's upload is refused without taking it in.
    await contentChannel(db, channelId, user.id, fileChannelTypes, 'member');
    const { filename, bytes } = await readSingleFile(req, 'file', config.FILE_MAX_BYTES);
    const contentType = await sniffContentType(bytes, filename);
    const pages = contentType === 'application/pdf' ? await pdfPages(bytes, config.FILE_MAX_PAGES) : undefined;
    return inTransaction(db, async (tx) => {
      // Again, in the transaction: the caller may have lost the role, or the channel gone, during the upload.
      await contentChannel(tx, channelId, user.id, fileChannelTypes, 'member');
      const file = await insertFile(tx, keyring, {
        id: randomUUID(), channelId, uploaderId: user.id, filename, contentType, bytes, pages,
      });
      await enqueue(tx, { kind: 'index_file', fileId: file.id });
      return file;
    });
  });

  route(api.listFiles, async ({ params, user }) => {
    await contentChannel(db, params.id, user.id, fileChannelTypes, 'viewer');
    const { rows } = await db.query(
      `SELECT ${fileColumns} FROM files WHERE channel_id = $1 ORDER BY created_at DESC, id`,
      [params.id],
    );
    return rows;
  });

  route(api.downloadFile, async ({ params, user, res }) => {
    const { rows } = await db.query<{ channel_id: string }>('SELECT channel_id FROM files WHERE id = $1', [params.id]);
    // A file in a channel the caller cannot see is answered exactly like one that does not exist.
    if (!rows[0] || !(await channelAccess(db, rows[0].channel_id, user.id))) throw notFound('file');
    const file = await readFileBytes(db, keyring, params.id);
    if (!file) throw notFound('file');
    res.set({
      'Content-Type': file.contentType === 'application/pdf' ? file.contentType : `${file.contentType}; charset=utf-8`,
      'Content-Disposition': attachment(file.filename),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'private, no-cache',
      ETag: `"${file.sha256.toString('hex')}"`,
    });
    return file.bytes;
  });
}
