import type { Router } from 'express';
import { tasks } from '../../collab/index.ts';
import { contentEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import type { Queryable } from '../../core/db/database.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { channelAccess } from '../../core/access/access.ts';
import { mounter } from '../http/route.ts';
import { contentChannel, itemChannel, registerItem } from './access.ts';

/** An assignee must be able to read the task list: the same rule the document's write rules hold clients to. */
async function requireAssignable(db: Queryable, channelId: string, assigneeId: string | null | undefined): Promise<void> {
  if (!assigneeId || (await channelAccess(db, channelId, assigneeId))) return;
  throw unprocessable('assignee_id: a task can only be assigned to a member of the group');
}

export function mountTaskRoutes(router: Router, app: AppContext): void {
  const { db, collab } = app;
  const route = mounter(router, app);

  route(api.listTasks, async ({ params, user }) => {
    await contentChannel(db, params.id, user.id, ['TODO'], 'viewer');
    return collab.read(params.id, tasks.readTasks);
  });

  route(api.createTask, async ({ params, body, user }) => {
    await contentChannel(db, params.id, user.id, ['TODO'], 'member');
    await requireAssignable(db, params.id, body.assignee_id);
    const task = await collab.change(params.id, (doc) => tasks.addTask(doc, body), user.id);
    await registerItem(db, task.id, params.id, 'task');
    return task;
  });

  route(api.updateTask, async ({ params, body, user }) => {
    const channelId = await itemChannel(db, params.id, 'task', user.id);
    await contentChannel(db, channelId, user.id, ['TODO'], 'member');
    await requireAssignable(db, channelId, body.assignee_id);
    const task = await collab.change(channelId, (doc) => tasks.updateTask(doc, params.id, body), user.id);
    if (!task) throw notFound('task');
    return task;
  });

  route(api.deleteTask, async ({ params, user }) => {
    const channelId = await itemChannel(db, params.id, 'task', user.id);
    await contentChannel(db, channelId, user.id, ['TODO'], 'member');
    if (!(await collab.change(channelId, (doc) => tasks.deleteTask(doc, params.id), user.id))) throw notFound('task');
  });
}
