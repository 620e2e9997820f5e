// A task list: add, complete, assign, edit, reorder (buttons and drag), delete; every change goes into the
// channel's document through the shared shape helpers, so REST and other clients see the same tasks.
import { useEffect, useState, type DragEvent, type FormEvent } from 'react';
import { useResource } from '../api.ts';
import type { MemberInfo } from '../api-types.ts';
import { useDocValue } from '../collab/use-channel-doc.ts';
import { tasks } from '../shapes.ts';
import { focusItem, type ContentViewProps } from './content-view.ts';

export function TasksView({ channel, open, focus }: ContentViewProps) {
  const { doc, channelDoc } = open;
  const list = useDocValue(doc, tasks.readTasks);
  const members = useResource<MemberInfo[]>(channel.group_id ? `/api/groups/${channel.group_id}/members` : null);
  const [dragged, setDragged] = useState<string | null>(null);
  const editable = channelDoc.editable;
  // A cited task may arrive with the server's copy after the device's (empty on a first visit): focus it once shown.
  const focusShown = focus !== null && list.some((t) => t.id === focus);
  useEffect(() => {
    if (focusShown) focusItem(focus);
  }, [focus, focusShown]);

  const add = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const content = String(form.get('content') ?? '').trim();
    if (!content) return;
    const assignee = String(form.get('assignee') ?? '');
    tasks.addTask(doc, { content, assignee_id: assignee || null });
    event.currentTarget.reset();
  };
  const move = (id: string, position: number) => tasks.updateTask(doc, id, { position: Math.max(0, Math.min(position, list.length - 1)) });
  const drop = (event: DragEvent, index: number) => {
    event.preventDefault();
    if (dragged) move(dragged, index);
    setDragged(null);
  };
  const done = list.filter((t) => t.is_completed).length;

  return (
    <section aria-label="Tasks" className="tasks">
      <p className="muted">{list.length ? `${done} of ${list.length} done` : 'No tasks yet.'}</p>
      <ol>
        {list.map((task, index) => (
          <li
            key={task.id}
            id={`item-${task.id}`}
            tabIndex={-1}
            className={task.is_completed ? 'done' : undefined}
            draggable={editable}
            onDragStart={() => setDragged(task.id)}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => drop(e, index)}
            data-testid="task"
          >
            <input
              type="checkbox"
              aria-label={`Done: ${task.content}`}
              checked={task.is_completed}
              disabled={!editable}
              onChange={(e) => tasks.updateTask(doc, task.id, { is_completed: e.target.checked })}
            />
            <input
              className="task-content"
              aria-label="Task"
              defaultValue={task.content}
              key={task.content}
              readOnly={!editable}
              maxLength={10000}
              onBlur={(e) => {
                const content = e.target.value.trim();
                if (content && content !== task.content) tasks.updateTask(doc, task.id, { content });
              }}
            />
            <select
              aria-label={`Assignee of ${task.content}`}
              value={task.assignee_id ?? ''}
              disabled={!editable}
              onChange={(e) => tasks.updateTask(doc, task.id, { assignee_id: e.target.value || null })}
            >
              <option value="">Unassigned</option>
              {members.data?.map((m) => <option key={m.user_id} value={m.user_id}>{m.display_name ?? m.username}</option>)}
            </select>
            <button type="button" aria-label={`Move up: ${task.content}`} disabled={!editable || index === 0} onClick={() => move(task.id, index - 1)}>↑</button>
            <button type="button" aria-label={`Move down: ${task.content}`} disabled={!editable || index === list.length - 1} onClick={() => move(task.id, index + 1)}>↓</button>
            <button type="button" aria-label={`Delete: ${task.content}`} disabled={!editable} onClick={() => tasks.deleteTask(doc, task.id)}>✕</button>
          </li>
        ))}
      </ol>
      {editable && (
        <form onSubmit={add} aria-label="Add a task" className="inline">
          <label className="field"><span>New task</span><input name="content" required maxLength={10000} /></label>
          <label className="field">
            <span>Assignee</span>
            <select name="assignee" defaultValue="">
              <option value="">Unassigned</option>
              {members.data?.map((m) => <option key={m.user_id} value={m.user_id}>{m.display_name ?? m.username}</option>)}
            </select>
          </label>
          <button type="submit">Add task</button>
        </form>
      )}
    </section>
  );
}
