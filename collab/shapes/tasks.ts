import * as Y from 'yjs';
import { orderAt } from './order.ts';
import { bool, byOrder, mapEntries, str } from './read.ts';

/** TODO channels: `tasks` Y.Map id → Y.Map {content, is_completed, assignee_id, order}. */
export interface Task {
  id: string;
  content: string;
  is_completed: boolean;
  assignee_id: string | null;
  order: string;
}

const tasksOf = (doc: Y.Doc) => doc.getMap<unknown>('tasks');

export function readTasks(doc: Y.Doc): Task[] {
  const tasks = mapEntries(tasksOf(doc)).flatMap(([id, m]) => {
    const content = str(m, 'content');
    const order = str(m, 'order');
    if (content === undefined || order === undefined) return [];
    return [{ id, content, is_completed: bool(m, 'is_completed') ?? false, assignee_id: str(m, 'assignee_id') ?? null, order }];
  });
  return byOrder(tasks);
}

export function readTask(doc: Y.Doc, id: string): Task | undefined {
  return readTasks(doc).find((t) => t.id === id);
}

export interface TaskChanges {
  content?: string;
  is_completed?: boolean;
  assignee_id?: string | null;
  /** New position in the list, 0 first. */
  position?: number;
}

export function addTask(doc: Y.Doc, fields: TaskChanges & { content: string }): Task {
  const id = crypto.randomUUID();
  const others = readTasks(doc).map((t) => t.order);
  const m = new Y.Map<unknown>();
  m.set('content', fields.content);
  m.set('is_completed', fields.is_completed ?? false);
  m.set('assignee_id', fields.assignee_id ?? null);
  m.set('order', orderAt(others, fields.position ?? others.length));
  tasksOf(doc).set(id, m);
  return readTask(doc, id)!;
}

/** Changes the given fields only, so concurrent edits of other fields survive. */
export function updateTask(doc: Y.Doc, id: string, changes: TaskChanges): Task | undefined {
  const m = tasksOf(doc).get(id);
  if (!(m instanceof Y.Map) || !readTask(doc, id)) return undefined;
  if (changes.content !== undefined) m.set('content', changes.content);
  if (changes.is_completed !== undefined) m.set('is_completed', changes.is_completed);
  if (changes.assignee_id !== undefined) m.set('assignee_id', changes.assignee_id);
  if (changes.position !== undefined) {
    const others = readTasks(doc).filter((t) => t.id !== id).map((t) => t.order);
    m.set('order', orderAt(others, changes.position));
  }
  return readTask(doc, id);
}

export function deleteTask(doc: Y.Doc, id: string): boolean {
  const tasks = tasksOf(doc);
  if (!tasks.has(id)) return false;
  tasks.delete(id);
  return true;
}
