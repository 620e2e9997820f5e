// The channel shapes the server reads and checks (collab/shapes), shared so the app writes exactly what the write
// rules accept. Only the browser-safe modules: the page shape's server side (Markdown, transformer) stays out.
export * as chat from '../../../collab/shapes/chat.ts';
export * as tasks from '../../../collab/shapes/tasks.ts';
export * as kanban from '../../../collab/shapes/kanban.ts';
