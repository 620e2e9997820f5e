// Chat history in parts: rollovers seal the oldest messages into segments and start a new generation of the live
// part; clients reopen it, page back through segments, and lose nothing they wrote meanwhile.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as Y from 'yjs';
import { Redis } from 'ioredis';
import { eventually, setUpTeam, startTestServer, testDb, type Team, type TestServer } from '../../server/test/harness.ts';
import { segmentName } from '../history/index.ts';
import { chat } from '../shapes/index.ts';
import { ChatClient } from './chat-client.ts';
import { connect, goOffline, refusalsOf, waitFor, type Client } from './clients.ts';

const LIMITS = { COLLAB_CHAT_LIVE_MESSAGES: '10', COLLAB_CHAT_SEGMENT_MESSAGES: '4' };

describe('chat history in parts', () => {
  let server: TestServer;
  let team: Team;
  const open: Client[] = [];
  before(async () => {
    server = await startTestServer(LIMITS);
    team = await setUpTeam(server, ['TEXT']);
  });
  after(async () => {
    for (const c of open) c.close();
    await server?.close();
  });

  const texts = (doc: Y.Doc) => chat.readMessages(doc).map((m) => m.text);

  it('a rollover seals the oldest messages into segments and keeps the newest live', async () => {
    const channel = (await server.call('POST', `/api/groups/${team.groupId}/channels`, {
      token: team.owner.token, json: { name: 'rolling', type: 'TEXT' },
    })).body.id as string;
    const alice = await connect(server, channel, team.owner.token);
    open.push(alice);
    for (let i = 0; i < 12; i++) {
      chat.writeMessage(alice.doc, { author_id: team.owner.id, text: `m${i}` });
      await alice.saved();
    }
    const done = await server.collab.history.rollOver(channel);
    // Half the limit stays live, less what fills whole segments: 12 - 5 = 7 over, one segment of 4 sealed.
    assert.deepEqual({ sealed: done?.sealed, segments: done?.segments.length, kept: done?.kept }, { sealed: 4, segments: 1, kept: 8 });
    assert.equal(await alice.refusal, 'history rolled over', 'the old generation is closed');

    const fresh = await connect(server, channel, team.member.token);
    open.push(fresh);
    assert.deepEqual(texts(fresh.doc), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11']);
    const first = await connect(server, segmentName(channel, 0), team.member.token);
    open.push(first);
    assert.deepEqual(texts(first.doc), ['m0', 'm1', 'm2', 'm3']);
    assert.ok(chat.readMessages(first.doc).every((m) => m.received_at), 'the server time travels with each message');

    // The new generation takes new messages (not one under a sealed message's id); a segment takes none, but its
    // messages are still edited.
    const liveRefusals = refusalsOf(fresh);
    const sealedId = chat.readMessages(first.doc)[1]!.id;
    chat.writeMessage(fresh.doc, { id: sealedId, author_id: team.member.id, text: 'an id from the past' });
    await waitFor(() => liveRefusals.some((r) => r.rule === 'chat.id'), 'the duplicate id refusal');
    chat.writeMessage(fresh.doc, { author_id: team.member.id, text: 'after' });
    await fresh.saved();
    assert.deepEqual(liveRefusals.map((r) => r.rule), ['chat.id'], 'the fresh id is taken');
    const refusals = refusalsOf(first);
    chat.writeMessage(first.doc, { author_id: team.member.id, text: 'into the past' });
    await waitFor(() => refusals.some((r) => r.rule === 'chat.sealed'), 'the sealed refusal');
    const owner = await connect(server, segmentName(channel, 0), team.owner.token);
    open.push(owner);
    chat.editMessage(owner.doc, chat.readMessages(owner.doc)[0]!.id, 'm0, edited');
    await owner.saved();
    await waitFor(() => texts(first.doc)[0] === 'm0, edited', 'the edit reaches other readers of the segment');
    assert.deepEqual(texts(first.doc), ['m0, edited', 'm1', 'm2', 'm3']);

    const reopened = await connect(server, channel, team.owner.token);
    open.push(reopened);
    assert.deepEqual(texts(reopened.doc), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'after']);
  });

  /** Resolves with the history notices a client receives (rolled-over, stale), as they arrive. */
  function historyNotices(c: Client): { event: string; generation: number }[] {
    const seen: { event: string; generation: number }[] = [];
    c.provider.on('stateless', ({ payload }: { payload: string }) => {
      const notice = JSON.parse(payload) as { type: string; event: string; generation: number };
      if (notice.type === 'history') seen.push(notice);
    });
    return seen;
  }

  async function newChannel(name: string): Promise<string> {
    const res = await server.call('POST', `/api/groups/${team.groupId}/channels`, {
      token: team.owner.token, json: { name, type: 'TEXT' },
    });
    return res.body.id as string;
  }

  it('a client offline across a rollover keeps what it wrote: posts, edits, reactions, deletions, replies', async () => {
    const channel = await newChannel('offline');
    const alice = await connect(server, channel, team.owner.token);
    const bob = await connect(server, channel, team.member.token);
    open.push(alice, bob);
    for (let i = 0; i < 12; i++) {
      const c = i % 3 === 0 ? bob : alice;
      chat.writeMessage(c.doc, { author_id: i % 3 === 0 ? team.member.id : team.owner.id, text: `m${i}` });
      await c.saved();
    }
    await waitFor(() => chat.readMessages(bob.doc).length === 12, 'bob has everything');
    await goOffline(bob);
    const byText = (text: string) => chat.readMessages(bob.doc).find((m) => m.text === text)!;
    chat.editMessage(bob.doc, byText('m0').id, 'm0, edited offline');
    chat.react(bob.doc, byText('m1').id, '👍', team.member.id, true);
    chat.deleteMessage(bob.doc, byText('m3').id);
    chat.writeMessage(bob.doc, { author_id: team.member.id, text: 'a reply to m2', parent_id: byText('m2').id });
    chat.writeMessage(bob.doc, { author_id: team.member.id, text: 'written offline' });
    // Someone else's message that bob's copy holds unsaved is not his to post.
    chat.writeMessage(bob.doc, { author_id: team.owner.id, text: 'forged' });

    const done = await server.collab.history.rollOver(channel);
    assert.equal(done?.sealed, 4);
    const notices = historyNotices(bob);
    await bob.socket.connect();
    await waitFor(() => notices.some((n) => n.event === 'stale'), 'bob is told his copy is stale', 10_000);
    assert.equal(bob.provider.unsyncedChanges, 0, 'what bob had not saved was acknowledged before the notice');
    const ids = chat.readMessages(bob.doc).map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'nothing of the new generation was merged into the stale copy');

    const fresh = await connect(server, channel, team.member.token);
    const first = await connect(server, segmentName(channel, 0), team.member.token);
    open.push(fresh, first);
    const live = chat.readMessages(fresh.doc);
    assert.deepEqual(live.map((m) => m.text), [
      'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'a reply to m2', 'written offline',
    ]);
    assert.equal(live[8]!.parent_id, byText('m2').id, 'the reply answers a message now sealed in a segment');
    const sealed = chat.readMessages(first.doc);
    const at = (text: string) => sealed.find((m) => m.text === text || m.id === byText(text)?.id)!;
    assert.equal(sealed[0]!.text, 'm0, edited offline');
    assert.deepEqual(at('m1').reactions, { '👍': [team.member.id] });
    assert.equal(sealed[3]!.deleted, true);
    assert.ok(!live.some((m) => m.text === 'forged') && !sealed.some((m) => m.text === 'forged'));
  });

  it('REST pages through all of history and threads across parts, opening only the segments a page needs', async () => {
    const channel = await newChannel('paging');
    const post = (text: string, parent_id?: string) =>
      server.collab.change(channel, (doc) => chat.postMessage(doc, { author_id: team.owner.id, text, parent_id }));
    const root = await post('root');
    const expected = ['root'];
    for (let i = 0; i < 30; i++) {
      const reply = i % 4 === 0;
      await post(reply ? `reply ${i}` : `m${i}`, reply ? root.id : undefined);
      expected.push(reply ? `reply ${i}` : `m${i}`);
      if (i === 14) await server.collab.history.rollOver(channel);
    }
    await server.collab.history.rollOver(channel);
    const { rows } = await server.database.pool.query('SELECT count(*)::int AS n FROM chat_segments WHERE channel_id = $1', [channel]);
    assert.ok(rows[0].n >= 4, `several segments (${rows[0].n})`);

    const pages: string[][] = [];
    let before: string | null | undefined;
    do {
      const query = before ? `?limit=7&before=${before}` : '?limit=7';
      const res = await server.call('GET', `/api/channels/${channel}/messages${query}`, { token: team.member.token });
      assert.equal(res.status, 200);
      pages.unshift(res.body.messages.map((m: { text: string }) => m.text));
      before = res.body.next_before;
    } while (before);
    assert.deepEqual(pages.flat(), expected, 'every message once, in the order the server stored them');
    assert.ok(pages.slice(1).every((p) => p.length === 7), 'full pages');

    // Each message says which part holds it (null: the live part), so a client knows which document to open.
    const located = await wholeHistory(server, channel, team.member.token);
    const holds = async (part: number | null, id: string) =>
      server.collab.read(part === null ? channel : segmentName(channel, part), (doc) => chat.readMessageById(doc, id) !== undefined);
    for (const m of located) assert.ok(await holds(m.part, m.id), `${m.text} is in part ${m.part}`);
    assert.ok(located.some((m) => m.part === null) && located.some((m) => m.part === 0), 'live and sealed messages both');

    const thread = await server.call('GET', `/api/channels/${channel}/messages?thread=${root.id}&limit=3`, { token: team.member.token });
    const older = await server.call('GET', `/api/channels/${channel}/messages?thread=${root.id}&limit=3&before=${thread.body.next_before}`, { token: team.member.token });
    assert.deepEqual(
      [...older.body.messages, ...thread.body.messages].map((m: { text: string }) => m.text),
      ['reply 8', 'reply 12', 'reply 16', 'reply 20', 'reply 24', 'reply 28'],
      'a thread spans the parts its replies were sealed into',
    );
    const unknown = await server.call('GET', `/api/channels/${channel}/messages?before=${crypto.randomUUID()}`, { token: team.member.token });
    assert.equal(unknown.status, 404);
  });

  it('a document name that is no segment of the channel is refused', async () => {
    const missing = await connect(server, segmentName(team.channels.TEXT!, 99), team.owner.token, { expectRefusal: true });
    open.push(missing);
    assert.equal(await missing.refusal, 'not-found');
  });
});

