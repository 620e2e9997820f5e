// Chat history in parts: a chat's live part and each sealed segment (`<channel id>/history/<n>`) are indexed as
// sources of their own, with the channel's permissions; a dropped segment leaves Chroma. The segments are written
// here as the history code stores them: Y.Docs under their names in document storage, plus `chat_segments` rows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as Y from 'yjs';
import { chat, createDocumentStore, keyringFromBase64, segmentName, type DocumentStore } from '../../collab/index.ts';
import { connect } from '../../collab/test/clients.ts';
import { eventually, setUpTeam, type Team, type TestServer } from '../../server/test/harness.ts';
import { startAiTestServer, type AiTestServer } from './ai-server.ts';

let ai: AiTestServer;
let server: TestServer;
let store: DocumentStore;
let team: Team;
let other: Team;

before(async () => {
  ai = await startAiTestServer();
  server = ai.server;
  store = createDocumentStore(server.database.storage, keyringFromBase64(readFileSync(path.join(server.dataDir, 'encryption-key'), 'utf8').trim()));
  team = await setUpTeam(server, ['TEXT']);
  other = await setUpTeam(server, []);
});
after(() => ai.close());

/** Stores a chat document under `name` holding `texts`, as one update. */
async function storeChat(name: string, texts: string[]): Promise<void> {
  const doc = new Y.Doc();
  for (const text of texts) chat.postMessage(doc, { author_id: team.member.id, text });
  await store.append(name, Y.encodeStateAsUpdate(doc), { userId: team.member.id, inserted: [], deleted: [], newClients: [] });
  doc.destroy();
}

async function seal(part: number, texts: string[]): Promise<string> {
  const name = segmentName(team.channels.TEXT!, part);
  await storeChat(name, texts);
  await server.database.pool.query(
    `INSERT INTO chat_segments (channel_id, part, document_name, message_count, first_received_at, last_received_at)
     VALUES ($1, $2, $3, $4, now(), now())`,
    [team.channels.TEXT, part, name, texts.length],
  );
  return name;
}

async function search(token: string, query: string) {
  const res = await server.call('POST', '/api/ai/search', { token, json: { query, top_k: 20 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.sources as { channel_id: string; text: string }[];
}
const texts = (sources: { text: string }[]) => sources.map((s) => s.text).join('\n');

describe('chat history segments in the index', () => {
  let first: string;
  let second: string;

  it('indexes the live part and each segment as its own source, under the channel', async () => {
    const live = await connect(server, team.channels.TEXT!, team.member.token);
    chat.writeMessage(live.doc, { author_id: team.member.id, text: 'Live part: the standup moves to nine' });
    await live.saved();
    live.close();
    first = await seal(0, ['Oldest history: the office cat is called pebble']);
    second = await seal(1, ['Newer history: the budget review is on thursday']);
    const indexer = server.ai.indexer!;
    assert.equal((await indexer.indexDocument(team.channels.TEXT!)).chunks, 1, 'the live part alone');
    assert.deepEqual(await indexer.indexDocument(first), { chunks: 1, embedded: 1, deleted: 0 });
    assert.deepEqual(await indexer.indexDocument(second), { chunks: 1, embedded: 1, deleted: 0 });
    // The live part again: the segments' chunks are not its own, so nothing of theirs is deleted.
    assert.deepEqual(await indexer.indexDocument(team.channels.TEXT!), { chunks: 1, embedded: 0, deleted: 0 });
    const found = texts(await search(team.member.token, 'office cat pebble budget review standup'));
    for (const text of ['pebble', 'thursday', 'standup']) assert.match(found, new RegExp(text));
    // The channel's permissions: another group's member finds none of it.
    assert.doesNotMatch(texts(await search(other.member.token, 'office cat pebble budget review standup')), /pebble|thursday|standup/);
  });

  it('re-indexes only the segment that was stored again', async () => {
    await storeChat(second, ['Edited history: the budget review moved to friday']);
    // The stored hook's path: the queue, by the segment's name (queued without waiting, so drained until seen).
    server.ai.documentStored(second);
    await eventually(async () => {
      await server.ai.drain();
      assert.match(texts(await search(team.member.token, 'budget review friday')), /moved to friday/);
    }, 15_000);
    const again = await server.ai.indexer!.indexDocument(second);
    assert.deepEqual({ embedded: again.embedded, deleted: again.deleted }, { embedded: 0, deleted: 0 }, 'already in step');
    assert.deepEqual(await server.ai.indexer!.indexDocument(first), { chunks: 1, embedded: 0, deleted: 0 }, 'the other part untouched');
  });

  it('forgets a dropped segment, and the sweep drops the chunks of parts that are gone', async () => {
    await server.database.pool.query('DELETE FROM chat_segments WHERE channel_id = $1 AND part = 0', [team.channels.TEXT]);
    await server.ai.forgetDocument(first);
    await server.ai.drain();
    const found = texts(await search(team.member.token, 'office cat pebble budget review standup'));
    assert.doesNotMatch(found, /pebble/, 'the dropped segment is gone');
    assert.match(found, /thursday/, 'the other segment stays');
    assert.match(found, /standup/, 'and the live part');

    // Dropped without a word to the AI: the sweep finds its chunks and removes them.
    await server.database.pool.query('DELETE FROM chat_segments WHERE channel_id = $1 AND part = 1', [team.channels.TEXT]);
    assert.match(texts(await search(team.member.token, 'budget review thursday')), /thursday/, 'still there before the sweep');
    const swept = await server.ai.sweep();
    assert.ok(swept.dropped >= 1, JSON.stringify(swept));
    await server.ai.drain();
    const after = texts(await search(team.member.token, 'office cat pebble budget review standup'));
    assert.doesNotMatch(after, /thursday|friday/);
    assert.match(after, /standup/, 'the live part stays');
  });
});
