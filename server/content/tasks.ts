import type { Router } from 'express';
import { tasks } from '../../collab/index.ts';
import { contentEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../http/errors.ts';
import { mounter } from '../http/route.ts';
import { contentChannel, itemChannel, registerItem } from './access.ts';

export function mountTaskRoutes(router: Router, app: AppContext): void {
  const { db, collab } = app;
  const route = mounter(router, app);

  route(api.listTasks, async ({ params, user }) => {
    await contentChannel(db, params.id, user.id, ['TODO'], 'viewer');
    return collab.read(params.id, tasks.readTasks);
  });

  route(api.createTask, async ({ params, body, user }) => {
    await contentChannel(db, params.id, user.id, ['TODO'], 'member');
    const task = await collab.change(params.id, (doc) => tasks.addTask(doc, body));
    await registerItem(db, task.id, params.id, 'task');
    return task;
  });

  route(api.updateTask, async ({ params, body, user }) => {
    const channelId = await itemChannel(db, params.id, 'task', user.id);
    await contentChannel(db, channelId, user.id, ['TODO'], 'member');
    const task = await collab.change(channelId, (doc) => tasks.updateTask(doc, params.id, body));
    if (!task) throw notFound('task');
    return task;
  });

  route(api.deleteTask, async ({ params, user }) => {
    const channelId = await itemChannel(db, params.id, 'task', user.id);
    await contentChannel(db, channelId, user.id, ['TODO'], 'member');
    if (!(await collab.change(channelId, (doc) => tasks.deleteTask(doc, params.id)))) throw notFound('task');
  });
}
