import type pg from 'pg';
import type { Keyring } from '../collab/index.ts';
import type { ReadableChannel, Scope } from './answer-scope.ts';
import { chunkPieces } from './chunking.ts';
import { documentReader } from './document-pieces.ts';
import type { Embedder } from './embedder.ts';
import { estimateTokens, type ChatMessage, type Llm } from './llm.ts';
import type { Readers, VectorStore } from './vector-store.ts';

/** A retrieved chunk as the caller sees it: what it says and what to cite. */
export interface Source {
  n: number;
  channel_id: string;
  channel_name: string;
  channel_type: string;
  source: string;
  /** Message, task or card ids the chunk came from. */
  item_ids: string[];
  file_id: string | null;
  page: number | null;
  text: string;
  score: number;
}

export interface AssistantDeps {
  pool: pg.Pool;
  /** Document storage's own pool. */
  storage: pg.Pool;
  keyring: Keyring;
  vectors: VectorStore;
  embedder: Embedder;
  llm: Llm;
}

/** Tokens kept free for the model's answer. */
const ANSWER_RESERVE = 512;

const SYSTEM = `You are the assistant of a team workspace. Answer only from the numbered sources given; cite them as [n].
If the sources do not contain the answer, say so. Be brief.`;

/**
 * The filter of a search over `allowed` (channels of `scope`), in as few names as it takes: a group whose every
 * channel in the scope is allowed by its id (a scope holds whole groups), and the other allowed channels (DMs,
 * and channels of a group the search was narrowed to part of) one by one.
 */
function readersOf(scope: Scope, allowed: Set<string>): Readers {
  const partial = new Set<string>();
  for (const channel of scope.values()) if (channel.group_id && !allowed.has(channel.id)) partial.add(channel.group_id);
  const groups = new Set<string>();
  const channels: string[] = [];
  for (const id of allowed) {
    const group = scope.get(id)!.group_id;
    if (group && !partial.has(group)) groups.add(group);
    else channels.push(id);
  }
  return { groups: [...groups], channels };
}

export function createAssistant(deps: AssistantDeps) {
  const readPieces = documentReader(deps.pool, deps.storage, deps.keyring);

  /**
   * The nearest chunks within `scope` (the channels the answer may draw from: see answer-scope.ts), narrowed to
   * `channelIds` when given. The scope is the filter of the Chroma query itself.
   */
  async function search(scope: Scope, query: string, channelIds: string[] | undefined, topK: number): Promise<Source[]> {
    // Client-sent ids can only narrow the scope: ids outside it are dropped, never added.
    const allowed = new Set(channelIds ? channelIds.filter((id) => scope.has(id)) : scope.keys());
    if (!allowed.size) return [];
    const [vector] = await deps.embedder.embed([query]);
    const hits = await deps.vectors.query(vector!, readersOf(scope, allowed), topK);
    return hits
      // Checked again after Chroma: a chunk outside the scope is never handed on, whatever the store returned.
      .filter((hit) => allowed.has(hit.metadata.channel_id))
      .map((hit, i) => {
        const channel = scope.get(hit.metadata.channel_id)!;
        return {
          n: i + 1,
          channel_id: channel.id,
          channel_name: channel.name,
          channel_type: channel.type,
          source: hit.metadata.source,
          item_ids: hit.metadata.item_ids ? hit.metadata.item_ids.split(',') : [],
          file_id: hit.metadata.file_id || null,
          page: hit.metadata.page || null,
          text: hit.text,
          score: Math.round((1 - hit.distance) * 1000) / 1000,
        };
      });
  }

  /** The chat messages for answering `question` from `sources`, dropping the weakest sources beyond the budget. */
  function answerPrompt(question: string, sources: Source[], history: ChatMessage[] = []): ChatMessage[] {
    let budget = deps.llm.numCtx - ANSWER_RESERVE - estimateTokens(SYSTEM + question) -
      history.reduce((n, m) => n + estimateTokens(m.content), 0);
    const used: string[] = [];
    for (const s of sources) {
      const block = `[${s.n}] (${s.channel_name}, ${s.source}${s.page ? `, page ${s.page}` : ''})\n${s.text}`;
      const cost = estimateTokens(block);
      if (cost > budget) break;
      budget -= cost;
      used.push(block);
    }
    return [
      { role: 'system', content: SYSTEM },
      ...history,
      { role: 'user', content: `Sources:\n${used.join('\n\n')}\n\nQuestion: ${question}` },
    ];
  }

  /** A channel's content as chunk texts, most recent last (for summaries). */
  async function channelText(channel: ReadableChannel): Promise<string[]> {
    return chunkPieces(await readPieces(channel.id, channel.type)).map((c) => c.text);
  }

  /**
   * Map-reduce: the content is cut into parts that fit the context window, each part is summarized, and the
   * part summaries are summarized together (again in parts, until one is left).
   */
  async function summarize(texts: string[], what: string): Promise<{ summary: string; parts: number }> {
    const budget = deps.llm.numCtx - ANSWER_RESERVE - 200;
    const ask = (body: string) =>
      deps.llm.complete([
        { role: 'system', content: `Summarize ${what} for a teammate: the decisions, open questions and who does what. Be brief.` },
        { role: 'user', content: body },
      ]);
    const group = (items: string[]) => {
      const parts: string[][] = [[]];
      let size = 0;
      for (const item of items) {
        const cost = estimateTokens(item);
        if (size + cost > budget && parts.at(-1)!.length) {
          parts.push([]);
          size = 0;
        }
        parts.at(-1)!.push(item.slice(0, budget * 4));
        size += cost;
      }
      return parts;
    };
    let level = group(texts);
    const firstParts = level.length;
    for (;;) {
      const summaries = [];
      for (const part of level) summaries.push(await ask(part.join('\n')));
      if (summaries.length === 1) return { summary: summaries[0]!, parts: firstParts };
      const next = group(summaries);
      // Summaries too long to pair up would never shrink: take them one by one, shortened, in a last step.
      level = next.length < summaries.length ? next : [summaries.map((s) => s.slice(0, (budget * 4) / summaries.length))];
    }
  }

  return { search, answerPrompt, channelText, summarize };
}

export type Assistant = ReturnType<typeof createAssistant>;
