// Calls in a real browser: Debian's Chromium runs the reference client (call-client.ts) against a running server
// with a mediasoup worker, and the tests read WebRTC's own statistics to see media arrive and keep arriving.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer, type TestUser } from '../server/test/harness.ts';
import { findWorkerBinary } from '../sfu/index.ts';
import {
  chromiumInstalled,
  chromiumPath,
  launchCallBrowser,
  startCoturn,
  turnserverInstalled,
  turnserverPath,
  type CallBrowser,
  type Coturn,
  type Participant,
  type StreamSample,
} from './index.ts';
import { ci, skipUnlessInstalled } from './executable.ts';

const forCalls = [
  !chromiumInstalled() && `Chromium at ${chromiumPath} (apt-get install chromium)`,
  !findWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).binary && 'the mediasoup worker (scripts/install-mediasoup-worker.sh)',
].filter((problem) => problem !== false);
const forTurn = turnserverInstalled() ? [] : [`coturn at ${turnserverPath} (apt-get install coturn)`];

const skipUnless = (missing: string[]) => skipUnlessInstalled(missing, 'browser call tests');

let server: TestServer;
let team: Team;
/** A second member, so that three people can send. */
let third: TestUser;
let browser: CallBrowser | undefined;
let coturn: Coturn | undefined;
const open: Participant[] = [];

/** A new VOICE channel of the team, so that each test has its own call. */
async function voiceChannel(): Promise<string> {
  const res = await server.call('POST', `/api/groups/${team.groupId}/channels`, {
    token: team.owner.token, json: { name: `call-${Math.random().toString(36).slice(2, 8)}`, type: 'VOICE' },
  });
  assert.equal(res.status, 201);
  return res.body.id;
}

async function participants(channel: string): Promise<string[]> {
  const res = await server.call('GET', `/api/channels/${channel}/call`, { token: team.viewer.token });
  assert.equal(res.status, 200);
  return res.body.participants.map((p: { id: string }) => p.id).sort();
}

interface Joined {
  page: Participant;
  peerId: string;
  role: string;
  turnUsername?: string;
}

/** Opens a page for `user` and joins the call; `send` sends the fake microphone and camera. */
async function join(user: TestUser, channel: string, options: { send: boolean; relay?: boolean }): Promise<Joined> {
  const page = await browser!.open(user.username);
  open.push(page);
  const joined = await page.run('join', {
    serverUrl: server.url, token: user.token, channelId: channel, displayName: user.username, ...options,
  });
  return { page, ...joined };
}

