export * as chat from './chat.ts';
export * as tasks from './tasks.ts';
export * as kanban from './kanban.ts';
export * as page from './page.ts';
export type { Message } from './chat.ts';
export type { Task, TaskChanges } from './tasks.ts';
export type { Board, Card, Column } from './kanban.ts';
export type { Page, PageNode } from './page.ts';
