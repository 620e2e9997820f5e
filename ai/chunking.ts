import { createHash } from 'node:crypto';
import type * as Y from 'yjs';
import { chat, kanban, page, tasks } from '../collab/index.ts';

/** One unit of content with what a citation points at: a message, a task, a card, a paragraph of a page or file. */
export interface Piece {
  text: string;
  source: 'message' | 'task' | 'card' | 'page' | 'file';
  itemIds: string[];
  page?: number;
}

export interface ChunkText {
  text: string;
  source: Piece['source'];
  itemIds: string[];
  page: number;
}

/**
 * A chunk's length bound, in words. MiniLM was trained on 256 tokens and truncates beyond; English prose runs
 * about 1.3 tokens per word, but chat lines carry names and times that split into many pieces, so 120 words
 * leave room for them.
 */
export const MAX_WORDS = 120;
const MAX_CHARS = 1200;

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** The pieces of a channel's document, by channel type. `names` turns author ids into names. */
export function piecesOf(type: string, doc: Y.Doc, names: Map<string, string>): Piece[] {
  switch (type) {
    case 'TEXT':
    case 'DM':
      return chat.readMessages(doc)
        .filter((m) => !m.deleted && m.text.trim())
        .map((m) => ({
          text: `${names.get(m.author_id) ?? 'someone'} (${m.created_at.slice(0, 16).replace('T', ' ')}): ${m.text}`,
          source: 'message',
          itemIds: [m.id],
        }));
    case 'TODO':
      return tasks.readTasks(doc).map((t) => ({
        text: `Task${t.is_completed ? ' (done)' : ''}: ${t.content}${t.assignee_id ? ` (assigned to ${names.get(t.assignee_id) ?? 'someone'})` : ''}`,
        source: 'task',
        itemIds: [t.id],
      }));
    case 'KANBAN':
      return kanban.readBoard(doc).columns.flatMap((column) =>
        column.cards.map((card) => ({ text: `${column.title}: ${card.content}`, source: 'card' as const, itemIds: [card.id] })),
      );
    case 'DOC': {
      const { title, text } = page.readPage(doc);
      return paragraphs(title ? `${title}\n${text}` : text).map((p) => ({ text: p, source: 'page', itemIds: [] }));
    }
    default:
      return [];
  }
}

/** Paragraphs of running text (blank lines or single lines, whichever the text uses). */
export function paragraphs(text: string): string[] {
  const blocks = text.split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean);
  return (blocks.length > 1 ? blocks : text.split('\n')).map((b) => b.trim()).filter(Boolean);
}

/** Splits one over-long text into word windows that overlap by a fifth. */
function split(text: string): string[] {
  const all = words(text);
  const parts: string[] = [];
  const step = Math.floor(MAX_WORDS * 0.8);
  for (let i = 0; i < all.length; i += step) {
    parts.push(all.slice(i, i + MAX_WORDS).join(' ').slice(0, MAX_CHARS));
    if (i + MAX_WORDS >= all.length) break;
  }
  return parts;
}

/**
 * Groups consecutive pieces of one source into chunks within the length bound; each chunk repeats the previous
 * chunk's last piece (overlap), so a conversation or a paragraph's context is not cut at a chunk's edge.
 */
export function chunkPieces(pieces: Piece[]): ChunkText[] {
  const chunks: ChunkText[] = [];
  let current: Piece[] = [];
  let size = 0;
  const flush = () => {
    if (!current.length) return;
    chunks.push({
      text: current.map((p) => p.text).join('\n'),
      source: current[0]!.source,
      itemIds: current.flatMap((p) => p.itemIds),
      page: current[0]!.page ?? 0,
    });
  };
  for (const piece of pieces) {
    const n = words(piece.text).length;
    if (n > MAX_WORDS || piece.text.length > MAX_CHARS) {
      flush();
      current = [];
      size = 0;
      for (const part of split(piece.text)) chunks.push({ text: part, source: piece.source, itemIds: piece.itemIds, page: piece.page ?? 0 });
      continue;
    }
    const samePage = !current.length || current[0]!.page === piece.page;
    if (size + n > MAX_WORDS || !samePage) {
      flush();
      const last = current.at(-1);
      current = last && samePage && words(last.text).length + n <= MAX_WORDS ? [last] : [];
      size = current.reduce((s, p) => s + words(p.text).length, 0);
    }
    current.push(piece);
    size += n;
  }
  flush();
  return chunks;
}

/** A content hash: the same text from the same place keeps its id, so unchanged chunks are not embedded again. */
export function chunkId(owner: string, chunk: ChunkText): string {
  return createHash('sha256').update(`${owner}\n${chunk.source}\n${chunk.page}\n${chunk.itemIds.join(',')}\n${chunk.text}`).digest('hex').slice(0, 40);
}
