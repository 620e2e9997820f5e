// REST on the live documents: REST changes reach connected clients at once, and REST reads what clients wrote.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as Y from 'yjs';
import { chat, kanban, tasks } from '../index.ts';
import { errorCode, eventually, setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { connect, goOffline, goOnline, waitFor, type Client } from './clients.ts';

let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer();
  team = await setUpTeam(server, ['TODO', 'KANBAN', 'DOC', 'TEXT']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(name: string, token = team.member.token): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

describe('tasks over REST', () => {
  it('creates, reorders, completes and deletes tasks that connected clients see at once', async () => {
    const channel = team.channels.TODO!;
    const watcher = await client(channel, team.viewer.token);
    const post = (content: string, extra = {}) =>
      server.call('POST', `/api/channels/${channel}/tasks`, { token: team.member.token, json: { content, ...extra } });
    const a = await post('write the spec');
    const b = await post('ship it');
    const c = await post('plan first', { position: 0 });
    assert.equal(a.status, 201);
    await waitFor(() => tasks.readTasks(watcher.doc).length === 3, 'watcher sees three tasks');
    assert.deepEqual(tasks.readTasks(watcher.doc).map((t) => t.content), ['plan first', 'write the spec', 'ship it']);
    const done = await server.call('PUT', `/api/tasks/${b.body.id}`, {
      token: team.member.token, json: { is_completed: true, assignee_id: team.owner.id, position: 0 },
    });
    assert.equal(done.status, 200);
    assert.equal(done.body.is_completed, true);
    assert.equal(done.body.content, 'ship it', 'fields not given are kept');
    await waitFor(() => tasks.readTasks(watcher.doc)[0]?.id === b.body.id, 'move reaches the watcher');
    assert.equal(tasks.readTasks(watcher.doc)[0]!.assignee_id, team.owner.id);
    assert.equal((await server.call('DELETE', `/api/tasks/${c.body.id}`, { token: team.member.token })).status, 204);
    const list = await server.call('GET', `/api/channels/${channel}/tasks`, { token: team.viewer.token });
    assert.deepEqual(list.body.map((t: { content: string }) => t.content), ['ship it', 'write the spec']);
    assert.equal((await server.call('DELETE', `/api/tasks/${c.body.id}`, { token: team.member.token })).status, 404);
  });

  it('reads and changes tasks that a client created in the document', async () => {
    const channel = team.channels.TODO!;
    const writer = await client(channel);
    const created = tasks.addTask(writer.doc, { content: 'made offline-first' });
    await writer.saved();
    const list = await server.call('GET', `/api/channels/${channel}/tasks`, { token: team.member.token });
    assert.ok(list.body.some((t: { id: string }) => t.id === created.id));
    // The item index learns client-made ids when the document is stored (debounced).
    const put = async () =>
      server.call('PUT', `/api/tasks/${created.id}`, { token: team.member.token, json: { content: 'changed by REST' } });
    let res = await put();
    for (let i = 0; i < 40 && res.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await put();
    }
    assert.equal(res.status, 200);
    await waitFor(() => tasks.readTask(writer.doc, created.id)?.content === 'changed by REST', 'writer sees REST edit');
  });

  it('refuses viewers, outsiders, wrong channel types and bad input without changing anything', async () => {
    const channel = team.channels.TODO!;
    const before = await server.call('GET', `/api/channels/${channel}/tasks`, { token: team.member.token });
    const byViewer = await server.call('POST', `/api/channels/${channel}/tasks`, {
      token: team.viewer.token, json: { content: 'nope' },
    });
    assert.equal(byViewer.status, 403);
    const byOutsider = await server.call('POST', `/api/channels/${channel}/tasks`, {
      token: team.outsider.token, json: { content: 'nope' },
    });
    assert.equal(byOutsider.status, 404);
    const outsiderEdit = await server.call('PUT', `/api/tasks/${before.body[0].id}`, {
      token: team.outsider.token, json: { content: 'hijack' },
    });
    assert.equal(outsiderEdit.status, 404);
    const wrongType = await server.call('GET', `/api/channels/${team.channels.DOC}/tasks`, { token: team.member.token });
    assert.equal(wrongType.status, 404);
    for (const json of [{}, { content: '' }, { content: 5 }, { content: 'x', position: -1 }, { content: 'x', extra: 1 }]) {
      const res = await server.call('POST', `/api/channels/${channel}/tasks`, { token: team.member.token, json });
      assert.equal(res.status, 422, JSON.stringify(json));
      errorCode(res);
    }
    const after = await server.call('GET', `/api/channels/${channel}/tasks`, { token: team.member.token });
    assert.deepEqual(after.body, before.body);
  });

  it("an id copied into another group's channel claims nothing there", async () => {
    const channel = team.channels.TODO!;
    const victim = await server.call('POST', `/api/channels/${channel}/tasks`, {
      token: team.member.token, json: { content: 'ours' },
    });
    // The outsider learned the id and puts a task under it into a channel of their own group first.
    const group = await server.call('POST', '/api/groups', { token: team.outsider.token, json: { name: 'Elsewhere' } });
    const own = await server.call('POST', `/api/groups/${group.body.id}/channels`, {
      token: team.outsider.token, json: { name: 'copies', type: 'TODO' },
    });
    const squatter = await connect(server, own.body.id, team.outsider.token);
    open.push(squatter);
    const copy = new Y.Map<unknown>();
    copy.set('content', 'copy');
    copy.set('is_completed', false);
    copy.set('assignee_id', null);
    copy.set('order', 'a0');
    squatter.doc.getMap('tasks').set(victim.body.id, copy);
    await squatter.saved();
    await eventually(async () => {
      const res = await server.call('PUT', `/api/tasks/${victim.body.id}`, {
        token: team.outsider.token, json: { content: 'changed the copy' },
      });
      assert.equal(res.status, 200, 'the copy is indexed in its own channel');
    }, 5000);
    const mine = await server.call('PUT', `/api/tasks/${victim.body.id}`, {
      token: team.member.token, json: { content: 'still ours' },
    });
    assert.equal(mine.status, 200);
    const list = await server.call('GET', `/api/channels/${channel}/tasks`, { token: team.member.token });
    assert.equal(list.body.find((t: { id: string }) => t.id === victim.body.id)?.content, 'still ours');
    assert.equal(tasks.readTask(squatter.doc, victim.body.id)?.content, 'changed the copy');
  });
});

describe('kanban over REST', () => {
  it('builds a board in order and moves cards between columns', async () => {
    const channel = team.channels.KANBAN!;
    const watcher = await client(channel, team.viewer.token);
    const col = async (title: string) =>
      (await server.call('POST', `/api/channels/${channel}/kanban/columns`, { token: team.member.token, json: { title } })).body;
    const todo = await col('To do');
    const doing = await col('Doing');
    const card = async (column: string, content: string) =>
      (await server.call('POST', `/api/kanban/columns/${column}/cards`, { token: team.member.token, json: { content } })).body;
    const c1 = await card(todo.id, 'one');
    const c2 = await card(todo.id, 'two');
    const moved = await server.call('PUT', `/api/kanban/cards/${c2.id}/move`, {
      token: team.member.token, json: { column_id: doing.id, new_order: 0 },
    });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.column_id, doing.id);
    const board = await server.call('GET', `/api/channels/${channel}/kanban`, { token: team.viewer.token });
    assert.deepEqual(
      board.body.columns.map((c: { title: string; cards: { content: string }[] }) => [c.title, c.cards.map((x) => x.content)]),
      [['To do', ['one']], ['Doing', ['two']]],
    );
    await waitFor(() => kanban.readBoard(watcher.doc).columns[1]?.cards.length === 1, 'watcher sees the move');
    const renamed = await server.call('PUT', `/api/kanban/cards/${c1.id}`, { token: team.member.token, json: { content: 'uno' } });
    assert.equal(renamed.body.content, 'uno');
    const toNowhere = await server.call('PUT', `/api/kanban/cards/${c1.id}/move`, {
      token: team.member.token, json: { column_id: randomUUID(), new_order: 0 },
    });
    assert.equal(toNowhere.status, 404);
  });

  it('two clients moving one card at once leave it in exactly one column', async () => {
    const channel = team.channels.KANBAN!;
    const a = await client(channel);
    const b = await client(channel, team.owner.token);
    const board = kanban.readBoard(a.doc);
    const [first, second] = board.columns;
    const third = kanban.addColumn(a.doc, 'Done');
    const card = kanban.addCard(a.doc, first!.id, 'contested');
    await a.saved();
    await waitFor(() => kanban.readCard(b.doc, card.id) !== undefined && kanban.hasColumn(b.doc, third.id), 'b synced');
    await goOffline(a);
    kanban.moveCard(a.doc, card.id, second!.id, 0);
    kanban.moveCard(b.doc, card.id, third.id, 0);
    await b.saved();
    await goOnline(a);
    await a.saved();
    await waitFor(
      () => kanban.readCard(a.doc, card.id)?.column_id === kanban.readCard(b.doc, card.id)?.column_id,
      'both agree',
    );
    for (const doc of [a.doc, b.doc]) {
      const places = kanban.readBoard(doc).columns.filter((c) => c.cards.some((x) => x.id === card.id));
      assert.equal(places.length, 1);
    }
  });
});

describe('document page over REST', () => {
  it('replaces the page from JSON or text, and clients see it', async () => {
    const channel = team.channels.DOC!;
    const watcher = await client(channel, team.viewer.token);
    const json = {
      type: 'doc',
      content: [
        { type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Plan' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'Ship on Friday.' }] },
      ],
    };
    const put = await server.call('PUT', `/api/channels/${channel}/document`, {
      token: team.member.token, json: { content: json, title: 'Roadmap' },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.text, 'Plan\nShip on Friday.');
    assert.equal(put.body.title, 'Roadmap');
    assert.equal(put.body.last_edited_by, team.member.id);
    await waitFor(() => watcher.doc.getXmlFragment('default').toString().includes('Ship on Friday.'), 'watcher sees page');
    const asText = await server.call('PUT', `/api/channels/${channel}/document`, {
      token: team.member.token, json: { text: 'line one\nline two' },
    });
    assert.equal(asText.body.text, 'line one\nline two');
    assert.equal(asText.body.content.content.length, 2);
    const md = await server.call('PUT', `/api/channels/${channel}/document`, {
      token: team.member.token, json: { markdown: '# Notes\n\n- **bold** point\n- second' },
    });
    assert.equal(md.status, 200);
    assert.equal(md.body.content.content[0].type, 'heading');
    assert.equal(md.body.content.content[1].type, 'bulletList');
    assert.match(md.body.markdown, /^# Notes\n\n- \*\*bold\*\* point\n- second/);
    await waitFor(() => watcher.doc.getXmlFragment('default').toString().includes('second'), 'watcher sees list');
    await server.call('PUT', `/api/channels/${channel}/document`, {
      token: team.member.token, json: { text: 'line one\nline two' },
    });
    const patched = await server.call('PATCH', `/api/channels/${channel}/document`, {
      token: team.member.token, json: { title: 'Renamed' },
    });
    assert.equal(patched.body.title, 'Renamed');
    assert.equal(patched.body.text, 'line one\nline two');
  });

  it('refuses content that does not fit the schema and keeps the page', async () => {
    const channel = team.channels.DOC!;
    const before = await server.call('GET', `/api/channels/${channel}/document`, { token: team.member.token });
    for (const body of [
      { content: { type: 'doc', content: [{ type: 'noSuchNode' }] } },
      { content: { type: 'doc' }, text: 'both' },
      { text: 5 },
    ]) {
      const res = await server.call('PUT', `/api/channels/${channel}/document`, { token: team.member.token, json: body });
      assert.equal(res.status, 422, JSON.stringify(body));
    }
    const byViewer = await server.call('PUT', `/api/channels/${channel}/document`, {
      token: team.viewer.token, json: { text: 'vandalism' },
    });
    assert.equal(byViewer.status, 403);
    const after = await server.call('GET', `/api/channels/${channel}/document`, { token: team.member.token });
    assert.deepEqual(after.body, before.body);
  });
});

describe('messages over REST', () => {
  it('pages through what clients wrote, threads included', async () => {
    const channel = team.channels.TEXT!;
    const writer = await client(channel);
    const ids: string[] = [];
    writer.doc.transact(() => {
      for (let i = 0; i < 7; i++) ids.push(chat.writeMessage(writer.doc, { author_id: team.member.id, text: `m${i}` }).id);
    });
    chat.writeMessage(writer.doc, { author_id: team.member.id, text: 'reply', parent_id: ids[0] });
    chat.react(writer.doc, ids[6]!, '👍', team.member.id, true);
    // Hostile junk in the array is refused by the write rules: not served and not fatal.
    writer.doc.getArray('messages').push([42, 'junk', new Y.Map()]);
    await writer.saved();
    const page1 = await server.call('GET', `/api/channels/${channel}/messages?limit=3`, { token: team.viewer.token });
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.body.messages.map((m: { text: string }) => m.text), ['m5', 'm6', 'reply']);
    assert.deepEqual(page1.body.messages[1].reactions, { '👍': [team.member.id] });
    const page2 = await server.call('GET', `/api/channels/${channel}/messages?limit=3&before=${page1.body.next_before}`, {
      token: team.viewer.token,
    });
    assert.deepEqual(page2.body.messages.map((m: { text: string }) => m.text), ['m2', 'm3', 'm4']);
    const thread = await server.call('GET', `/api/channels/${channel}/messages?thread=${ids[0]}`, { token: team.viewer.token });
    assert.deepEqual(thread.body.messages.map((m: { text: string }) => m.text), ['reply']);
    const outsider = await server.call('GET', `/api/channels/${channel}/messages`, { token: team.outsider.token });
    assert.equal(outsider.status, 404);
  });
});
