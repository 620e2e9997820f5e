import type { Router } from 'express';
import { kanban } from '../../collab/index.ts';
import { contentEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { contentChannel, itemChannel, registerItem } from './access.ts';

export function mountKanbanRoutes(router: Router, app: AppContext): void {
  const { db, collab } = app;
  const route = mounter(router, app);

  route(api.getBoard, async ({ params, user }) => {
    await contentChannel(db, params.id, user.id, ['KANBAN'], 'viewer');
    return collab.read(params.id, kanban.readBoard);
  });

  route(api.createColumn, async ({ params, body, user }) => {
    await contentChannel(db, params.id, user.id, ['KANBAN'], 'member');
    const column = await collab.change(params.id, (doc) => kanban.addColumn(doc, body.title, body.position), user.id);
    await registerItem(db, column.id, params.id, 'column');
    return column;
  });

  route(api.createCard, async ({ params, body, user }) => {
    const channelId = await itemChannel(db, params.id, 'column', user.id);
    await contentChannel(db, channelId, user.id, ['KANBAN'], 'member');
    const card = await collab.change(
      channelId,
      (doc) => (kanban.hasColumn(doc, params.id) ? kanban.addCard(doc, params.id, body.content, body.position) : undefined),
      user.id,
    );
    if (!card) throw notFound('column');
    await registerItem(db, card.id, channelId, 'card');
    return card;
  });

  route(api.updateCard, async ({ params, body, user }) => {
    const channelId = await itemChannel(db, params.id, 'card', user.id);
    await contentChannel(db, channelId, user.id, ['KANBAN'], 'member');
    const card = await collab.change(channelId, (doc) => kanban.updateCard(doc, params.id, body.content), user.id);
    if (!card) throw notFound('card');
    return card;
  });

  route(api.moveCard, async ({ params, body, user }) => {
    const channelId = await itemChannel(db, params.id, 'card', user.id);
    await contentChannel(db, channelId, user.id, ['KANBAN'], 'member');
    const card = await collab.change(
      channelId,
      (doc) => kanban.moveCard(doc, params.id, body.column_id, body.new_order),
      user.id,
    );
    if (!card) throw notFound('card or column');
    return card;
  });
}
