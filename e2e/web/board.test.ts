// The kanban board in Chromium: two people co-editing one board live (columns, cards, edits, moves by drag and
// drop and by keyboard), both moving one card at once while one of them is offline, an offline change the server
// refuses, a viewer beside a member, and a phone-sized screen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { eventually, setUpTeam, type Team, type TestUser } from '../../server/test/harness.ts';
import { skipWithoutChromium, startWebApp, waitForStatus, type AppPage, type WebApp } from './harness.ts';

let app: WebApp;
let team: Team;

type ShownBoard = Record<string, string[]>;

/** The board as a person sees it: each column's title with its cards' text, in order. */
async function shownBoard(page: Page): Promise<ShownBoard> {
  const board: ShownBoard = {};
  for (const column of await page.getByTestId('column').all()) {
    const title = (await column.getByRole('heading').textContent()) ?? '';
    board[title] = await column.getByTestId('card').locator('.card-text').allTextContents();
  }
  return board;
}

/** The board the server stores, in the same form. */
async function storedBoard(channelId: string, user: TestUser): Promise<ShownBoard> {
  const res = await app.server.call('GET', `/api/channels/${channelId}/kanban`, { token: user.token });
  assert.equal(res.status, 200);
  const columns = res.body.columns as { title: string; cards: { content: string }[] }[];
  return Object.fromEntries(columns.map((c) => [c.title, c.cards.map((card) => card.content)]));
}

async function showsBoard(p: AppPage, expected: ShownBoard): Promise<void> {
  await eventually(async () => assert.deepEqual(await shownBoard(p.page), expected), 10_000);
}

