import type { Router } from 'express';
import { pageOfHistory } from '../../collab/index.ts';
import { contentEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { contentChannel } from './access.ts';

export function mountMessageRoutes(router: Router, app: AppContext): void {
  const { db, collab } = app;
  const route = mounter(router, app);

  route(api.listMessages, async ({ params, query, user }) => {
    await contentChannel(db, params.id, user.id, ['TEXT', 'DM'], 'viewer');
    const page = await pageOfHistory(db, collab.read, params.id, query);
    if (!page) throw notFound('message');
    return page;
  });
}
