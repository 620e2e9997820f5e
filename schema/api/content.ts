import { z, Text, Uuid } from './common.ts';

const Position = z.number().int().min(0).max(1_000_000).openapi({ description: '0-based position in the list' });
const Content = Text().trim().min(1).max(10_000);
const ColumnTitle = Text().trim().min(1).max(200);

// The fields of tasks, columns and cards as they are stored in a channel's Yjs document. REST requests are built
// from the same parts, and the write rules check what a client writes into a document against these, so both
// paths accept exactly the same values.
/** An id inside a document: a lower-case UUID, as REST writes them (so ids compare equal as strings). */
export const DocumentId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a lower-case UUID');
/** A fractional order key (base 62, as `fractional-indexing` makes them). */
export const OrderKey = z.string().min(1).max(200).regex(/^[0-9A-Za-z]+$/, 'a fractional order key');
export const StoredTask = z.strictObject({
  content: Content,
  is_completed: z.boolean(),
  assignee_id: DocumentId.nullable(),
  order: OrderKey,
});
/** A page's title (its `meta.title`). */
export const PageTitle = Text().trim().max(200);
/** A chat message's text. */
export const MessageText = Text().max(10_000);
export const StoredColumn = z.strictObject({ title: ColumnTitle, order: OrderKey });
export const StoredCard = z.strictObject({ content: Content, column_id: DocumentId, order: OrderKey });

export const Task = z
  .object({
    id: z.string(),
    content: z.string(),
    is_completed: z.boolean(),
    assignee_id: z.string().nullable(),
    order: z.string().openapi({ description: 'fractional order key; sort by it, then by id' }),
  })
  .openapi('Task');

export const CreateTaskRequest = z
  .strictObject({
    content: Content,
    is_completed: z.boolean().optional(),
    assignee_id: Uuid.nullable().optional(),
    position: Position.optional(),
  })
  .openapi('CreateTaskRequest');

export const UpdateTaskRequest = z
  .strictObject({
    content: Content.optional(),
    is_completed: z.boolean().optional(),
    assignee_id: Uuid.nullable().optional(),
    position: Position.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'change at least one field')
  .openapi('UpdateTaskRequest');

export const ItemParams = z.strictObject({ id: Uuid });

export const Card = z
  .object({ id: z.string(), content: z.string(), column_id: z.string(), order: z.string() })
  .openapi('Card');

export const Column = z.object({ id: z.string(), title: z.string(), order: z.string() }).openapi('Column');

export const Board = z.object({ columns: z.array(Column.extend({ cards: z.array(Card) })) }).openapi('Board');

export const CreateColumnRequest = z
  .strictObject({ title: ColumnTitle, position: Position.optional() })
  .openapi('CreateColumnRequest');

export const CreateCardRequest = z
  .strictObject({ content: Content, position: Position.optional() })
  .openapi('CreateCardRequest');

export const UpdateCardRequest = z.strictObject({ content: Content }).openapi('UpdateCardRequest');

export const MoveCardRequest = z
  .strictObject({ column_id: Uuid, new_order: Position })
  .openapi('MoveCardRequest');

export interface PageNodeShape {
  type: string;
  attrs?: Record<string, unknown>;
  content?: PageNodeShape[];
  text?: string;
  marks?: unknown[];
}

export const PageNode: z.ZodType<PageNodeShape> = z
  .lazy(() =>
    z.object({
      type: z.string().min(1).max(64),
      attrs: z.record(z.string(), z.unknown()).optional(),
      content: z.array(PageNode).max(100_000).optional(),
      text: Text().optional(),
      marks: z.array(z.unknown()).optional(),
    }),
  )
  .openapi('PageNode', { type: 'object', description: 'a ProseMirror (Tiptap schema) node as JSON' });

export const Page = z
  .object({
    title: z.string(),
    last_edited_by: z.string().nullable(),
    content: PageNode,
    text: z.string().openapi({ description: 'the page as plain text, one line per block' }),
    markdown: z.string().openapi({ description: 'the page as Markdown' }),
  })
  .openapi('Page');

export const PutPageRequest = z
  .strictObject({
    title: PageTitle.optional(),
    content: PageNode.optional(),
    text: Text().max(1_000_000).optional(),
    markdown: Text().max(1_000_000).optional(),
  })
  .refine(
    (b) => [b.content, b.text, b.markdown].filter((v) => v !== undefined).length === 1,
    'give exactly one of content, text and markdown',
  )
  .openapi('PutPageRequest');

export const PatchPageRequest = z
  .strictObject({ title: PageTitle })
  .openapi('PatchPageRequest');

export const Message = z
  .object({
    id: z.string(),
    author_id: z.string(),
    text: z.string(),
    created_at: z.string().openapi({ description: "the writer's own time, as its client claimed it" }),
    received_at: z.string().nullable().openapi({
      description: 'when the server first received the message (it orders and expires messages by this)',
    }),
    edited_at: z.string().nullable(),
    parent_id: z.string().nullable(),
    deleted: z.boolean(),
    reactions: z.record(z.string(), z.array(z.string())),
    part: z.number().int().nullable().openapi({
      description:
        'where the message lives now: null for the live part (the document named by the channel id), n for the ' +
        'history segment `<channel id>/history/<n>` (open it over /collab to edit, react to or delete the message)',
    }),
  })
  .openapi('Message');

export const MessagePage = z
  .object({
    messages: z.array(Message).openapi({ description: 'oldest first' }),
    next_before: z.string().nullable().openapi({ description: 'pass as `before` for the page before this one' }),
  })
  .openapi('MessagePage');

export const MessagesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: Text().max(200).optional().openapi({ description: 'a message id: return messages before it' }),
  thread: Text().max(200).optional().openapi({ description: 'a message id: return only its thread replies' }),
});
