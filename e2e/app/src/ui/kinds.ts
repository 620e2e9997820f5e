import type { ChannelKind } from '../api-types.ts';

/** A channel type's mark beside its name, and what it is called in the app. */
export const kindIcon: Record<ChannelKind, string> = { TEXT: '#', DM: '@', VOICE: '☎', TODO: '☑', DOC: '¶', KANBAN: '▦' };
export const kindName: Record<ChannelKind, string> = { TEXT: 'Chat', DM: 'Direct messages', VOICE: 'Call', TODO: 'Task list', DOC: 'Page', KANBAN: 'Board' };
