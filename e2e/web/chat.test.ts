// The chat view in Chromium against a real server with small history limits (live part 20 messages, segments of
// 10), so rollovers happen within a test: two people chatting live, scrolling back through sealed history, a client
// working across rollovers, and a change made by a script in the page that the server refuses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chat } from '../../collab/shapes/index.ts';
import { eventually, setUpTeam, type Team, type TestUser } from '../../server/test/harness.ts';
import { skipWithoutChromium, startWebApp, waitForStatus, type AppPage, type WebApp } from './harness.ts';

type Located = chat.Message & { part: number | null };

let app: WebApp;
let team: Team;

async function newChannel(name: string): Promise<string> {
  const res = await app.server.call('POST', `/api/groups/${team.groupId}/channels`, { token: team.owner.token, json: { name, type: 'TEXT' } });
  assert.equal(res.status, 201);
  return res.body.id;
}

/** The whole history over REST, oldest first. */
async function history(channel: string, user: TestUser = team.owner, thread?: string): Promise<Located[]> {
  const pages: Located[][] = [];
  let before: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '50', ...(before && { before }), ...(thread && { thread }) });
    const res: { status: number; body: { messages: Located[]; next_before: string | null } } = await app.server.call('GET', `/api/channels/${channel}/messages?${query}`, { token: user.token });
    assert.equal(res.status, 200);
    pages.unshift(res.body.messages);
    before = res.body.next_before;
  } while (before);
  return pages.flat();
}

const messages = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByTestId('message');
const shownTexts = (page: Page) => messages(page).locator('.text .body').allTextContents();
const message = (page: Page, text: string) => messages(page).filter({ has: page.locator('.text .body', { hasText: new RegExp(`^${text}$`) }) });

async function post(page: Page, text: string, box = 'Message'): Promise<void> {
  await page.getByLabel(box, { exact: true }).fill(text);
  await page.getByLabel(box, { exact: true }).press('Enter');
}

async function until(check: () => Promise<void>, ms = 15_000): Promise<void> {
  await eventually(check, ms);
}