/** A new board in the team's group with these columns and cards, made over REST by the owner: its id, and its cards' ids by text. */
async function newBoard(name: string, columns: ShownBoard): Promise<{ channelId: string; cardIds: Map<string, string> }> {
  const post = async (path: string, json: unknown) => {
    const res = await app.server.call('POST', path, { token: team.owner.token, json });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const channelId = await post(`/api/groups/${team.groupId}/channels`, { name, type: 'KANBAN' });
  const cardIds = new Map<string, string>();
  for (const [title, cards] of Object.entries(columns)) {
    const columnId = await post(`/api/channels/${channelId}/kanban/columns`, { title });
    for (const content of cards) cardIds.set(content, await post(`/api/kanban/columns/${columnId}/cards`, { content }));
  }
  return { channelId, cardIds };
}

const column = (page: Page, title: string) => page.getByRole('region', { name: title, exact: true });
const card = (page: Page, text: string) => page.getByTestId('card').filter({ has: page.getByText(text, { exact: true }) });

async function addColumn(page: Page, title: string): Promise<void> {
  await page.getByLabel('New column').fill(title);
  await page.getByRole('button', { name: 'Add column' }).click();
}

async function addCard(page: Page, columnTitle: string, text: string): Promise<void> {
  const form = page.getByRole('form', { name: `Add a card to ${columnTitle}` });
  await form.getByLabel('New card').fill(text);
  await form.getByRole('button', { name: 'Add card' }).click();
}

/**
 * Drags a card with the mouse onto `target` (`where`: near its top edge, its middle or its bottom edge), checks that the drop position
 * shows while the card is held, and drops it there.
 */
async function dragCard(p: AppPage, text: string, target: Locator, where: 'top' | 'middle' | 'bottom', screenshot?: string): Promise<void> {
  const from = await card(p.page, text).boundingBox();
  const to = await target.boundingBox();
  assert.ok(from && to);
  await p.page.mouse.move(from.x + from.width / 2, from.y + 10);
  await p.page.mouse.down();
  await p.page.mouse.move(to.x + to.width / 2, { top: to.y + 4, middle: to.y + to.height / 2, bottom: to.y + to.height - 4 }[where], { steps: 10 });
  await p.page.locator('.board-card.dragging').waitFor();
  await p.page.locator('.board-card.drop-before, .board-cards.drop-end').waitFor();
  if (screenshot) await p.screenshot(screenshot);
  await p.page.mouse.up();
  await p.page.locator('.board-card.dragging').waitFor({ state: 'detached' });
}

const isFocused = (el: unknown) => (el as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === el;

/** Moves a card from the keyboard: its Move button, the column and position, and the form's Move button. */
async function moveByKeyboard(page: Page, text: string, columnTitle: string, position: number): Promise<void> {
  await page.getByRole('button', { name: `Move: ${text}` }).focus();
  await page.keyboard.press('Enter');
  const form = page.getByRole('form', { name: `Move card ${text}` });
  assert.equal(await form.getByLabel('Column').evaluate(isFocused), true, 'the form opens on its first field');
  await form.getByLabel('Column').selectOption({ label: columnTitle });
  await form.getByLabel('Position').selectOption(String(position));
  await form.getByRole('button', { name: 'Move card' }).focus();
  await page.keyboard.press('Enter');
}

describe('kanban board in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp();
    team = await setUpTeam(app.server);
  });
  after(async () => {
    await app?.close();
  });

  it('two people build one board together and see each other’s columns, cards, edits and moves live', async () => {
    const { channelId } = await newBoard('launch', {});
    const a = await app.open(team.owner, `/channels/${channelId}`);
    const b = await app.open(team.member, `/channels/${channelId}`);
    await a.page.getByText('No columns yet.').waitFor();
    await a.screenshot('board-empty');

    await addColumn(a.page, 'To do');
    await addColumn(a.page, 'Doing');
    await addColumn(b.page, 'Done');
    await showsBoard(a, { 'To do': [], Doing: [], Done: [] });
    for (const text of ['write the plan', 'book the room', 'order pizza']) await addCard(a.page, 'To do', text);
    await addCard(b.page, 'Done', 'pick a date');
    await showsBoard(b, { 'To do': ['write the plan', 'book the room', 'order pizza'], Doing: [], Done: ['pick a date'] });
    await showsBoard(a, { 'To do': ['write the plan', 'book the room', 'order pizza'], Doing: [], Done: ['pick a date'] });

    // B edits a card's text and renames a column; A sees both.
    await b.page.getByRole('button', { name: 'Edit: book the room' }).click();
    await b.page.getByRole('form', { name: 'Edit card book the room' }).getByLabel('Card text').fill('book the big room');
    await b.page.getByRole('button', { name: 'Save' }).click();
    await b.page.getByRole('button', { name: 'Rename column: Done' }).click();
    await b.page.getByLabel('Column name').fill('Shipped');
    await b.page.getByRole('button', { name: 'Save' }).click();
    await showsBoard(a, { 'To do': ['write the plan', 'book the big room', 'order pizza'], Doing: [], Shipped: ['pick a date'] });

    // A drags a card into the empty column, then another to the top of its own column; B sees both moves.
    await dragCard(a, 'order pizza', column(a.page, 'Doing').getByRole('list'), 'middle', 'board-dragging');
    await dragCard(a, 'book the big room', card(a.page, 'write the plan'), 'top');
    await showsBoard(b, { 'To do': ['book the big room', 'write the plan'], Doing: ['order pizza'], Shipped: ['pick a date'] });

    // B moves a card from the keyboard to the top of another column; the keyboard stays on the moved card.
    await moveByKeyboard(b.page, 'write the plan', 'Doing', 0);
    await eventually(async () => assert.equal(await b.page.locator(':focus').getAttribute('aria-label'), 'Edit: write the plan'));
    await b.page.getByText('Moved write the plan to Doing, position 1 of 2').waitFor({ state: 'attached' });
    const expected = { 'To do': ['book the big room'], Doing: ['write the plan', 'order pizza'], Shipped: ['pick a date'] };
    await showsBoard(a, expected);

    // A column with cards cannot be deleted (its button is disabled) beside an empty one that can.
    await dragCard(a, 'pick a date', column(a.page, 'To do').getByRole('list'), 'bottom');
    await a.page.getByRole('button', { name: 'Delete column: Shipped' }).click();
    assert.equal(await a.page.getByRole('button', { name: 'Delete column: To do' }).isDisabled(), true);
    // B deletes a card (after confirming); A sees it go.
    await b.page.getByRole('button', { name: 'Delete: order pizza' }).click();
    await b.page.getByRole('button', { name: 'Delete card' }).click();
    const final = { 'To do': ['book the big room', 'pick a date'], Doing: ['write the plan'] };
    await showsBoard(a, final);
    await showsBoard(b, final);
    await a.screenshot('board');
    await waitForStatus(a.page, /All changes saved/);
    await waitForStatus(b.page, /All changes saved/);
    assert.deepEqual(await storedBoard(channelId, team.owner), final);
    for (const p of [a, b]) {
      assert.equal(await p.page.getByTestId('refusals').count(), 0);
      assert.deepEqual(p.errors, []);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('two people move one card at once, one of them offline: it ends in exactly one place everywhere', async () => {
    const start = { 'To do': ['contested', 'bystander'], Doing: [], Done: [] };
    const { channelId } = await newBoard('contested', start);
    const a = await app.open(team.owner, `/channels/${channelId}`);
    const b = await app.open(team.member, `/channels/${channelId}`);
    await showsBoard(a, start);
    await showsBoard(b, start);

    await b.context.setOffline(true);
    await waitForStatus(b.page, /Offline/);
    await moveByKeyboard(b.page, 'contested', 'Done', 0);
    await waitForStatus(b.page, /Offline.*unsynced changes in 1 channel/);
    await dragCard(a, 'contested', column(a.page, 'Doing').getByRole('list'), 'middle');
    await waitForStatus(a.page, /All changes saved/);
    // Each has moved it without seeing the other's move: B's change is still only on B's device.
    await showsBoard(b, { 'To do': ['bystander'], Doing: [], Done: ['contested'] });
    assert.deepEqual(await storedBoard(channelId, team.owner), { 'To do': ['bystander'], Doing: ['contested'], Done: [] });
    await b.screenshot('board-offline-move');

    await b.context.setOffline(false);
    await waitForStatus(b.page, /All changes saved/);
    await eventually(async () => {
      const [onA, onB, stored] = [await shownBoard(a.page), await shownBoard(b.page), await storedBoard(channelId, team.owner)];
      assert.deepEqual(onA, onB);
      assert.deepEqual(onA, stored);
      assert.equal(Object.values(stored).flat().filter((text) => text === 'contested').length, 1, JSON.stringify(stored));
      assert.deepEqual(stored['To do'], ['bystander']);
    }, 10_000);
    await a.screenshot('board-after-concurrent-moves');
    for (const p of [a, b]) assert.deepEqual(p.errors, []);
    await Promise.all([a.close(), b.close()]);
  });

  it('a card added offline to a column removed meanwhile is refused and shown as such; the rest of the offline work is kept', async () => {
    const { channelId } = await newBoard('refused', { 'To do': ['draft'], Ideas: [] });
    const a = await app.open(team.owner, `/channels/${channelId}`);
    const b = await app.open(team.member, `/channels/${channelId}`);
    await showsBoard(b, { 'To do': ['draft'], Ideas: [] });

    await b.context.setOffline(true);
    await waitForStatus(b.page, /Offline/);
    await addCard(b.page, 'Ideas', 'late idea');
    await b.page.getByRole('button', { name: 'Edit: draft' }).click();
    await b.page.getByLabel('Card text').fill('final draft');
    await b.page.getByRole('button', { name: 'Save' }).click();
    await showsBoard(b, { 'To do': ['final draft'], Ideas: ['late idea'] });
    await a.page.getByRole('button', { name: 'Delete column: Ideas' }).click();
    await showsBoard(a, { 'To do': ['draft'] });
    await waitForStatus(a.page, /All changes saved/);

    await b.context.setOffline(false);
    const refusals = b.page.getByTestId('refusals');
    await refusals.locator('[data-rule="card.column"]').waitFor({ timeout: 15_000 });
    assert.match((await refusals.textContent()) ?? '', /a card must be in an existing column/);
    await b.screenshot('board-refused');
    await waitForStatus(b.page, /All changes saved/);
    // The edit made in the same offline session stands; the refused card is gone everywhere.
    for (const p of [a, b]) await showsBoard(p, { 'To do': ['final draft'] });
    assert.deepEqual(await storedBoard(channelId, team.owner), { 'To do': ['final draft'] });
    assert.equal(await a.page.getByTestId('refusals').count(), 0);
    for (const p of [a, b]) assert.deepEqual(p.errors, []);
    await Promise.all([a.close(), b.close()]);
  });

  it('a viewer sees the board and the focused card and cannot change it, beside a member who can', async () => {
    const steps = Array.from({ length: 12 }, (_, i) => `step ${i + 1}`);
    const { channelId, cardIds } = await newBoard('roadmap', { Now: [...steps, 'the cited card'], Later: [] });
    const cited = cardIds.get('the cited card')!;

    // The viewer follows a citation: the card is scrolled to and highlighted.
    const v = await app.open(team.viewer, `/channels/${channelId}?focus=${cited}`);
    const citedCard = card(v.page, 'the cited card');
    await eventually(async () => assert.match((await citedCard.getAttribute('class')) ?? '', /\bfocused\b/), 10_000);
    assert.equal(await citedCard.isVisible(), true);
    assert.equal(await v.page.locator(':focus').getAttribute('id'), `item-${cited}`);
    await v.page.getByText('You can read this channel but not change it').waitFor();
    await v.screenshot('board-viewer');

    const m = await app.open(team.member, `/channels/${channelId}`);
    for (const [p, can] of [[m, true], [v, false]] as const) {
      const who = can ? 'member' : 'viewer';
      assert.equal(await p.page.getByRole('button', { name: 'Edit: step 1', exact: true }).isEnabled(), can, who);
      assert.equal(await p.page.getByRole('button', { name: 'Move: step 1', exact: true }).isEnabled(), can, who);
      assert.equal(await p.page.getByRole('button', { name: 'Delete: step 1', exact: true }).isEnabled(), can, who);
      assert.equal(await p.page.getByRole('button', { name: 'Rename column: Now' }).isEnabled(), can, who);
      assert.equal(await p.page.getByRole('button', { name: 'Delete column: Later' }).isEnabled(), can, who);
      assert.equal(await card(p.page, 'step 1').getAttribute('draggable'), String(can), who);
      assert.equal(await p.page.getByRole('form', { name: 'Add a column' }).count(), can ? 1 : 0, who);
      assert.equal(await p.page.getByRole('form', { name: 'Add a card to Now' }).count(), can ? 1 : 0, who);
    }

    // What the member changes reaches the viewer live.
    await m.page.getByRole('button', { name: 'Edit: step 1', exact: true }).click();
    await m.page.getByLabel('Card text').fill('step one');
    await m.page.getByLabel('Card text').press('Control+Enter');
    await dragCard(m, 'step 2', column(m.page, 'Later').getByRole('list'), 'middle');
    await eventually(async () => {
      const board = await shownBoard(v.page);
      assert.equal(board.Now![0], 'step one');
      assert.deepEqual(board.Later, ['step 2']);
    }, 10_000);
    await waitForStatus(m.page, /All changes saved/);
    const stored = await storedBoard(channelId, team.viewer);
    assert.deepEqual(stored.Later, ['step 2']);
    assert.equal(stored.Now![0], 'step one');
    for (const p of [m, v]) assert.deepEqual(p.errors, []);
    await Promise.all([m.close(), v.close()]);
  });

  it('on a phone the columns scroll sideways and the page does not', async () => {
    const { channelId } = await newBoard('phone', { 'To do': ['bystander'], Doing: [], Done: [] });
    const m = await app.open(team.member, `/channels/${channelId}`, { viewport: { width: 390, height: 844 } });
    const board = m.page.getByTestId('board');
    await board.waitFor();
    const overflows = (el: unknown) => {
      const box = el as { scrollWidth: number; clientWidth: number };
      return box.scrollWidth > box.clientWidth;
    };
    assert.equal(await board.evaluate(overflows), true, 'the board scrolls sideways');
    assert.equal(await m.page.locator('html').evaluate(overflows), false, 'the page itself does not');
    await m.screenshot('board-phone');
    await m.page.getByRole('button', { name: 'Move: bystander' }).click();
    await m.screenshot('board-phone-move');
    await m.page.getByLabel('Column', { exact: true }).selectOption({ label: 'Done' });
    await m.page.getByRole('button', { name: 'Move card' }).click();
    await showsBoard(m, { 'To do': [], Doing: [], Done: ['bystander'] });
    assert.deepEqual(m.errors, []);
    await m.close();
  });
});
