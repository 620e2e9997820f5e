import type { Router } from 'express';
import { chat } from '../../collab/index.ts';
import { contentEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../http/errors.ts';
import { mounter } from '../http/route.ts';
import { contentChannel } from './access.ts';

export function mountMessageRoutes(router: Router, app: AppContext): void {
  const { db, collab } = app;
  const route = mounter(router, app);

  route(api.listMessages, async ({ params, query, user }) => {
    await contentChannel(db, params.id, user.id, ['TEXT', 'DM'], 'viewer');
    const all = await collab.read(params.id, chat.readMessages);
    const list = query.thread ? all.filter((m) => m.parent_id === query.thread) : all;
    let end = list.length;
    if (query.before !== undefined) {
      end = list.findIndex((m) => m.id === query.before);
      if (end < 0) throw notFound('message');
    }
    const start = Math.max(0, end - query.limit);
    return { messages: list.slice(start, end), next_before: start > 0 ? list[start]!.id : null };
  });
}
