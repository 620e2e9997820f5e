// The write rules on plain Yjs documents: a "server" document judges updates made on "client" documents, and
// the client applies what the server's document emitted, as Hocuspocus relays it back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Y from 'yjs';
import { applyChecked, rulesByChannelType, type Writer } from '../rules/index.ts';
import { chat, kanban, tasks } from '../shapes/index.ts';

const alice = '00000000-0000-4000-8000-00000000000a';
const bob = '00000000-0000-4000-8000-00000000000b';
const mallory = '00000000-0000-4000-8000-00000000000c';

const writer = (userId: string, role: Writer['role'] = 'member'): Writer => ({
  userId, role, readers: new Set([alice, bob, mallory]), now: Date.now(),
});

/** A server document and clients that sync with it through the rules. */
function setUp(type: string) {
  const server = new Y.Doc();
  const sync = (client: Y.Doc, as: Writer) => {
    const update = Y.encodeStateAsUpdate(client, Y.encodeStateVector(server));
    const result = applyChecked(server, update, as, rulesByChannelType[type]!, 'origin');
    if (result.applied) Y.applyUpdate(client, result.applied);
    return result;
  };
  const same = (a: Y.Doc, b: Y.Doc) => assert.deepEqual(content(a, type), content(b, type));
  const client = () => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server));
    return doc;
  };
  return { server, sync, client, same };
}

/** A document's content in the channel type's roots. */
const content = (doc: Y.Doc, type: string) =>
  Object.fromEntries(Object.entries(rulesByChannelType[type]!.roots).map(([name, T]) => [name, doc.get(name, T).toJSON()]));

