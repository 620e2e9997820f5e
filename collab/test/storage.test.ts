// The update log is compacted into the snapshot (deleted content leaves storage), and documents nobody has open
// are unloaded from memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDocumentStore, keyringFromBase64 } from '../index.ts';
import { eventually, setUpTeam, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { connect, pageText, paragraphText, refusalsOf, writeParagraph, writeValid, type Client } from './clients.ts';

let server: TestServer;
const open: Client[] = [];
before(async () => {
  server = await startTestServer({ COLLAB_COMPACT_AFTER: '5' });
});
// Clients left open by a failed assertion would keep reconnecting, and the test process would never end.
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(name: string, token: string): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

const count = async (table: string, name: string) =>
  (await server.database.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE document_name = $1`, [name]))
    .rows[0].n as number;

describe('document storage', () => {
  it('compacts the log into the snapshot, dropping deleted content, and unloads idle documents', async () => {
    const team = await setUpTeam(server, ['DOC']);
    const name = team.channels.DOC!;
    const c = await client(name, team.member.token);
    const notices = refusalsOf(c);
    for (let i = 0; i < 12; i++) {
      writeParagraph(c.doc, `${i} `, 0);
      await c.saved();
    }
    const text = paragraphText(c.doc, 0);
    text.insert(0, 'TEMPORARY-SECRET ');
    await c.saved();
    text.delete(0, 'TEMPORARY-SECRET '.length);
    await c.saved();
    assert.deepEqual(notices, [], 'nothing refused');
    const expected = pageText(c.doc);
    assert.ok((await count('document_updates', name)) >= 14, 'each acknowledged update is in the log');
    c.close();
    await eventually(async () => assert.equal(server.collab.hocuspocus.documents.has(name), false, 'unloaded'));
    await eventually(async () => assert.equal(await count('document_updates', name), 0, 'log folded'));
    assert.equal(await count('document_snapshots', name), 1);
    const key = readFileSync(path.join(server.dataDir, 'encryption-key'), 'utf8').trim();
    const stored = await createDocumentStore(server.database.pool, keyringFromBase64(key)).load(name);
    assert.equal(stored.parts.length, 1, 'one snapshot, no log');
    assert.equal(Buffer.from(stored.parts[0]!).includes('TEMPORARY-SECRET'), false, 'deleted text left storage');
    const again = await client(name, team.owner.token);
    assert.equal(pageText(again.doc), expected);
    again.close();
  });

  it('a document unloading with a large log is compacted, whatever the thresholds; a small log is left', async () => {
    const team = await setUpTeam(server, ['DOC', 'TODO']);
    const [big, small] = [team.channels.DOC!, team.channels.TODO!];
    const c = await client(big, team.member.token);
    // Two updates (below COLLAB_COMPACT_AFTER's 5, and the default megabyte) of 40 kB each.
    for (let i = 0; i < 2; i++) {
      writeParagraph(c.doc, 'x'.repeat(40_000));
      await c.saved();
    }
    const control = await client(small, team.member.token);
    writeValid(control.doc, 'TODO', team.member.id, 'a small change');
    await control.saved();
    c.close();
    control.close();
    await eventually(async () => assert.equal(server.collab.hocuspocus.documents.size, 0, 'unloaded'));
    await eventually(async () => assert.equal(await count('document_updates', big), 0, 'large log folded'));
    assert.equal(await count('document_snapshots', big), 1);
    assert.ok((await count('document_updates', small)) > 0, 'positive control: a small log stays until its thresholds');
    assert.equal(await count('document_snapshots', small), 0);
  });

  it('memory returns: documents opened and closed do not stay loaded', async () => {
    const team = await setUpTeam(server, ['DOC', 'TEXT', 'TODO', 'KANBAN']);
    for (let round = 0; round < 5; round++) {
      for (const [type, name] of Object.entries(team.channels)) {
        const c = await client(name, team.member.token);
        const notices = refusalsOf(c);
        writeValid(c.doc, type, team.member.id, 'x');
        await c.saved();
        assert.deepEqual(notices, [], `nothing refused in ${type}`);
        c.close();
      }
    }
    await eventually(async () => assert.equal(server.collab.hocuspocus.documents.size, 0));
    const metrics = await server.call('GET', '/metrics');
    assert.match(metrics.body, /collab_documents_loaded 0/);
    assert.match(metrics.body, /collab_connections 0/);
  });

  it('an update whose append fails is stored once the database takes it again, and acknowledged only then', async () => {
    const team = await setUpTeam(server, ['DOC']);
    const name = team.channels.DOC!;
    const writer = await client(name, team.member.token);
    const notices = refusalsOf(writer);
    const pool = server.database.pool;
    // The table vanishing makes every INSERT fail, as a database outage would.
    await pool.query('ALTER TABLE document_updates RENAME TO document_updates_away');
    try {
      writeParagraph(writer.doc, 'kept through a storage hiccup');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.ok(writer.provider.unsyncedChanges > 0, 'not acknowledged while it is not stored');
    } finally {
      await pool.query('ALTER TABLE document_updates_away RENAME TO document_updates');
    }
    await writer.saved(15_000);
    assert.deepEqual(notices, [], 'nothing refused');
    writer.close();
    server = await server.restart({ COLLAB_COMPACT_AFTER: '5' });
    const reader = await client(name, team.member.token);
    assert.equal(pageText(reader.doc), 'kept through a storage hiccup');
    reader.close();
  });
});