/** Every message of a channel's history over REST, oldest first, following `next_before`. */
type Located = chat.Message & { part: number | null };

async function wholeHistory(server: TestServer, channel: string, token: string): Promise<Located[]> {
  const pages: Located[][] = [];
  let before: string | null = null;
  do {
    const res: { status: number; body: { messages: Located[]; next_before: string | null } } = await server.call('GET', `/api/channels/${channel}/messages?limit=50${before ? `&before=${before}` : ''}`, { token });
    assert.equal(res.status, 200);
    pages.unshift(res.body.messages);
    before = res.body.next_before;
  } while (before);
  return pages.flat();
}

const redisUrl = process.env.REDIS_URL;
const ci = process.env.CI === 'true' || process.env.CI === '1';
const skipInstances = testDb !== 'postgres' ? 'instances share PostgreSQL' : !redisUrl && !ci ? 'REDIS_URL is not set' : false;

describe('chat history across instances', { skip: skipInstances }, () => {
  let one: TestServer;
  let two: TestServer;
  before(async () => {
    if (!redisUrl) throw new Error('REDIS_URL is not set: run scripts/install-test-deps.sh and set it');
    const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await probe.connect();
    probe.disconnect();
    // One key for both: either instance may roll over what the other stored.
    const shared = { REDIS_URL: redisUrl, ENCRYPTION_KEY: randomBytes(32).toString('base64'), ...LIMITS };
    one = await startTestServer(shared);
    two = await startTestServer({ ...shared, DATABASE_URL: one.databaseUrl!, JWT_SECRET: one.jwtSecret });
  });
  after(async () => {
    await two?.close();
    await one?.close();
  });

  it('rollovers on both instances while writers on each keep posting lose, duplicate and reorder nothing', async (t) => {
    const team = await setUpTeam(one, ['TEXT']);
    const channel = team.channels.TEXT!;
    const alice = await ChatClient.open(one, channel, team.owner.token);
    const bob = await ChatClient.open(two, channel, team.member.token);
    t.after(() => {
      alice.close();
      bob.close();
    });
    let writing = true;
    let forced = 0;
    const roller = (async () => {
      for (let i = 0; writing; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        if ((await (i % 2 ? one : two).collab.history.rollOver(channel))?.sealed) forced++;
      }
    })();
    const write = async (client: ChatClient, author: string, prefix: string) => {
      for (let i = 0; i < 30; i++) await client.post(author, `${prefix}${i}`);
    };
    try {
      await Promise.all([write(alice, team.owner.id, 'a'), write(bob, team.member.id, 'b')]);
    } finally {
      writing = false;
      await roller;
    }
    assert.ok(forced >= 2, `rollovers happened while they wrote (${forced})`);
    // Instance one holds the live part in memory, and what bob's instance stored last reaches it over Redis a
    // moment after bob was told it was saved: read until both instances show every message (or the wait is up).
    const read = async (server: TestServer) => (await wholeHistory(server, channel, team.member.token)).map((m) => m.text);
    const deadline = Date.now() + 10_000;
    let texts = await read(one);
    while (texts.length < 60 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      texts = await read(one);
    }
    for (const prefix of ['a', 'b']) {
      const mine = texts.filter((t) => t.startsWith(prefix));
      assert.deepEqual(mine, Array.from({ length: 30 }, (_, i) => `${prefix}${i}`), `${prefix}: each once, in order`);
    }
    assert.equal(texts.length, 60);
    await eventually(async () => assert.deepEqual(await read(two), texts, 'both instances agree'), 10_000);
  });
});
