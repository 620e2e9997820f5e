import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { chat } from '../shapes/index.ts';
import {
  connect, goOffline, goOnline, pageText, paragraphs, paragraphText, refusalsOf, waitFor, writeParagraph, type Client,
} from './clients.ts';

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
    const notices = [a, b, c].map(refusalsOf);
    // One paragraph they all edit at once, at the same place.
    writeParagraph(a.doc, '');
    await waitFor(() => [a, b, c].every((x) => x.doc.getXmlFragment('default').length === 1), 'the paragraph');
    paragraphText(a.doc, 0).insert(0, 'alpha ');
    paragraphText(b.doc, 0).insert(0, 'beta ');
    paragraphText(c.doc, 0).insert(0, 'gamma ');
    await waitFor(
      () => [a, b, c].every((x) => pageText(x.doc).length === 'alpha beta gamma '.length),
      'convergence',
    );
    const pages = [a, b, c].map((x) => x.doc.getXmlFragment('default').toJSON());
    assert.equal(new Set(pages).size, 1);
    for (const word of ['alpha', 'beta', 'gamma']) assert.ok(pageText(a.doc).includes(word));
    assert.deepEqual(notices.flat(), [], 'nothing refused');
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
    const texts = (c: Client) => chat.readMessages(c.doc).map((m) => m.text);
    const writer = await client(name, team.member.token);
    chat.writeMessage(writer.doc, { author_id: team.member.id, text: 'from member' });
    await writer.saved();
    const viewer = await client(name, team.viewer.token);
    await waitFor(() => isDeepStrictEqual(texts(viewer), ['from member']), 'viewer sees content');
    // A message that would be valid from a member: only the viewer's role keeps it out.
    chat.writeMessage(viewer.doc, { author_id: team.viewer.id, text: 'VIEWER WAS HERE' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(texts(writer), ['from member']);
    const fresh = await client(name, team.owner.token);
    assert.deepEqual(texts(fresh), ['from member']);
    assert.ok(viewer.provider.unsyncedChanges > 0, 'the viewer’s change was never acknowledged');
  });

  it('a client that edits while disconnected merges on reconnect', async () => {
    const name = team.channels.TEXT!;
    const a = await client(name, team.owner.token);
    const b = await client(name, team.member.token);
    const has = (c: Client, text: string) => chat.readMessages(c.doc).some((m) => m.text === text);
    const messages = (c: Client) => c.doc.getArray('messages').toJSON();
    await waitFor(() => isDeepStrictEqual(messages(a), messages(b)), 'initial sync');
    await goOffline(b);
    chat.writeMessage(b.doc, { author_id: team.member.id, text: 'written offline' });
    chat.writeMessage(a.doc, { author_id: team.owner.id, text: 'written online' });
    await a.saved();
    await goOnline(b);
    await waitFor(() => has(a, 'written offline'), 'offline edit reaches a');
    await waitFor(() => has(b, 'written online'), 'online edit reaches b');
  });

  it('keeps every acknowledged edit across a restart, stored encrypted', async () => {
    const name = team.channels.DOC!;
    const a = await client(name, team.owner.token);
    writeParagraph(a.doc, 'the launch code is swordfish');
    await a.saved();
    const page = paragraphs(a.doc);
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
    assert.equal(paragraphs(b.doc).at(-1), 'the launch code is swordfish');
    assert.deepEqual(paragraphs(b.doc), page);
  });
});