describe('chat in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp({ COLLAB_CHAT_LIVE_MESSAGES: '20', COLLAB_CHAT_SEGMENT_MESSAGES: '10' });
    team = await setUpTeam(app.server);
  });
  after(async () => {
    await app?.close();
  });

  it('two people chat live: post, thread, react, edit, delete, moderation, presence and typing', async () => {
    const channel = await newChannel('general');
    const ana = await app.open(team.member, `/channels/${channel}`);
    const ben = await app.open(team.owner, `/channels/${channel}`);
    const { member, owner } = team;

    // Who is here, and who is typing, by the names the server stamped.
    await ana.page.getByTestId('presence').filter({ hasText: `${owner.username} is here` }).waitFor();
    await ben.page.getByTestId('presence').filter({ hasText: `${member.username} is here` }).waitFor();
    await ben.page.getByLabel('Message', { exact: true }).fill('typing…');
    await ana.page.getByTestId('typing').filter({ hasText: `${owner.username} is typing…` }).waitFor();
    await ana.screenshot('chat-typing');
    await ben.page.getByLabel('Message', { exact: true }).fill('');

    await post(ana.page, 'hello team');
    await message(ben.page, 'hello team').waitFor();
    await post(ana.page, 'first line\nsecond line');
    await ana.page.getByLabel('Message', { exact: true }).fill('line one');
    await ana.page.getByLabel('Message', { exact: true }).press('Shift+Enter');
    await ana.page.getByLabel('Message', { exact: true }).pressSequentially('line two');
    assert.equal(await ana.page.getByLabel('Message', { exact: true }).inputValue(), 'line one\nline two', 'Shift+Enter is a new line, not a send');
    await ana.page.getByLabel('Message', { exact: true }).fill('');

    // A reply in a thread; the parent shows its count to both.
    await message(ben.page, 'hello team').getByRole('button', { name: 'Reply in thread' }).click();
    await post(ben.page, 'welcome!', 'Reply in thread');
    await ben.page.getByRole('complementary', { name: 'Thread' }).getByText('welcome!').waitFor();
    await message(ana.page, 'hello team').getByRole('button', { name: '1 reply' }).waitFor();
    assert.equal(await message(ana.page, 'welcome!').count(), 0, 'replies stay in their thread');
    await ben.screenshot('chat-thread');

    // Reactions: Ben reacts, Ana sees who; Ana adds hers and takes it back.
    await message(ben.page, 'hello team').getByRole('button', { name: 'React', exact: true }).click();
    await message(ben.page, 'hello team').getByRole('button', { name: 'React with 👍' }).click();
    const anaThumb = message(ana.page, 'hello team').getByRole('button', { name: `👍 1: ${owner.username}` });
    await anaThumb.waitFor();
    assert.equal(await anaThumb.getAttribute('aria-pressed'), 'false');
    await anaThumb.click();
    await message(ben.page, 'hello team').getByRole('button', { name: `👍 2: ${owner.username}, ${member.username}` }).or(
      message(ben.page, 'hello team').getByRole('button', { name: `👍 2: ${member.username}, ${owner.username}` }),
    ).waitFor();
    await message(ana.page, 'hello team').getByRole('button', { name: /^👍 2/ }).click();
    await message(ben.page, 'hello team').getByRole('button', { name: `👍 1: ${owner.username}` }).waitFor();

    // Edits of one's own messages only; deletes of one's own, and anyone's by an owner or admin.
    assert.equal(await message(ana.page, 'welcome!').count(), 0);
    await message(ana.page, 'hello team').getByRole('button', { name: 'Edit' }).click();
    await ana.page.getByLabel('Edit message').fill('hello everyone');
    await ana.page.getByLabel('Edit message').press('Enter');
    await message(ben.page, 'hello everyone').filter({ hasText: '(edited)' }).waitFor();
    assert.equal(await message(ben.page, 'hello everyone').getByRole('button', { name: 'Edit' }).count(), 0, 'no editing of others’ messages');
    assert.equal(await message(ana.page, 'hello everyone').getByRole('button', { name: 'Edit' }).count(), 1);

    await post(ben.page, 'a note from the owner');
    await message(ana.page, 'a note from the owner').waitFor();
    assert.equal(await message(ana.page, 'a note from the owner').getByRole('button', { name: /Delete/ }).count(), 0, 'a member deletes only their own');
    await post(ana.page, 'oops, wrong channel');
    await message(ana.page, 'oops, wrong channel').getByRole('button', { name: 'Delete', exact: true }).click();
    await message(ana.page, 'oops, wrong channel').getByRole('button', { name: 'Yes, delete' }).click();
    await post(ana.page, 'buy cheap watches');
    await message(ben.page, 'buy cheap watches').getByRole('button', { name: 'Delete (moderator)' }).click();
    await message(ben.page, 'buy cheap watches').getByRole('button', { name: 'Yes, delete' }).click();
    await until(async () => {
      assert.equal(await messages(ana.page).filter({ hasText: 'This message was deleted.' }).count(), 2);
      assert.equal(await message(ana.page, 'buy cheap watches').count(), 0, 'the member sees the moderated message go');
    });
    await waitForStatus(ana.page, /All changes saved/);
    await ana.screenshot('chat-live');

    const stored = await history(channel);
    assert.deepEqual(
      stored.map((m) => [m.author_id, m.text, m.deleted, !!m.edited_at]),
      [
        [member.id, 'hello everyone', false, true],
        [member.id, 'first line\nsecond line', false, false],
        [owner.id, 'welcome!', false, false],
        [owner.id, 'a note from the owner', false, false],
        [member.id, '', true, false],
        [member.id, '', true, false],
      ],
    );
    assert.deepEqual(stored[0]!.reactions, { '👍': [owner.id] });
    assert.equal(stored[2]!.parent_id, stored[0]!.id);
    for (const p of [ana, ben]) assert.deepEqual(p.errors, []);
    await Promise.all([ana.close(), ben.close()]);
  });

  it('scrolls back through sealed history to the first message, and reacts to a message in a segment', async () => {
    const channel = await newChannel('long');
    for (let i = 0; i < 45; i++) {
      await app.server.collab.change(channel, (doc) => chat.postMessage(doc, { author_id: team.owner.id, text: `m${i}` }));
    }
    await app.server.collab.history.rollOver(channel);
    const stored = await history(channel);
    assert.ok(stored.filter((m) => m.part !== null).length >= 20, 'most of it is sealed in segments');

    const ana = await app.open(team.member, `/channels/${channel}`, { viewport: { width: 390, height: 844 } });
    await message(ana.page, 'm44').waitFor();
    await ana.screenshot('chat-phone');
    const log = ana.page.getByTestId('chat-log');
    const start = ana.page.getByText('This is the start of the conversation.');
    await until(async () => {
      await log.evaluate((el) => el.scrollTo({ top: 0 }));
      assert.ok(await start.isVisible(), 'scrolled to the start');
    }, 30_000);
    assert.deepEqual(await shownTexts(ana.page), stored.map((m) => m.text), 'every message once, in order');
    await ana.screenshot('chat-history-start');

    // m0 lives in segment 0: reacting opens that segment over /collab.
    assert.equal(stored[0]!.part, 0);
    await message(ana.page, 'm0').getByRole('button', { name: 'React', exact: true }).click();
    await message(ana.page, 'm0').getByRole('button', { name: 'React with 🎉' }).click();
    await message(ana.page, 'm0').getByRole('button', { name: `🎉 1: ${team.member.username}` }).waitFor();
    await until(async () => assert.deepEqual((await history(channel))[0]!.reactions, { '🎉': [team.member.id] }));
    assert.deepEqual(ana.errors, []);
    await ana.close();
  });

  it('opens a cited message deep in history, highlighted, and names the AI assistant, which is in no group', async () => {
    const channel = await newChannel('cited');
    const { rows: [bot] } = await app.server.database.pool.query<{ id: string }>(
      `INSERT INTO users (username, email, password_hash, display_name, is_bot) VALUES ('chat-bot', 'chat-bot@bot.invalid', 'x', 'AI helper', true) RETURNING id`,
    );
    const posted = [];
    for (let i = 0; i < 70; i++) {
      posted.push(await app.server.collab.change(channel, (doc) => chat.postMessage(doc, { author_id: i === 2 ? bot!.id : team.owner.id, text: `c${i}` })));
    }
    await app.server.collab.history.rollOver(channel);
    assert.equal((await history(channel))[2]!.part, 0, 'the cited message is sealed, more than a page back');

    const ana = await app.open(team.member, `/channels/${channel}?focus=${posted[2]!.id}`);
    const cited = message(ana.page, 'c2');
    await cited.and(ana.page.locator('.focused')).waitFor();
    assert.ok(await cited.isVisible(), 'scrolled into view');
    await cited.getByText('AI helper').waitFor();
    assert.match(await cited.getAttribute('aria-label') ?? '', /^AI helper, /, 'the bot is named by the server');
    await ana.screenshot('chat-focus');
    assert.deepEqual(ana.errors, []);
    await ana.close();
  });

  it('keeps working across rollovers: both people stay in sync, nothing lost or duplicated', async () => {
    const channel = await newChannel('busy');
    const ana = await app.open(team.member, `/channels/${channel}`);
    const ben = await app.open(team.owner, `/channels/${channel}`);
    const sent: string[] = [];
    for (let i = 0; i < 24; i++) {
      const [who, name] = i % 2 ? [ben, 'ben'] : [ana, 'ana'];
      await post(who.page, `${name} ${i}`);
      sent.push(`${name} ${i}`);
      await message(who.page, `${name} ${i}`).waitFor();
    }
    await until(async () => {
      const { rows } = await app.server.database.pool.query('SELECT count(*)::int AS n FROM chat_segments WHERE channel_id = $1', [channel]);
      assert.ok(rows[0].n >= 1, 'the live part rolled over');
    });
    // Posting goes on after the rollover, into the new generation.
    await post(ben.page, 'after the rollover');
    sent.push('after the rollover');
    await until(async () => {
      const stored = (await history(channel)).map((m) => m.text);
      assert.deepEqual(stored, sent);
      for (const p of [ana, ben]) assert.deepEqual(await shownTexts(p.page), sent);
    }, 30_000);
    await ana.screenshot('chat-after-rollover');
    // An old message, now sealed, still takes an edit from its author, and the other person sees it live.
    const first = (await history(channel))[0]!;
    assert.notEqual(first.part, null);
    await message(ana.page, 'ana 0').getByRole('button', { name: 'Edit' }).click();
    await ana.page.getByLabel('Edit message').fill('ana 0, edited');
    await ana.page.getByRole('button', { name: 'Save' }).click();
    await message(ben.page, 'ana 0, edited').waitFor({ timeout: 15_000 });
    await until(async () => assert.equal((await history(channel))[0]!.text, 'ana 0, edited'));
    for (const p of [ana, ben]) assert.deepEqual(p.errors, []);
    await Promise.all([ana.close(), ben.close()]);
  });

  it('shows a change the server refused (a script editing someone else’s message) and ends with the server’s text', async () => {
    const channel = await newChannel('forgery');
    const ben = await app.open(team.owner, `/channels/${channel}`);
    const ana = await app.open(team.member, `/channels/${channel}`);
    await post(ben.page, 'the meeting is at 10');
    await post(ana.page, 'noted');
    await message(ana.page, 'the meeting is at 10').waitFor();
    await waitForStatus(ana.page, /All changes saved/);
    const [bens, anas] = await history(channel);
    assert.equal(bens!.text, 'the meeting is at 10');

    const scriptEdit = (page: AppPage, id: string, text: string) =>
      page.page.evaluate(([channelId, messageId, newText]) => {
        const { docs, shapes } = (globalThis as unknown as { teamspace: { docs: Map<string, { doc: unknown }>; shapes: { chat: typeof chat } } }).teamspace;
        shapes.chat.editMessage(docs.get(channelId!)!.doc as Parameters<typeof chat.editMessage>[0], messageId!, newText!);
      }, [channel, id, text]);

    // Positive control: the same script editing Ana's own message is accepted.
    await scriptEdit(ana, anas!.id, 'noted, thanks');
    await until(async () => assert.equal((await history(channel))[1]!.text, 'noted, thanks'));
    await waitForStatus(ana.page, /All changes saved/);
    assert.equal(await ana.page.getByTestId('refusals').count(), 0);

    await scriptEdit(ana, bens!.id, 'the meeting is cancelled');
    const refusal = ana.page.getByTestId('refusals');
    await refusal.locator('[data-rule="chat.edit"]').first().waitFor();
    await message(ana.page, 'the meeting is at 10').waitFor();
    assert.equal(await message(ana.page, 'the meeting is cancelled').count(), 0, 'the refused text is gone from the page');
    await ana.screenshot('chat-refused');
    const stored = await history(channel);
    assert.deepEqual(stored.map((m) => m.text), ['the meeting is at 10', 'noted, thanks']);
    assert.deepEqual(await shownTexts(ana.page), ['the meeting is at 10', 'noted, thanks']);
    assert.deepEqual(await shownTexts(ben.page), ['the meeting is at 10', 'noted, thanks'], 'no one else ever saw it');
    await Promise.all([ana.close(), ben.close()]);
  });
});
