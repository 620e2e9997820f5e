import type { Router } from 'express';
import { page } from '../../collab/index.ts';
import { contentEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { unprocessable } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { contentChannel } from './access.ts';

export function mountDocumentRoutes(router: Router, app: AppContext): void {
  const { db, collab } = app;
  const route = mounter(router, app);

  route(api.getPage, async ({ params, user }) => {
    await contentChannel(db, params.id, user.id, ['DOC'], 'viewer');
    return collab.read(params.id, page.readPage);
  });

  route(api.putPage, async ({ params, body, user }) => {
    await contentChannel(db, params.id, user.id, ['DOC'], 'member');
    let content: Uint8Array;
    try {
      const json =
        body.content ?? (body.markdown !== undefined ? page.markdownToPage(body.markdown) : page.textToPage(body.text!));
      content = page.encodePage(json);
    } catch (err) {
      throw unprocessable(`content does not fit the page schema: ${(err as Error).message}`);
    }
    return collab.change(params.id, (doc) => {
      page.replacePage(doc, content, user.id);
      if (body.title !== undefined) page.setPageTitle(doc, body.title, user.id);
      return page.readPage(doc);
    }, user.id);
  });

  route(api.patchPage, async ({ params, body, user }) => {
    await contentChannel(db, params.id, user.id, ['DOC'], 'member');
    return collab.change(params.id, (doc) => {
      page.setPageTitle(doc, body.title, user.id);
      return page.readPage(doc);
    }, user.id);
  });
}