/** Polls `check` until it says done; on timeout fails with what it last saw and what the pages reported. */
async function waitFor<T>(what: string, ms: number, check: () => Promise<{ done: boolean; seen: T }>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { done, seen } = await check();
    if (done) return seen;
    if (Date.now() > deadline) {
      const errors = open.flatMap((p) => p.errors);
      assert.fail(`${what}: not within ${ms} ms.\nlast seen: ${JSON.stringify(seen, null, 1)}` +
        (errors.length ? `\npage errors:\n${errors.join('\n')}` : ''));
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Expected {
  peerId: string;
  kind: 'audio' | 'video';
  source: string;
}

const key = (s: Expected) => `${s.peerId}/${s.source}/${s.kind}`;

/** Media arrives: bytes, and decoded frames for video or audio energy for audio (the tone), all above `than`. */
function flows(sample: StreamSample, than?: StreamSample): boolean {
  const measure = sample.kind === 'video' ? 'framesDecoded' : 'totalAudioEnergy';
  return sample.bytesReceived > (than?.bytesReceived ?? 0) && sample[measure] > (than?.[measure] ?? 0);
}

/**
 * Waits until `receiver` gets exactly the `expected` streams with media arriving, then until each one's counters
 * rise again between that sample and a later one: media keeps flowing, not just a first burst.
 */
async function assertReceives(receiver: Joined, expected: Expected[], ms = 25_000): Promise<void> {
  const wanted = expected.map(key).sort();
  const first = await waitFor(`${receiver.page.name} receiving ${wanted.join(', ')}`, ms, async () => {
    const seen = await receiver.page.run('inbound');
    const done = JSON.stringify(seen.map(key).sort()) === JSON.stringify(wanted) && seen.every((s) => flows(s));
    return { done, seen };
  });
  const before = new Map(first.map((s) => [s.consumerId, s]));
  await waitFor(`${receiver.page.name}: counters rising on every stream`, ms, async () => {
    const seen = await receiver.page.run('inbound');
    return { done: seen.length === before.size && seen.every((s) => flows(s, before.get(s.consumerId))), seen };
  });
}

/** What everyone but `receiver` sends with microphone and camera. */
function micAndWebcamOf(senders: Joined[], receiver: Joined): Expected[] {
  return senders.filter((s) => s !== receiver).flatMap((s) => [
    { peerId: s.peerId, kind: 'audio' as const, source: 'mic' },
    { peerId: s.peerId, kind: 'video' as const, source: 'webcam' },
  ]);
}

describe('calls in Chromium', { skip: skipUnless(forCalls) }, () => {
  before(async () => {
    const missing = [...forCalls, ...forTurn];
    if (ci && missing.length) throw new Error(`CI=true: missing ${missing.join(', ')}`);
    if (!forTurn.length) coturn = await startCoturn();
    browser = await launchCallBrowser();
    server = await startTestServer({
      SFU_WORKERS: '1',
      // The test page is served from its own origin and fetches TURN credentials from the server.
      CORS_ORIGINS: browser.origin,
      ...(coturn ? { TURN_SECRET: coturn.secret, TURN_URIS: coturn.uri } : {}),
    });
    team = await setUpTeam(server, ['VOICE']);
    third = await server.signUp('third');
    const added = await server.call('POST', `/api/groups/${team.groupId}/members`, {
      token: team.owner.token, json: { user_id: third.id, role: 'member' },
    });
    assert.equal(added.status, 201);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((page) => page.close()));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await coturn?.stop();
  });

  it('three participants each receive the other two\'s audio and video, and it keeps flowing', { timeout: 60_000 }, async () => {
    const channel = await voiceChannel();
    const people = await Promise.all([team.owner, team.member, third].map((u) => join(u, channel, { send: true })));
    await Promise.all(people.map((p) => assertReceives(p, micAndWebcamOf(people, p))));
    // Cameras are sent in simulcast layers; microphones are plain.
    for (const person of people) {
      const types = (await person.page.run('streams')).map((s) => `${s.source}:${s.type}`).sort();
      assert.deepEqual(types, ['mic:simple', 'mic:simple', 'webcam:simulcast', 'webcam:simulcast']);
    }
  });

  it('a screen shared with getDisplayMedia reaches the others, a viewer too', { timeout: 60_000 }, async () => {
    const channel = await voiceChannel();
    const sharer = await join(team.owner, channel, { send: false });
    const member = await join(team.member, channel, { send: false });
    const viewer = await join(team.viewer, channel, { send: false });
    assert.equal(viewer.role, 'viewer');
    // Real getDisplayMedia: Chromium's fake devices include a fake monitor, picked by the fake picker.
    const shared = await sharer.page.run('shareScreen');
    assert.equal(shared.displaySurface, 'monitor', `captured ${JSON.stringify(shared)}`);
    const screen: Expected[] = [{ peerId: sharer.peerId, kind: 'video', source: 'screen' }];
    await Promise.all([assertReceives(member, screen), assertReceives(viewer, screen)]);
  });

  it('one who leaves disappears: the others hear peerLeft, its streams close, the call no longer lists it', { timeout: 60_000 }, async () => {
    const channel = await voiceChannel();
    const people = await Promise.all([team.owner, team.member, third].map((u) => join(u, channel, { send: true })));
    const [stay1, stay2, leaver] = people as [Joined, Joined, Joined];
    const ofLeaver = (streams: { peerId: string; consumerId: string }[]) =>
      streams.filter((s) => s.peerId === leaver.peerId).map((s) => s.consumerId).sort();
    const had = new Map<Joined, string[]>();
    for (const p of [stay1, stay2]) {
      const seen = await waitFor(`${p.page.name} receiving the leaver's two streams`, 20_000, async () => {
        const seen = await p.page.run('streams');
        return { done: ofLeaver(seen).length === 2, seen };
      });
      had.set(p, ofLeaver(seen));
    }
    assert.deepEqual(await participants(channel), people.map((p) => p.peerId).sort());

    await leaver.page.run('leave');
    assert.deepEqual((await leaver.page.run('events')).filter((e) => e.event === 'closed'), [
      { event: 'closed', code: 1000, reason: 'left' },
    ]);

    for (const p of [stay1, stay2]) {
      await waitFor(`${p.page.name} told the leaver left and its streams closed`, 10_000, async () => {
        const [events, streams] = await Promise.all([p.page.run('events'), p.page.run('streams')]);
        const closed = ofLeaver(events.flatMap((e) => (e.event === 'streamClosed' ? [e] : [])));
        const done = events.some((e) => e.event === 'peerLeft' && e.peerId === leaver.peerId) &&
          JSON.stringify(closed) === JSON.stringify(had.get(p)) && ofLeaver(streams).length === 0;
        return { done, seen: { events, streams } };
      });
    }
    await eventually(async () => {
      assert.deepEqual(await participants(channel), [stay1.peerId, stay2.peerId].sort());
    }, 5000);
    // Those who stay still hear each other.
    await assertReceives(stay1, micAndWebcamOf([stay1, stay2], stay1));
  });

  it('a call forced through coturn (iceTransportPolicy relay) carries media over relay candidates', {
    timeout: 60_000, skip: skipUnless(forTurn),
  }, async () => {
    const channel = await voiceChannel();
    const users = [team.owner, team.member];
    const people = await Promise.all(users.map((u) => join(u, channel, { send: true, relay: true })));
    await Promise.all(people.map((p) => assertReceives(p, micAndWebcamOf(people, p))));
    for (const [i, p] of people.entries()) {
      const candidates = await p.page.run('candidates');
      for (const direction of ['send', 'recv'] as const) {
        const pair = candidates[direction];
        assert.equal(pair?.local, 'relay', `${p.page.name} ${direction}: ${JSON.stringify(candidates)}`);
        assert.equal(pair?.state, 'succeeded', `${p.page.name} ${direction}: ${JSON.stringify(candidates)}`);
      }
      // The server's REST-API credentials: `<expiry>:<user id>`, accepted by coturn for an allocation.
      assert.match(p.turnUsername ?? '', new RegExp(`^\\d+:${users[i]!.id}$`));
      const allocated = `user <${p.turnUsername}>: incoming packet ALLOCATE processed, success`;
      assert.ok(coturn!.log().includes(allocated), `coturn's log lacks "${allocated}"`);
    }
  });

  it('when the media worker dies, the client joins again by itself and media flows again', { timeout: 60_000 }, async () => {
    const channel = await voiceChannel();
    const people = await Promise.all([team.owner, team.member].map((u) => join(u, channel, { send: true })));
    await Promise.all(people.map((p) => assertReceives(p, micAndWebcamOf(people, p))));
    const [worker] = server.calls.workers();
    assert.ok(worker && worker.channels.includes(channel), `the call runs on ${JSON.stringify(server.calls.workers())}`);
    process.kill(worker.pid, 'SIGKILL');
    const again = await Promise.all(people.map(async (p) => {
      const peerId = await waitFor(`${p.page.name} joined again`, 20_000, async () => {
        const seen = await p.page.run('peerId');
        return { done: seen !== p.peerId && seen !== '', seen };
      });
      return { ...p, peerId };
    }));
    await Promise.all(again.map((p) => assertReceives(p, micAndWebcamOf(again, p))));
    assert.deepEqual(await participants(channel), again.map((p) => p.peerId).sort());
  });
});
