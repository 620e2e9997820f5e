import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as Y from 'yjs';
import { setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { connect, goOffline, goOnline, waitFor, type Client } from './clients.ts';

let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer();
  team = await setUpTeam(server, ['TEXT', 'DOC', 'VOICE']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(name: string, token: string | (() => Promise<string>)): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

describe('collaboration', () => {
  it('three clients co-editing one document converge', async () => {
    const name = team.channels.DOC!;
    const [a, b, c] = await Promise.all([
      client(name, team.owner.token), client(name, team.member.token), client(name, team.owner.token),
    ]);
    a.doc.getText('t').insert(0, 'alpha ');
    b.doc.getText('t').insert(0, 'beta ');
    c.doc.getText('t').insert(0, 'gamma ');
    await waitFor(
      () => [a, b, c].every((x) => x.doc.getText('t').length === 'alpha beta gamma '.length),
      'convergence',
    );
    const texts = [a, b, c].map((x) => x.doc.getText('t').toString());
    assert.equal(new Set(texts).size, 1);
    for (const word of ['alpha', 'beta', 'gamma']) assert.ok(texts[0]!.includes(word));
  });

  it('refuses missing and bad tokens, outsiders, DM outsiders, unknown channels and voice channels', async () => {
    const dm = await server.call('POST', '/api/dms', { token: team.owner.token, json: { user_id: team.member.id } });
    const cases: [string, string, string, string][] = [
      ['no token', team.channels.TEXT!, '', 'unauthorized'],
      ['garbage token', team.channels.TEXT!, 'not-a-token', 'invalid_token'],
      ['outsider', team.channels.TEXT!, team.outsider.token, 'not-found'],
      ['DM outsider, though in the group', dm.body.id, team.viewer.token, 'not-found'],
      ['unknown channel', '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b', team.owner.token, 'not-found'],
      ['not a uuid', 'general', team.owner.token, 'not-found'],
      ['voice', team.channels.VOICE!, team.owner.token, 'voice channels have no document'],
    ];
    for (const [why, name, token, reason] of cases) {
      const c = await connect(server, name, token, { expectRefusal: true });
      open.push(c);
      assert.equal(await c.refusal, reason, why);
      assert.equal(c.provider.isSynced, false, why);
    }
    const participant = await client(dm.body.id, team.member.token);
    assert.ok(participant.provider.isSynced, 'a DM participant gets in');
  });

  it('viewers read but cannot change anything', async () => {
    const name = team.channels.TEXT!;
    const writer = await client(name, team.member.token);
    writer.doc.getText('t').insert(0, 'from member');
    await writer.saved();
    const viewer = await client(name, team.viewer.token);
    await waitFor(() => viewer.doc.getText('t').toString() === 'from member', 'viewer sees content');
    viewer.doc.getText('t').insert(0, 'VIEWER WAS HERE ');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(writer.doc.getText('t').toString(), 'from member');
    const fresh = await client(name, team.owner.token);
    assert.equal(fresh.doc.getText('t').toString(), 'from member');
    assert.ok(viewer.provider.unsyncedChanges > 0, 'the viewer’s change was never acknowledged');
  });

  it('a client that edits while disconnected merges on reconnect', async () => {
    const name = team.channels.TEXT!;
    const a = await client(name, team.owner.token);
    const b = await client(name, team.member.token);
    await waitFor(() => a.doc.getText('t').toString() === b.doc.getText('t').toString(), 'initial sync');
    await goOffline(b);
    b.doc.getText('offline').insert(0, 'written offline');
    a.doc.getText('online').insert(0, 'written online');
    await a.saved();
    await goOnline(b);
    await waitFor(() => a.doc.getText('offline').toString() === 'written offline', 'offline edit reaches a');
    await waitFor(() => b.doc.getText('online').toString() === 'written online', 'online edit reaches b');
  });

  it('keeps every acknowledged edit across a restart, stored encrypted', async () => {
    const name = team.channels.DOC!;
    const a = await client(name, team.owner.token);
    a.doc.getText('secret').insert(0, 'the launch code is swordfish');
    await a.saved();
    a.close();
    const { rows } = await server.database.pool.query(
      `SELECT payload FROM document_updates WHERE document_name = $1
       UNION ALL SELECT payload FROM document_snapshots WHERE document_name = $1`,
      [name],
    );
    assert.ok(rows.length > 0);
    for (const row of rows) assert.equal(Buffer.from(row.payload).includes('swordfish'), false, 'stored as plaintext');
    server = await server.restart();
    const b = await client(name, team.member.token);
    assert.equal(b.doc.getText('secret').toString(), 'the launch code is swordfish');
  });
});
