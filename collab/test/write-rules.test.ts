// The write rules through the real server: official providers, hostile members, offline batches.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import * as Y from 'yjs';
import { setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { chat } from '../shapes/index.ts';
import { connect, goOffline, goOnline, pageText, refusalsOf, waitFor, writeParagraph, type Client } from './clients.ts';

let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer();
  team = await setUpTeam(server, ['TEXT', 'DOC', 'TODO']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(name: string, token: string, doc?: Y.Doc): Promise<Client> {
  const c = await connect(server, name, token, { doc });
  open.push(c);
  return c;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('write rules over /collab', () => {
  it('a forged author is never relayed, stored or served, and its writer is told why and converges', async () => {
    const name = team.channels.TEXT!;
    const owner = await client(name, team.owner.token);
    const mallory = await client(name, team.member.token);
    const notices = refusalsOf(mallory);
    chat.writeMessage(mallory.doc, { author_id: team.owner.id, text: 'FORGED: give mallory admin' });
    await waitFor(() => notices.length > 0, 'the refusal notice');
    assert.deepEqual(notices.map((n) => n.rule), ['chat.author']);
    assert.match(notices[0]!.reason, /as yourself/);
    chat.writeMessage(mallory.doc, { author_id: team.member.id, text: 'a genuine one' });
    await mallory.saved();
    await waitFor(() => chat.readMessages(owner.doc).length === 1, 'the genuine message reaches the owner');
    assert.deepEqual(chat.readMessages(mallory.doc), chat.readMessages(owner.doc), 'the writer converged');
    const rest = await server.call('GET', `/api/channels/${name}/messages`, { token: team.owner.token });
    assert.deepEqual(rest.body.messages.map((m: { text: string }) => m.text), ['a genuine one']);
    assert.ok(rest.body.messages[0].received_at, 'the server recorded when it received it');
    const fresh = await client(name, team.owner.token);
    assert.equal(JSON.stringify(fresh.doc.getArray('messages').toJSON()).includes('FORGED'), false);
  });

  it('an offline batch of 20 valid edits and 1 forbidden change: the 20 are stored and seen, the documents end equal', async () => {
    const name = team.channels.TEXT!;
    const owner = await client(name, team.owner.token);
    chat.writeMessage(owner.doc, { author_id: team.owner.id, text: 'the owner speaks' });
    await owner.saved();
    const member = await client(name, team.member.token);
    await waitFor(() => chat.readMessages(member.doc).some((m) => m.text === 'the owner speaks'), 'sync');
    await goOffline(member);
    for (let i = 0; i < 20; i++) chat.writeMessage(member.doc, { author_id: team.member.id, text: `offline ${i}` });
    const target = chat.readMessages(member.doc).find((m) => m.text === 'the owner speaks')!;
    chat.editMessage(member.doc, target.id, 'the owner was hacked');
    const notices = refusalsOf(member);
    await goOnline(member);
    await member.saved(10_000);
    await waitFor(() => notices.length > 0, 'the refusal notice');
    const expected = Array.from({ length: 20 }, (_, i) => `offline ${i}`);
    await waitFor(() => chat.readMessages(owner.doc).filter((m) => m.text.startsWith('offline')).length === 20, 'the 20 reach the owner');
    assert.equal(chat.readMessageById(owner.doc, target.id)!.text, 'the owner speaks');
    await waitFor(() => isDeepStrictEqual(member.doc.getArray('messages').toJSON(), owner.doc.getArray('messages').toJSON()), 'the member converged');
    // It stays converged: reconnecting resends nothing refused, and no refusal comes again.
    const before = notices.length;
    await goOffline(member);
    await goOnline(member);
    await pause(300);
    assert.equal(notices.length, before, 'no reconnect loop');
    assert.equal(member.provider.unsyncedChanges, 0);
    server = await server.restart();
    const fresh = await client(name, team.viewer.token);
    const stored = chat.readMessages(fresh.doc);
    assert.deepEqual(stored.filter((m) => m.text.startsWith('offline')).map((m) => m.text), expected);
    assert.equal(stored.find((m) => m.id === target.id)!.text, 'the owner speaks');
  });

  it('records who wrote each update and when, whatever the document claims', async () => {
    const name = team.channels.DOC!;
    const member = await client(name, team.member.token);
    const started = Date.now();
    writeParagraph(member.doc, 'written by the member');
    member.doc.getMap('meta').set('last_edited_by', team.owner.id);
    await member.saved();
    await waitFor(() => member.doc.getMap('meta').get('last_edited_by') === team.member.id, 'the server names the writer');
    const { rows } = await server.database.pool.query(
      'SELECT user_id, written_at, inserted FROM document_writes WHERE document_name = $1 ORDER BY id',
      [name],
    );
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.user_id === team.member.id));
    assert.ok(rows.every((r) => r.written_at.getTime() >= started - 1000));
    const owners = await server.database.pool.query(
      'SELECT user_id FROM document_clients WHERE document_name = $1 AND client_id = $2',
      [name, member.doc.clientID],
    );
    assert.equal(owners.rows[0]?.user_id, team.member.id, "the member's Yjs client id is theirs");
  });

  it("refuses writing with another member's Yjs client id", async () => {
    const name = team.channels.DOC!;
    const victim = await client(name, team.owner.token);
    const mine = writeParagraph(victim.doc, 'victim ');
    await victim.saved();
    const thief = await client(name, team.member.token);
    const notices = refusalsOf(thief);
    // After syncing, so its writes continue the victim's clock, as a hostile client would craft them.
    thief.doc.clientID = victim.doc.clientID;
    writeParagraph(thief.doc, 'stolen identity');
    await waitFor(() => notices.some((n) => n.rule === 'client.id'), 'the refusal');
    // Left out, but the thief's own client id still writes (here at the top, which does not build on the
    // refused paragraph): only the stolen part is refused.
    thief.doc.clientID = Math.floor(Math.random() * 2 ** 31);
    const own = new Y.XmlElement('paragraph');
    own.insert(0, [new Y.XmlText('under my own id')]);
    thief.doc.getXmlFragment('default').insert(0, [own]);
    mine.insert(mine.length, 'still mine');
    await victim.saved();
    const fresh = await client(name, team.viewer.token);
    await waitFor(() => pageText(fresh.doc).includes('victim still mine'), "the victim's later edit");
    await waitFor(() => pageText(fresh.doc).includes('under my own id'), "the thief's own edit");
    assert.equal(pageText(fresh.doc).includes('stolen'), false);
  });

  it("content relayed in a sync reply does not take its writer's client id (a lost update another member holds)", async () => {
    const name = team.channels.DOC!;
    // The owner's edit reached the member, but not the server's storage (as when an instance dies after relaying).
    const ownerDoc = new Y.Doc();
    const text = writeParagraph(ownerDoc, 'relayed ');
    const memberDoc = new Y.Doc();
    Y.applyUpdate(memberDoc, Y.encodeStateAsUpdate(ownerDoc));
    const member = await client(name, team.member.token, memberDoc);
    await member.saved();
    const owner = await client(name, team.owner.token, ownerDoc);
    const notices = refusalsOf(owner);
    text.insert(text.length, 'and then live');
    await owner.saved();
    const fresh = await client(name, team.viewer.token);
    await waitFor(() => pageText(fresh.doc).includes('relayed and then live'), "the owner's live edit");
    assert.deepEqual(notices, [], "the owner's own client id is still the owner's");
    const { rows } = await server.database.pool.query(
      'SELECT user_id FROM document_clients WHERE document_name = $1 AND client_id = $2',
      [name, ownerDoc.clientID],
    );
    assert.equal(rows[0]?.user_id, team.owner.id);
  });

  it('tasks written over /collab are held to the REST definition; REST still answers for the valid ones', async () => {
    const name = team.channels.TODO!;
    const member = await client(name, team.member.token);
    const notices = refusalsOf(member);
    const tasks = member.doc.getMap<Y.Map<unknown>>('tasks');
    const good = new Y.Map<unknown>();
    for (const [k, v] of Object.entries({ content: 'valid', is_completed: false, assignee_id: team.owner.id, order: 'a0' })) good.set(k, v);
    const outsider = new Y.Map<unknown>();
    for (const [k, v] of Object.entries({ content: 'x', is_completed: false, assignee_id: team.outsider.id, order: 'a1' })) outsider.set(k, v);
    const id = crypto.randomUUID();
    tasks.set(id, good);
    tasks.set(crypto.randomUUID(), outsider);
    tasks.set('../../etc', new Y.Map());
    await waitFor(() => notices.length >= 2, 'refusals');
    assert.deepEqual(notices.map((n) => n.rule).sort(), ['task.assignee', 'task.shape']);
    await member.saved();
    const rest = await server.call('GET', `/api/channels/${name}/tasks`, { token: team.owner.token });
    assert.deepEqual(rest.body.map((t: { id: string }) => t.id), [id]);
    const put = await server.call('PUT', `/api/tasks/${id}`, { token: team.member.token, json: { is_completed: true } });
    assert.equal(put.status, 200);
    // REST holds to the same rule.
    const outside = await server.call('POST', `/api/channels/${name}/tasks`, {
      token: team.member.token, json: { content: 'for an outsider', assignee_id: team.outsider.id },
    });
    assert.equal(outside.status, 422);
    assert.equal(outside.body.error.code, 'validation_failed');
    const inside = await server.call('POST', `/api/channels/${name}/tasks`, {
      token: team.member.token, json: { content: 'for the viewer', assignee_id: team.viewer.id },
    });
    assert.equal(inside.status, 201);
  });

  it('a demotion racing an update never leaves stored content that was not applied', async () => {
    const name = team.channels.DOC!;
    const observer = await client(name, team.owner.token);
    const member = await client(name, team.member.token);
    const role = (to: string) =>
      server.call('PATCH', `/api/groups/${team.groupId}/members/${team.member.id}`, { token: team.owner.token, json: { role: to } });
    for (let i = 0; i < 8; i++) {
      writeParagraph(member.doc, `race ${i} `);
      await role('viewer');
      await pause(50);
      await role('member');
      await pause(50);
    }
    await pause(500);
    const live = pageText(observer.doc);
    server = await server.restart();
    const fresh = await client(name, team.viewer.token);
    assert.equal(pageText(fresh.doc), live, 'what is stored is exactly what the live document applied');
  });
});
