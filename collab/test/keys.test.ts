// Encryption keys: old keys stay readable, rotation moves everything to the current key, and a document whose
// key is missing is refused with a clear reason, never served empty or overwritten.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDocumentStore, keyIdOf, keyringFromBase64 } from '../index.ts';
import { setUpTeam, startTestServer, type TestServer } from '../../server/test/harness.ts';
import { connect, pageText, refusalsOf, writeParagraph } from './clients.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function keyIds(name: string): Promise<string[]> {
  const { rows } = await server.database.pool.query(
    `SELECT key_id FROM document_updates WHERE document_name = $1
     UNION SELECT key_id FROM document_snapshots WHERE document_name = $1`,
    [name],
  );
  return rows.map((r) => r.key_id).sort();
}

async function read(name: string, token: string): Promise<string> {
  const c = await connect(server, name, token);
  const text = pageText(c.doc);
  c.close();
  return text;
}

describe('encryption keys', () => {
  it('reads under old keys, rotates to the new key, and refuses a document it cannot decrypt', async () => {
    const team = await setUpTeam(server, ['DOC']);
    const name = team.channels.DOC!;
    const keyA = readFileSync(path.join(server.dataDir, 'encryption-key'), 'utf8').trim();
    const keyB = randomBytes(32).toString('base64');
    const keyC = randomBytes(32).toString('base64');
    const writer = await connect(server, name, team.member.token);
    const notices = refusalsOf(writer);
    writeParagraph(writer.doc, 'under key A');
    await writer.saved();
    assert.deepEqual(notices, [], 'nothing refused');
    writer.close();

    server = await server.restart({ ENCRYPTION_KEY: keyB, ENCRYPTION_OLD_KEYS: keyA });
    assert.equal(await read(name, team.member.token), 'under key A', 'old key still readable');
    const moved = await createDocumentStore(server.database.pool, keyringFromBase64(keyB, [keyA])).rotateKeys();
    assert.ok(moved.updates + moved.snapshots > 0);
    assert.deepEqual(await keyIds(name), [keyIdOf(Buffer.from(keyB, 'base64'))]);

    server = await server.restart({ ENCRYPTION_KEY: keyC, ENCRYPTION_OLD_KEYS: '' });
    const refused = await connect(server, name, team.member.token, { expectRefusal: true });
    assert.equal(await refused.refusal, 'document storage unavailable');
    refused.close();
    const rest = await server.call('GET', `/api/channels/${name}/document`, { token: team.member.token });
    assert.equal(rest.status, 503, 'REST refuses it too, clearly');
    assert.deepEqual(await keyIds(name), [keyIdOf(Buffer.from(keyB, 'base64'))], 'nothing was written over it');

    server = await server.restart({ ENCRYPTION_KEY: keyB, ENCRYPTION_OLD_KEYS: '' });
    assert.equal(await read(name, team.member.token), 'under key A', 'readable under the rotated key alone');
  });
});
