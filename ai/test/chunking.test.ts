// Chunking and collection naming: pure functions, no services.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkId, chunkPieces, MAX_WORDS, type Piece } from '../chunking.ts';
import { collectionNameFor } from '../vector-store.ts';

const message = (i: number, words = 40): Piece => ({
  text: `user${i}: ${Array.from({ length: words }, (_, w) => `w${i}x${w}`).join(' ')}`,
  source: 'message',
  itemIds: [`m${i}`],
});
const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('chunking', () => {
  it('keeps every chunk within the model length bound, overlapping neighbours by one piece', () => {
    const chunks = chunkPieces(Array.from({ length: 20 }, (_, i) => message(i)));
    assert.ok(chunks.length > 5);
    for (const c of chunks) assert.ok(wordCount(c.text) <= MAX_WORDS, `${wordCount(c.text)} words`);
    for (let i = 1; i < chunks.length; i++) {
      assert.equal(chunks[i]!.itemIds[0], chunks[i - 1]!.itemIds.at(-1), 'a chunk starts with the last piece of the one before');
    }
    const covered = new Set(chunks.flatMap((c) => c.itemIds));
    assert.equal(covered.size, 20, 'no piece is lost');
  });

  it('splits one over-long piece into overlapping windows', () => {
    const chunks = chunkPieces([message(1, 400)]);
    assert.ok(chunks.length >= 3);
    for (const c of chunks) assert.ok(wordCount(c.text) <= MAX_WORDS);
    assert.ok(chunks.every((c) => c.itemIds[0] === 'm1'));
  });

  it('never mixes pages of a file in one chunk', () => {
    const pages = [1, 1, 2].map((page, i) => ({ text: `para ${i}`, source: 'file' as const, itemIds: ['f'], page }));
    assert.deepEqual(chunkPieces(pages).map((c) => c.page), [1, 2]);
  });

  it('gives the same text from the same place the same id, and anything else another', () => {
    const [chunk] = chunkPieces([message(1)]);
    assert.equal(chunkId('channel-a', chunk!), chunkId('channel-a', { ...chunk! }));
    assert.notEqual(chunkId('channel-a', chunk!), chunkId('channel-b', chunk!));
    assert.notEqual(chunkId('channel-a', chunk!), chunkId('channel-a', { ...chunk!, text: `${chunk!.text}!` }));
  });

  it('names the collection by model and dimension, so a new model indexes afresh', () => {
    const name = collectionNameFor('Xenova/all-MiniLM-L6-v2', 384);
    assert.equal(name, 'chunks_xenova-all-minilm-l6-v2_384');
    assert.notEqual(name, collectionNameFor('Xenova/bge-small-en-v1.5', 384));
    assert.notEqual(name, collectionNameFor('Xenova/all-MiniLM-L6-v2', 768));
    const long = 'org/' + 'a'.repeat(200);
    assert.match(collectionNameFor(long, 384), /^[a-z0-9_-]{3,63}$/);
    assert.notEqual(collectionNameFor(long, 384), collectionNameFor(long, 768));
    assert.notEqual(collectionNameFor(long, 384), collectionNameFor(`${long}b`, 384));
  });
});
