import { taskRules, kanbanRules } from './board.ts';
import { chatRules, segmentRules } from './chat.ts';
import { pageRules } from './page.ts';
import type { ChannelRules } from './rule.ts';

export { applyChecked, writtenRanges, type CheckedUpdate } from './guard.ts';
export type { ChannelRules, Refusal, Writer } from './rule.ts';
export { segmentRules };

/** The write rules of each channel type that has a document. */
export const rulesByChannelType: Readonly<Record<string, ChannelRules>> = {
  TEXT: chatRules,
  DM: chatRules,
  TODO: taskRules,
  KANBAN: kanbanRules,
  DOC: pageRules,
};
