// Retention deletes old chat messages and compacts, so their text is gone from the stored bytes, not only hidden.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as Y from 'yjs';
import { chat, createKeyring, segmentName } from '../index.ts';
import { eventually, setUpTeam, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { connect } from './clients.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({
    DATA_RETENTION_DAYS: '30', RETENTION_INTERVAL_SECONDS: '1', RETENTION_BATCH: '2',
    COLLAB_CHAT_LIVE_MESSAGES: '6', COLLAB_CHAT_SEGMENT_MESSAGES: '4',
  });
});
after(() => server.close());

/** Every stored byte of a document, decrypted and merged into one Y.Doc update, plus the raw rows. */
async function storedBytes(name: string): Promise<{ plain: Buffer; rows: number }> {
  const key = readFileSync(path.join(server.dataDir, 'encryption-key'), 'utf8').trim();
  const keyring = createKeyring(Buffer.from(key, 'base64'));
  const { rows } = await server.database.pool.query(
    `SELECT key_id, payload FROM document_snapshots WHERE document_name = $1
     UNION ALL SELECT key_id, payload FROM document_updates WHERE document_name = $1`,
    [name],
  );
  const plain = rows.map((r) => Buffer.from(keyring.open({ keyId: r.key_id, payload: r.payload }, name)));
  return { plain: Buffer.concat(plain), rows: rows.length };
}

describe('retention', () => {
  it('removes expired messages from the document and from storage', async () => {
    const team = await setUpTeam(server, ['TEXT']);
    const name = team.channels.TEXT!;
    const c = await connect(server, name, team.member.token);
    const old = new Date(Date.now() - 40 * 86_400_000);
    for (let i = 0; i < 5; i++) chat.writeMessage(c.doc, { author_id: team.member.id, text: `ancient secret ${i}`, created_at: old });
    chat.writeMessage(c.doc, { author_id: team.member.id, text: 'fresh news' });
    await c.saved();
    // A client's own date does not expire a message (the server received it just now); backdate the server's
    // `received_at` as if it had arrived 40 days ago.
    await server.collab.change(name, (doc) => {
      for (const entry of doc.getArray<Y.Map<unknown>>('messages')) {
        if (String(entry.get('text')).startsWith('ancient')) entry.set('received_at', old.toISOString());
      }
    });
    assert.ok((await storedBytes(name)).plain.includes('ancient secret 0'), 'stored before retention');
    await eventually(async () => {
      assert.deepEqual(chat.readMessages(c.doc).map((m) => m.text), ['fresh news']);
    }, 10_000);
    const after = await eventually(async () => {
      const stored = await storedBytes(name);
      assert.equal(stored.plain.includes('ancient secret'), false, 'deleted text left in storage');
      return stored;
    }, 10_000);
    assert.ok(after.plain.includes('fresh news'), 'kept messages are still stored');
    c.close();
    const check = new Y.Doc();
    const reader = await connect(server, name, team.owner.token, { doc: check });
    assert.deepEqual(chat.readMessages(check).map((m) => m.text), ['fresh news']);
    reader.close();
    const metrics = await server.call('GET', '/metrics');
    assert.match(metrics.body, /retention_messages_deleted_total [1-9]/);
  });

  it('drops history segments that expired whole and trims the one that straddles the cutoff', async () => {
    const team = await setUpTeam(server, ['TEXT']);
    const name = team.channels.TEXT!;
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await server.collab.change(name, (doc) => {
      for (let i = 0; i < 6; i++) chat.postMessage(doc, { author_id: team.member.id, text: `ancient secret ${i}` });
      for (let i = 0; i < 6; i++) chat.postMessage(doc, { author_id: team.member.id, text: `recent ${i}` });
      for (const entry of doc.getArray<Y.Map<unknown>>('messages')) {
        if (String(entry.get('text')).startsWith('ancient')) entry.set('received_at', old);
      }
    });
    // As old as its oldest message, which the first generation of its live part is known to hold by.
    await server.database.pool.query('UPDATE channels SET created_at = $2 WHERE id = $1', [name, old]);
    const rolled = await server.collab.history.rollOver(name);
    // 12 messages, 3 stay live, whole segments of 4: [ancient 0-3] and [ancient 4-5, recent 0-1] are sealed.
    assert.deepEqual({ sealed: rolled?.sealed, segments: rolled?.segments.length }, { sealed: 8, segments: 2 });
    assert.ok((await storedBytes(segmentName(name, 0))).plain.includes('ancient secret 0'), 'sealed before retention');

    const segments = await eventually(async () => {
      const { rows } = await server.database.pool.query(
        'SELECT part, message_count FROM chat_segments WHERE channel_id = $1 ORDER BY part', [name],
      );
      assert.deepEqual(rows, [{ part: 1, message_count: 2 }], 'the expired segment dropped, the straddling one trimmed');
      return rows;
    }, 10_000);
    assert.equal(segments.length, 1);
    assert.equal((await storedBytes(segmentName(name, 0))).rows, 0, 'the dropped segment has no rows left');
    const straddling = await eventually(async () => {
      const stored = await storedBytes(segmentName(name, 1));
      assert.equal(stored.plain.includes('ancient secret'), false, 'deleted text left in storage');
      return stored;
    }, 10_000);
    assert.ok(straddling.plain.includes('recent 0'));
    const { rows: indexed } = await server.database.pool.query(
      'SELECT count(*)::int AS n FROM chat_messages WHERE channel_id = $1', [name],
    );
    assert.equal(indexed[0].n, 2, 'the index holds only what is left');
    const page = await server.call('GET', `/api/channels/${name}/messages`, { token: team.member.token });
    assert.deepEqual(page.body.messages.map((m: { text: string }) => m.text), [0, 1, 2, 3, 4, 5].map((i) => `recent ${i}`));
    await eventually(async () => {
      assert.equal((await storedBytes(name)).rows, 0, 'the rolled-over generation, which held expired text, is gone too');
    }, 10_000);
    const reopen = await connect(server, segmentName(name, 0), team.member.token, { expectRefusal: true });
    assert.equal(await reopen.refusal, 'not-found');
    reopen.close();
  });
});
