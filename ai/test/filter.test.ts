// The permission filter of a search (VectorStore.query) against a real local Chroma: it names groups and DM
// channels, looks at the unfiltered nearest chunks first and filters inside Chroma when those do not suffice.
// Either way the answer must be exactly the filtered search's: readable chunks only, none crowded out.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChromaClient } from 'chromadb';
import { pino } from 'pino';
import { startLocalChroma, type LocalChroma } from '../local-chroma.ts';
import { openVectorStore, readersWhere, type Chunk, type Readers, type VectorStore } from '../vector-store.ts';
import { seededUnitVector } from './seeded-vector.ts';

const DIM = 32;
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const A_CHANNEL = '00000000-0000-4000-8000-0000000000a1';
const B_CHANNEL = '00000000-0000-4000-8000-0000000000b1';
const DM = '00000000-0000-4000-8000-0000000000d1';
const OTHER_DM = '00000000-0000-4000-8000-0000000000d2';

let dir: string;
let chroma: LocalChroma;
let store: VectorStore;
const chunks: Chunk[] = [];
const vector = (text: string) => [...seededUnitVector(text, DIM)];

function chunk(group: string, channel: string, text: string): Chunk {
  return {
    id: `${channel}:${text}`, text,
    metadata: { group_id: group, channel_id: channel, channel_type: group ? 'TEXT' : 'DM', source: 'message', item_ids: '', file_id: '', page: 0, part: -1 },
  };
}

/** The answer of the filter alone inside Chroma: what `store.query` must return, whichever way it goes. */
async function filtered(query: number[], readers: Readers, topK: number): Promise<string[]> {
  const { port } = new URL(chroma.url);
  const collection = await new ChromaClient({ host: '127.0.0.1', port: Number(port) }).getCollection({ name: store.collectionName });
  const result = await collection.query({ queryEmbeddings: [query], nResults: topK, where: readersWhere(readers), include: [] });
  return result.ids[0]!;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-filter-'));
  chroma = await startLocalChroma(path.join(dir, 'chroma'), pino({ level: 'silent' }));
  store = await openVectorStore(chroma.url, 'test/filter', DIM);
  for (let i = 0; i < 20; i++) chunks.push(chunk(A, A_CHANNEL, `a${i}`), chunk(B, B_CHANNEL, `b${i}`));
  for (let i = 0; i < 5; i++) chunks.push(chunk('', DM, `dm${i}`), chunk('', OTHER_DM, `other${i}`));
  await store.upsert(chunks, chunks.map((c) => vector(c.text)));
});
after(async () => {
  await chroma.stop();
  await rm(dir, { recursive: true, force: true });
});

const channelsOf = (ids: string[]) => new Set(ids.map((id) => id.split(':')[0]));

describe('the permission filter of a search', () => {
  it("a member of A finds A's content, never B's, even when B's is nearest", async () => {
    const member: Readers = { groups: [A], channels: [] };
    // Positive control: A's own chunk, asked for exactly, comes first.
    assert.equal((await store.query(vector('a7'), member, 1))[0]?.id, `${A_CHANNEL}:a7`);
    for (const text of ['b3', 'b11', 'dm2']) {
      // Small top_k: the unfiltered look finds enough of A; large: A has too few nearby, Chroma filters.
      for (const topK of [1, 3, 10, 30]) {
        const hits = await store.query(vector(text), member, topK);
        assert.deepEqual([...channelsOf(hits.map((h) => h.id))], [A_CHANNEL], `${text}, top ${topK}`);
        assert.deepEqual(hits.map((h) => h.id), await filtered(vector(text), member, topK), `${text}, top ${topK}: exactly the filtered answer`);
        assert.equal(hits.length, Math.min(topK, 20));
      }
    }
    // And B's member, the other way round.
    assert.equal((await store.query(vector('b3'), { groups: [B], channels: [] }, 1))[0]?.id, `${B_CHANNEL}:b3`);
  });

  it('a DM participant finds the DM; a non-participant never does', async () => {
    const participant: Readers = { groups: [A], channels: [DM] };
    const nonParticipant: Readers = { groups: [A, B], channels: [OTHER_DM] };
    for (const topK of [1, 5, 40]) {
      const mine = await store.query(vector('dm2'), participant, topK);
      assert.equal(mine[0]?.id, `${DM}:dm2`, `top ${topK}`);
      assert.ok(mine.every((h) => h.metadata.channel_id === DM || h.metadata.group_id === A));
      assert.deepEqual(mine.map((h) => h.id), await filtered(vector('dm2'), participant, topK));
      const theirs = await store.query(vector('dm2'), nonParticipant, topK);
      assert.equal(theirs.length, topK);
      assert.ok(theirs.every((h) => h.metadata.channel_id !== DM), `top ${topK}: nothing of the DM`);
      assert.deepEqual(theirs.map((h) => h.id), await filtered(vector('dm2'), nonParticipant, topK));
    }
  });

  it("a DM's chunks (group_id '') are not read by naming an empty group", async () => {
    assert.deepEqual(await store.query(vector('dm2'), { groups: [''], channels: [] }, 5), []);
    assert.deepEqual(await store.query(vector('dm2'), { groups: [], channels: [] }, 5), []);
  });
});
