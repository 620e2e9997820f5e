// A generated team corpus for bench:ai: chunk texts shaped like the ones ai/chunking.ts makes from each channel
// type (chat lines with author and time, task and card lines, page paragraphs), from the test model's word list,
// spread over groups and channels, with ids and metadata as the indexer writes them.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { chunkId, MAX_WORDS } from '../../ai/chunking.ts';
import type { Chunk } from '../../ai/vector-store.ts';

export interface Channel {
  id: string;
  groupId: string;
  type: 'TEXT' | 'DOC' | 'TODO' | 'KANBAN';
}

export interface Corpus {
  channels: Channel[];
  chunks: Chunk[];
  words: number[];
  /** 6-10 words of one of the chunks at `indexes` (never its author prefix), as a user might ask about it. */
  query(indexes: number[]): { text: string; chunk: number };
}

const TYPES: Channel['type'][] = ['TEXT', 'DOC', 'TODO', 'KANBAN'];
const SOURCE = { TEXT: 'message', DOC: 'page', TODO: 'task', KANBAN: 'card' } as const;
const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar',
  'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'priya', 'kenji', 'amara', 'lucas', 'mei', 'sofia'];
const COLUMNS = ['Backlog', 'Doing', 'Review', 'Done'];
const MIN_WORDS = 60;

/** A seeded PRNG (xorshift32), so every run indexes the same corpus. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** The sections of ai/test/vocabulary.txt (`# name` lines), each as its blank-line-separated paragraphs of words. */
async function wordLists(): Promise<Map<string, string[][]>> {
  const file = await readFile(new URL('../../ai/test/vocabulary.txt', import.meta.url), 'utf8');
  const sections = new Map<string, string[][]>();
  let current: string[][] | undefined;
  for (const line of file.split('\n')) {
    if (line.startsWith('# ')) sections.set(line.slice(2).trim(), (current = [[]]));
    else if (!line.trim()) current?.push([]);
    else current?.at(-1)!.push(...line.trim().split(/\s+/));
  }
  return sections;
}

export async function generateCorpus(options: { chunks: number; channels: number; groups: number; seed: number }): Promise<Corpus> {
  const lists = await wordLists();
  const section = (name: string, paragraph = 0) => {
    const words = lists.get(name)?.filter((p) => p.length)[paragraph];
    if (!words?.length) throw new Error(`ai/test/vocabulary.txt has no "# ${name}" words`);
    return words;
  };
  const verbs = section('verbs');
  const nouns = [...section('nouns'), ...section('more common words')];
  const adjectives = section('adjectives and adverbs').filter((w) => !w.endsWith('ly'));
  const tech = section('team workspace and software');
  const days = section('time and numbers').slice(0, 7);
  const rnd = random(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const int = (min: number, max: number) => min + Math.floor(rnd() * (max - min + 1));

  const sentence = (): string => {
    const noun = () => (rnd() < 0.3 ? `${pick(tech)} ${pick(nouns)}` : rnd() < 0.5 ? `${pick(adjectives)} ${pick(nouns)}` : pick(nouns));
    const forms = [
      () => `${pick(NAMES)} will ${pick(verbs)} the ${noun()} before ${pick(days)}`,
      () => `we need to ${pick(verbs)} the ${noun()} and ${pick(verbs)} the ${noun()} for the ${pick(tech)} team`,
      () => `can someone ${pick(verbs)} the ${noun()} in the ${noun()}`,
      () => `the ${noun()} is ${pick(adjectives)} because the ${noun()} did not ${pick(verbs)} the ${noun()}`,
      () => `please ${pick(verbs)} the ${noun()} with ${pick(NAMES)} after the ${pick(tech)} ${pick(nouns)} on ${pick(days)}`,
      () => `I think we should ${pick(verbs)} the ${noun()} first and ${pick(verbs)} the ${noun()} later`,
    ];
    const text = pick(forms)();
    return `${text[0]!.toUpperCase()}${text.slice(1)}${rnd() < 0.2 ? '?' : '.'}`;
  };
  /** One piece as piecesOf writes it for the channel type. */
  const piece = (type: Channel['type']): string => {
    const sentences = Array.from({ length: int(1, 3) }, sentence).join(' ');
    switch (type) {
      case 'TEXT':
        return `${pick(NAMES)} (2026-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')} ` +
          `${String(int(8, 19)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}): ${sentences}`;
      case 'TODO':
        return `Task${rnd() < 0.3 ? ' (done)' : ''}: ${sentence()}${rnd() < 0.5 ? ` (assigned to ${pick(NAMES)})` : ''}`;
      case 'KANBAN':
        return `${pick(COLUMNS)}: ${sentence()}`;
      case 'DOC':
        return `${sentences} ${Array.from({ length: int(1, 4) }, sentence).join(' ')}`;
    }
  };
  const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length;

  const groups = Array.from({ length: options.groups }, () => randomUUID());
  const channels: Channel[] = Array.from({ length: options.channels }, (_, i) => ({
    id: randomUUID(), groupId: groups[i % options.groups]!, type: TYPES[Math.floor(i / options.groups) % TYPES.length]!,
  }));
  const chunks: Chunk[] = [];
  const words: number[] = [];
  for (let i = 0; i < options.chunks; i++) {
    const channel = channels[i % channels.length]!;
    // A chunk of pieces up to its drawn length, inside the chunker's bound.
    const target = int(MIN_WORDS, MAX_WORDS);
    const pieces: string[] = [];
    let size = 0;
    while (size < target) {
      let next = piece(channel.type);
      const n = countWords(next);
      if (size + n > MAX_WORDS) next = next.split(/\s+/).slice(0, Math.max(MAX_WORDS - size, 1)).join(' ');
      pieces.push(next);
      size += countWords(next);
    }
    const text = pieces.join('\n');
    const source = SOURCE[channel.type];
    const itemIds = channel.type === 'DOC' ? [] : pieces.map(() => randomUUID());
    const id = chunkId(channel.id, { text, source, itemIds, page: 0 });
    chunks.push({
      id, text,
      metadata: {
        group_id: channel.groupId, channel_id: channel.id, channel_type: channel.type, source,
        item_ids: itemIds.join(','), file_id: '', page: 0, part: -1,
      },
    });
    words.push(size);
  }

  return {
    channels,
    chunks,
    words,
    query(indexes) {
      const index = pick(indexes);
      const body = chunks[index]!.text.split('\n').map((line) => line.replace(/^\w+ \([\d-]+ [\d:]+\): /, '')).join(' ');
      const all = body.split(/\s+/).filter(Boolean);
      const start = Math.floor(rnd() * Math.max(all.length - 10, 1));
      return { text: all.slice(start, start + int(6, 10)).join(' '), chunk: index };
    },
  };
}