describe('write rules', () => {
  it('chat: a forged author is refused in a batch whose valid messages pass, and the writer converges', () => {
    const { server, sync, client, same } = setUp('TEXT');
    const m = client();
    for (let i = 0; i < 5; i++) chat.writeMessage(m, { author_id: mallory, text: `mine ${i}` });
    chat.writeMessage(m, { author_id: alice, text: 'I am alice' });
    const result = sync(m, writer(mallory));
    assert.deepEqual(result.refusals.map((r) => r.rule), ['chat.author']);
    const texts = chat.readMessages(server).map((x) => x.text);
    assert.deepEqual(texts, [0, 1, 2, 3, 4].map((i) => `mine ${i}`));
    same(m, server);
    assert.ok(chat.readMessages(server).every((x) => x.received_at), 'the server stamps received_at');
    assert.equal(Buffer.from(result.applied!).includes('I am alice'), false, 'the refused text is not in the update');
  });

  it('chat: only the author edits; the author or an admin deletes; fields are fixed; reactions are your own', () => {
    const { server, sync, client, same } = setUp('TEXT');
    const a = client();
    const posted = chat.writeMessage(a, { author_id: alice, text: 'hello' });
    assert.equal(sync(a, writer(alice)).refusals.length, 0);
    const m = client();
    chat.editMessage(m, posted.id, 'rewritten');
    // The old text deleted, the new text inserted, edited_at set: three refused changes.
    assert.deepEqual(sync(m, writer(mallory)).refusals.map((r) => r.rule), ['chat.edit', 'chat.edit', 'chat.edit']);
    same(m, server);
    assert.equal(chat.readMessageById(server, posted.id)!.text, 'hello');

    const forge = client();
    const map = forge.getArray<Y.Map<unknown>>('messages').get(0);
    map.set('author_id', mallory);
    map.set('created_at', '1970-01-01T00:00:00.000Z');
    assert.deepEqual(sync(forge, writer(mallory)).refusals.map((r) => r.rule), ['chat.fixed', 'chat.fixed']);
    same(forge, server);

    const react = client();
    chat.react(react, posted.id, '👍', mallory, true);
    chat.react(react, posted.id, '🎉', alice, true);
    const reacted = sync(react, writer(mallory));
    assert.deepEqual(reacted.refusals.map((r) => r.rule), ['chat.reaction']);
    assert.deepEqual(chat.readMessageById(server, posted.id)!.reactions, { '👍': [mallory] });
    same(react, server);

    const remove = client();
    remove.getArray('messages').delete(0, 1);
    assert.deepEqual(sync(remove, writer(mallory)).refusals.map((r) => r.rule), ['chat.remove']);
    same(remove, server);
    assert.equal(chat.readMessageById(server, posted.id)!.text, 'hello');

    const del = client();
    chat.deleteMessage(del, posted.id);
    assert.ok(sync(del, writer(mallory)).refusals.length > 0);
    assert.equal(chat.readMessageById(server, posted.id)!.deleted, false);
    same(del, server);
    const moderator = client();
    chat.deleteMessage(moderator, posted.id);
    assert.equal(sync(moderator, writer(bob, 'admin')).refusals.length, 0);
    assert.equal(chat.readMessageById(server, posted.id)!.deleted, true);
    const undelete = client();
    undelete.getArray<Y.Map<unknown>>('messages').get(0).set('deleted', false);
    assert.deepEqual(sync(undelete, writer(alice)).refusals.map((r) => r.rule), ['chat.delete']);
    assert.equal(chat.readMessageById(server, posted.id)!.deleted, true);
    same(undelete, server);

    const own = client();
    const mine = chat.writeMessage(own, { author_id: alice, text: 'plain' });
    assert.equal(sync(own, writer(alice)).refusals.length, 0);
    const styled = client();
    const entry = styled.getArray<Y.Map<unknown>>('messages').get(1);
    assert.equal(entry.get('id'), mine.id);
    (entry.get('text') as Y.Text).format(0, 5, { bold: true });
    entry.set('edited_at', new Date(Date.now() + 3_600_000).toISOString());
    // Formatting is two markers in Yjs (where bold starts and where it ends): two refused inserts.
    assert.deepEqual(sync(styled, writer(alice)).refusals.map((r) => r.rule).sort(), ['chat.text', 'chat.text', 'chat.time']);
    same(styled, server);
    const edit = client();
    chat.editMessage(edit, mine.id, 'plain, edited');
    assert.equal(sync(edit, writer(alice)).refusals.length, 0, 'the author edits (positive control)');
    assert.equal(chat.readMessageById(server, mine.id)!.text, 'plain, edited');
  });

  it('chat: dates, reused ids and threads', () => {
    const { server, sync, client, same } = setUp('TEXT');
    const a = client();
    const first = chat.writeMessage(a, { author_id: alice, text: 'first' });
    chat.writeMessage(a, { author_id: alice, text: 'from 2999', created_at: new Date('2999-01-01') });
    chat.writeMessage(a, { author_id: alice, text: 'offline, an hour ago', created_at: new Date(Date.now() - 3_600_000) });
    chat.writeMessage(a, { author_id: alice, text: 'reply', parent_id: first.id });
    chat.writeMessage(a, { author_id: alice, text: 'orphan', parent_id: crypto.randomUUID() });
    assert.deepEqual(sync(a, writer(alice)).refusals.map((r) => r.rule).sort(), ['chat.thread', 'chat.time']);
    assert.deepEqual(chat.readMessages(server).map((m) => m.text), ['first', 'offline, an hour ago', 'reply']);
    const old = chat.readMessages(server)[1]!;
    assert.ok(Date.parse(old.received_at!) - Date.parse(old.created_at) > 3_000_000, 'the server records its own time');

    const copy = client();
    const twin = new Y.Map<unknown>();
    twin.set('id', first.id);
    twin.set('author_id', alice);
    twin.set('text', new Y.Text('twin'));
    twin.set('created_at', new Date().toISOString());
    copy.getArray('messages').push([twin]);
    assert.deepEqual(sync(copy, writer(alice)).refusals.map((r) => r.rule), ['chat.id']);
    same(copy, server);
  });

  it('tasks: types and sizes as REST, assignees in the group, unknown roots refused', () => {
    const { server, sync, client, same } = setUp('TODO');
    const a = client();
    const task = tasks.addTask(a, { content: 'ship it', assignee_id: bob });
    tasks.addTask(a, { content: 'to an outsider', assignee_id: '00000000-0000-4000-8000-0000000000ff' });
    a.getMap('junk').set('x', 1);
    assert.deepEqual(sync(a, writer(alice)).refusals.map((r) => r.rule).sort(), ['shape', 'task.assignee']);
    assert.deepEqual(tasks.readTasks(server).map((t) => t.content), ['ship it']);
    same(a, server);
    const b = client();
    const entry = b.getMap<Y.Map<unknown>>('tasks').get(task.id)!;
    entry.set('is_completed', 'yes');
    entry.set('content', 'x'.repeat(20_000));
    tasks.updateTask(b, task.id, { is_completed: true });
    const result = sync(b, writer(bob));
    assert.deepEqual(result.refusals.map((r) => r.rule), ['task.shape']);
    assert.equal(tasks.readTask(server, task.id)!.is_completed, true);
    assert.equal(tasks.readTask(server, task.id)!.content, 'ship it');
    same(b, server);
  });

  it('kanban: a card names an existing column; a column with cards stays', () => {
    const { server, sync, client, same } = setUp('KANBAN');
    const a = client();
    const todo = kanban.addColumn(a, 'To do');
    const card = kanban.addCard(a, todo.id, 'card');
    assert.equal(sync(a, writer(alice)).refusals.length, 0);
    const b = client();
    b.getMap<Y.Map<unknown>>('cards').get(card.id)!.set('column_id', '00000000-0000-4000-8000-0000000000ff');
    b.getMap('columns').delete(todo.id);
    assert.deepEqual(sync(b, writer(bob)).refusals.map((r) => r.rule).sort(), ['card.column', 'column.cards']);
    same(b, server);
    assert.deepEqual(kanban.readBoard(server).columns.map((c) => [c.title, c.cards.length]), [['To do', 1]]);
    const c = client();
    c.getMap<Y.Map<unknown>>('columns').get(todo.id)!.set('title', 42);
    assert.deepEqual(sync(c, writer(bob)).refusals.map((r) => r.rule), ['column.shape']);
    same(c, server);
    const d = client();
    d.getMap('cards').delete(card.id);
    d.getMap('columns').delete(todo.id);
    assert.equal(sync(d, writer(bob)).refusals.length, 0, 'an emptied column can go');
    assert.deepEqual(kanban.readBoard(server).columns, []);
    same(d, server);
  });

  it('pages: only the schema, links that run nothing, and last_edited_by from the server', () => {
    const { server, sync, client, same } = setUp('DOC');
    const a = client();
    const paragraph = new Y.XmlElement('paragraph');
    const text = new Y.XmlText();
    paragraph.insert(0, [text]);
    a.getXmlFragment('default').insert(0, [paragraph]);
    text.insert(0, 'hello ', { bold: {} });
    text.insert(6, 'world', { link: { href: 'https://example.com' } });
    const script = new Y.XmlElement('script');
    script.setAttribute('onload', 'alert(1)');
    a.getXmlFragment('default').insert(1, [script]);
    const nested = new Y.XmlElement('paragraph');
    nested.insert(0, [new Y.XmlElement('heading')]);
    a.getXmlFragment('default').insert(2, [nested]);
    a.getMap('meta').set('last_edited_by', bob);
    a.getMap('meta').set('title', 'Plans');
    const result = sync(a, writer(alice));
    assert.deepEqual(result.refusals.map((r) => r.rule).sort(), ['page.meta', 'page.schema', 'page.schema']);
    same(a, server);
    assert.equal(server.getXmlFragment('default').toString(), '<paragraph><bold>hello </bold><link href="https://example.com">world</link></paragraph>');
    assert.equal(server.getMap('meta').get('last_edited_by'), alice, 'the server names the writer');
    assert.equal(server.getMap('meta').get('title'), 'Plans');
    const long = client();
    long.getMap('meta').set('title', 'x'.repeat(201));
    assert.deepEqual(sync(long, writer(alice)).refusals.map((r) => r.rule), ['page.meta']);
    assert.equal(server.getMap('meta').get('title'), 'Plans');
    same(long, server);

    const b = client();
    const link = (b.getXmlFragment('default').get(0) as Y.XmlElement).get(0) as Y.XmlText;
    link.format(0, 5, { link: { href: ' javascript:alert(1)' } });
    link.setAttribute('onclick', 'x');
    (b.getXmlFragment('default').get(0) as Y.XmlElement).setAttribute('style', 'x');
    assert.deepEqual(sync(b, writer(bob)).refusals.map((r) => r.rule), ['page.schema', 'page.schema', 'page.schema']);
    same(b, server);
  });

  it('bounds what one member can pile up: reactions per message, nesting in pages', () => {
    const chatSide = setUp('TEXT');
    const a = chatSide.client();
    const posted = chat.writeMessage(a, { author_id: alice, text: 'react to me' });
    assert.equal(chatSide.sync(a, writer(alice)).refusals.length, 0);
    const b = chatSide.client();
    for (let i = 0; i < 70; i++) chat.react(b, posted.id, `e${i}`, bob, true);
    const reacted = chatSide.sync(b, writer(bob));
    assert.equal(reacted.refusals.filter((r) => r.rule === 'chat.reaction').length, 6, 'beyond 64 emoji');
    assert.equal(Object.keys(chat.readMessageById(chatSide.server, posted.id)!.reactions).length, 64);
    chatSide.same(b, chatSide.server);

    const pageSide = setUp('DOC');
    const c = pageSide.client();
    let deepest = new Y.XmlElement('blockquote');
    const top = deepest;
    for (let i = 0; i < 200; i++) {
      const inner = new Y.XmlElement('blockquote');
      deepest.insert(0, [inner]);
      deepest = inner;
    }
    const ok = new Y.XmlElement('paragraph');
    ok.insert(0, [new Y.XmlText('shallow')]);
    c.getXmlFragment('default').insert(0, [top, ok]);
    assert.deepEqual(pageSide.sync(c, writer(alice)).refusals.map((r) => r.rule), ['page.schema']);
    assert.equal(pageSide.server.getXmlFragment('default').toString(), '<paragraph>shallow</paragraph>');
    pageSide.same(c, pageSide.server);
  });

  it('older content outside every shape (from before the rules) can be removed, without breaking the update', () => {
    const { server, sync, client } = setUp('TEXT');
    server.getXmlFragment('legacy').insert(0, [new Y.XmlElement('paragraph')]);
    const a = client();
    a.getXmlFragment('legacy').delete(0, 1);
    chat.writeMessage(a, { author_id: alice, text: 'still posted' });
    assert.deepEqual(sync(a, writer(alice)).refusals.map((r) => r.rule), ['shape']);
    assert.equal(server.getXmlFragment('legacy').length, 0);
    assert.deepEqual(chat.readMessages(server).map((m) => m.text), ['still posted']);
  });
});
