// The Yjs shapes on their own: merges of concurrent edits, and tolerance of content in the wrong shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Y from 'yjs';
import { chat, kanban, page, tasks } from '../index.ts';

/** Two replicas that exchange everything, like two clients after a sync. */
function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

function replicas(): [Y.Doc, Y.Doc] {
  const a = new Y.Doc();
  const b = new Y.Doc();
  return [a, b];
}

describe('chat shape', () => {
  it('merges offline posts, edits, reactions, threads and deletes', () => {
    const [a, b] = replicas();
    const first = chat.postMessage(a, { author_id: 'u1', text: 'hello' });
    sync(a, b);
    // Offline on both sides:
    chat.postMessage(a, { author_id: 'u1', text: 'reply in thread', parent_id: first.id });
    chat.editMessage(b, first.id, 'hello, edited');
    chat.react(b, first.id, '🎉', 'u2', true);
    const doomed = chat.postMessage(b, { author_id: 'u2', text: 'oops' });
    chat.deleteMessage(b, doomed.id);
    sync(a, b);
    const [ra, rb] = [chat.readMessages(a), chat.readMessages(b)];
    assert.deepEqual(ra, rb);
    const byText = Object.fromEntries(ra.map((m) => [m.text, m]));
    assert.equal(byText['hello, edited']!.reactions['🎉']![0], 'u2');
    assert.ok(byText['hello, edited']!.edited_at);
    assert.equal(byText['reply in thread']!.parent_id, first.id);
    assert.equal(ra.find((m) => m.id === doomed.id)!.deleted, true);
    assert.equal(ra.find((m) => m.id === doomed.id)!.text, '');
    chat.react(a, first.id, '🎉', 'u2', false);
    assert.deepEqual(chat.readMessages(a).find((m) => m.id === first.id)!.reactions, {});
  });

  it('skips entries a hostile client wrote in the wrong shape', () => {
    const doc = new Y.Doc();
    chat.postMessage(doc, { author_id: 'u1', text: 'real' });
    const bad = new Y.Map<unknown>();
    bad.set('id', 5);
    bad.set('author_id', ['x']);
    const reactions = new Y.Map<unknown>();
    reactions.set('👍', 'not a map');
    const odd = new Y.Map<unknown>();
    doc.getArray('messages').push([42, 'text', null, bad, new Y.Array(), odd]);
    odd.set('id', 'm2');
    odd.set('author_id', 'u2');
    odd.set('created_at', new Date().toISOString());
    odd.set('text', 7);
    odd.set('reactions', reactions);
    const read = chat.readMessages(doc);
    assert.deepEqual(read.map((m) => m.text), ['real', '']);
    assert.deepEqual(read[1]!.reactions, {});
  });
});

describe('tasks and kanban shapes', () => {
  it('concurrent moves of one task or card never duplicate or lose it', () => {
    const [a, b] = replicas();
    const t1 = tasks.addTask(a, { content: 'one' });
    tasks.addTask(a, { content: 'two' });
    tasks.addTask(a, { content: 'three' });
    const todo = kanban.addColumn(a, 'todo');
    const doing = kanban.addColumn(a, 'doing');
    const done = kanban.addColumn(a, 'done');
    const card = kanban.addCard(a, todo.id, 'card');
    sync(a, b);
    tasks.updateTask(a, t1.id, { position: 2 });
    tasks.updateTask(b, t1.id, { position: 1, is_completed: true });
    kanban.moveCard(a, card.id, doing.id, 0);
    kanban.moveCard(b, card.id, done.id, 0);
    sync(a, b);
    for (const doc of [a, b]) {
      const list = tasks.readTasks(doc);
      assert.equal(list.length, 3);
      assert.equal(list.filter((t) => t.id === t1.id).length, 1);
      assert.equal(list.find((t) => t.id === t1.id)!.is_completed, true, 'the other field survived');
      const places = kanban.readBoard(doc).columns.filter((c) => c.cards.some((x) => x.id === card.id));
      assert.equal(places.length, 1);
    }
    assert.deepEqual(tasks.readTasks(a), tasks.readTasks(b));
    assert.deepEqual(kanban.readBoard(a), kanban.readBoard(b));
  });

  it('renames and reorders columns, deletes cards, and removes only an empty column', () => {
    const doc = new Y.Doc();
    const todo = kanban.addColumn(doc, 'todo');
    const done = kanban.addColumn(doc, 'done');
    const card = kanban.addCard(doc, todo.id, 'card');
    assert.equal(kanban.renameColumn(doc, todo.id, 'to do')?.title, 'to do');
    assert.equal(kanban.moveColumn(doc, done.id, 0)?.id, done.id);
    assert.deepEqual(kanban.readBoard(doc).columns.map((c) => c.title), ['done', 'to do']);
    assert.equal(kanban.deleteColumn(doc, todo.id), false, 'a column holding a card stays');
    assert.equal(kanban.deleteColumn(doc, done.id), true, 'an empty one goes');
    assert.equal(kanban.deleteCard(doc, card.id), true);
    assert.equal(kanban.deleteCard(doc, card.id), false);
    assert.equal(kanban.deleteColumn(doc, todo.id), true, 'emptied, it goes too');
    assert.deepEqual(kanban.readBoard(doc).columns, []);
    assert.equal(kanban.renameColumn(doc, todo.id, 'gone'), undefined);
  });

  it('orders around keys a client wrote that are not fractional keys', () => {
    const doc = new Y.Doc();
    const good = tasks.addTask(doc, { content: 'good' });
    const junk = new Y.Map<unknown>();
    junk.set('content', 'junk order');
    junk.set('order', '!!not-a-key');
    doc.getMap('tasks').set('junk', junk);
    const added = tasks.addTask(doc, { content: 'added', position: 0 });
    assert.ok(tasks.readTasks(doc).some((t) => t.id === added.id));
    assert.ok(tasks.updateTask(doc, good.id, { position: 0 }));
    doc.getMap('tasks').set('broken', 'not a map');
    assert.equal(tasks.readTasks(doc).length, 3);
  });
});

describe('page shape', () => {
  it('round-trips plain text and reads a page with foreign content safely', () => {
    const doc = new Y.Doc();
    page.replacePage(doc, page.encodePage(page.textToPage('first line\n\nthird line')), 'u1');
    assert.equal(page.readPage(doc).text, 'first line\n\nthird line', 'empty lines survive');
    assert.equal(page.readPage(doc).last_edited_by, 'u1');
    doc.getMap('meta').set('title', 12);
    assert.equal(page.readPage(doc).title, '');
    assert.throws(() => page.encodePage({ type: 'doc', content: [{ type: 'noSuchNode' }] }));
  });
});
