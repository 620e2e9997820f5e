import * as Y from 'yjs';
import type { z } from 'zod';
import { DocumentId, StoredCard, StoredColumn, StoredTask } from '../../schema/index.ts';
import { valueOf } from './changes.ts';
import { refuse, type ChannelRules, type Refusal, type RuleInput } from './rule.ts';

type Fields = z.ZodObject<z.ZodRawShape>;

/**
 * A map of entries (id → map of fields) whose fields must fit `fields`, the same zod definition REST validates
 * with. Returns the refusal for one change under the map's root, or nothing.
 */
function entryRules(
  what: string,
  fields: Fields,
  extra: (field: string, value: unknown, input: RuleInput) => Refusal | undefined,
) {
  const wrong = (detail: string) => refuse(`${what}.shape`, `${what}: ${detail}`);

  function checkField(key: string, value: unknown, input: RuleInput): Refusal | undefined {
    const schema = fields.shape[key] as z.ZodType | undefined;
    if (!schema) return wrong(`unknown field ${key.slice(0, 40)}`);
    const parsed = schema.safeParse(value);
    if (!parsed.success) return wrong(`${key}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return extra(key, value, input);
  }

  return function check(input: RuleInput): Refusal | undefined {
    const { change, place } = input;
    if (change.kind !== 'set') return wrong('entries are maps of fields');
    if (place.path.length === 0) {
      if (!DocumentId.safeParse(change.key).success) return wrong('an id must be a lower-case UUID');
      if (!change.after) return undefined;
      const entry = valueOf(change.after);
      if (!(entry instanceof Y.Map)) return wrong('an entry must be a map of fields');
      const values = Object.fromEntries(entry.entries());
      const parsed = fields.safeParse(values);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return wrong(`${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}`);
      }
      for (const [key, value] of Object.entries(values)) {
        const refusal = extra(key, value, input);
        if (refusal) return refusal;
      }
      return undefined;
    }
    if (place.path.length === 1) {
      if (!change.after) return wrong(`${change.key.slice(0, 40)} cannot be removed`);
      return checkField(change.key, valueOf(change.after), input);
    }
    return wrong('entries are maps of fields');
  };
}

const none = () => undefined;

/** TODO channels: tasks fit the REST definition; an assignee is someone who may read the channel. */
const checkTask = entryRules('task', StoredTask, (field, value, { writer }) =>
  field === 'assignee_id' && value !== null && !writer.readers.has(value as string)
    ? refuse('task.assignee', 'a task can only be assigned to a member of the group')
    : undefined,
);

export const taskRules: ChannelRules = {
  roots: { tasks: Y.Map },
  check(input) {
    return input.place.root === 'tasks' ? checkTask(input) : refuse('shape', 'a task list holds only tasks');
  },
};

const checkColumn = entryRules('column', StoredColumn, none);
const checkCard = entryRules('card', StoredCard, (field, value, { doc }) =>
  field === 'column_id' && !(doc.getMap('columns').get(value as string) instanceof Y.Map)
    ? refuse('card.column', 'a card must be in an existing column')
    : undefined,
);

/** Whether a live card still names the column. */
function columnInUse(doc: Y.Doc, columnId: string): boolean {
  for (const card of doc.getMap<unknown>('cards').values()) {
    if (card instanceof Y.Map && card.get('column_id') === columnId) return true;
  }
  return false;
}

/**
 * KANBAN channels: columns and cards fit the REST definitions; a card names an existing column; a column that
 * still holds cards is not removed. Columns added or changed are judged first and removals last, so a batch that
 * makes a column, fills it, or empties and removes one is judged as a whole.
 */
export const kanbanRules: ChannelRules = {
  roots: { columns: Y.Map, cards: Y.Map },
  order(change, place) {
    if (place.root !== 'columns') return 1;
    return change.kind === 'set' && place.path.length === 0 && !change.after ? 2 : 0;
  },
  check(input) {
    const { change, place, doc } = input;
    if (place.root === 'cards') return checkCard(input);
    if (place.root !== 'columns') return refuse('shape', 'a board holds only columns and cards');
    const refusal = checkColumn(input);
    if (refusal) return refusal;
    if (change.kind === 'set' && place.path.length === 0 && !change.after && columnInUse(doc, change.key)) {
      return refuse('column.cards', 'move or delete its cards before removing a column');
    }
    return undefined;
  },
};
