// Calls in the web client: people join a VOICE channel's call through the app's buttons in Chromium (fake camera,
// a tone as microphone, a fake monitor to share), and the tests read what arrives from the receivers' own WebRTC
// statistics (the call is on `globalThis.teamspace.call`), what the tiles show, and what the server reports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, setUpTeam, type Team, type TestUser } from '../../server/test/harness.ts';
import { findWorkerBinary } from '../../sfu/index.ts';
import { startCoturn, turnserverInstalled, type Coturn } from '../coturn.ts';
import { ci, skipUnlessInstalled } from '../executable.ts';
import { changePasswordInForm, skipWithoutChromium, startWebApp, type AppPage, type WebApp } from './harness.ts';

const workerMissing = findWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).binary ? [] : ['the mediasoup worker (scripts/install-mediasoup-worker.sh)'];
const skip = skipWithoutChromium() || skipUnlessInstalled(workerMissing, 'web client call tests');

interface Inbound {
  peerId: string;
  source: string;
  kind: string;
  consumerId: string;
  bytes: number;
  /** Frames decoded (video) or audio energy (audio): the media was not just received but played. */
  played: number;
}

/** Every received stream of the page's call with its `inbound-rtp` counters. */
function inbound(page: Page): Promise<Inbound[]> {
  return page.evaluate(async () => {
    type Stream = { peerId: string; source: string; consumer: { id: string; kind: string; localId: string } };
    type Stat = { type: string; mid: string; bytesReceived?: number; framesDecoded?: number; totalAudioEnergy?: number };
    type CallForTests = { streams: Map<string, Stream>; recvTransport?: { getStats(): Promise<Map<string, Stat>> } };
    const { call } = (globalThis as unknown as { teamspace: { call: CallForTests } }).teamspace;
    const byMid = new Map<string, Stat>();
    for (const stat of (await call.recvTransport?.getStats())?.values() ?? []) if (stat.type === 'inbound-rtp') byMid.set(stat.mid, stat);
    return [...call.streams.values()].map(({ peerId, source, consumer }) => {
      const stat = byMid.get(consumer.localId);
      return {
        peerId, source, kind: consumer.kind, consumerId: consumer.id, bytes: stat?.bytesReceived ?? 0,
        played: (consumer.kind === 'video' ? stat?.framesDecoded : stat?.totalAudioEnergy) ?? 0,
      };
    });
  });
}

const peerIdOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { teamspace: { call: { peerId: string } } }).teamspace.call.peerId);

/** Waits until `receiver` gets media on each of `wanted` (`<peer>/<source>`), then until every counter rises again. */
async function assertReceives(receiver: AppPage, wanted: string[], ms = 30_000): Promise<void> {
  const key = (s: Inbound) => `${s.peerId}/${s.source}`;
  const pick = (seen: Inbound[]) => seen.filter((s) => wanted.includes(key(s)));
  const first = await eventually(async () => {
    const seen = pick(await inbound(receiver.page));
    assert.deepEqual(seen.map(key).sort(), [...wanted].sort(), `${receiver.user.username} receives`);
    for (const s of seen) assert.ok(s.bytes > 0 && s.played > 0, `${receiver.user.username}: ${key(s)} flows: ${JSON.stringify(s)}`);
    return seen;
  }, ms);
  await eventually(async () => {
    for (const s of pick(await inbound(receiver.page))) {
      const before = first.find((f) => f.consumerId === s.consumerId)!;
      assert.ok(s.bytes > before.bytes && s.played > before.played, `${receiver.user.username}: ${key(s)} keeps flowing`);
    }
  }, ms);
}

const tiles = (page: Page) => page.getByRole('list', { name: 'Participants' }).getByRole('listitem');
const tileOf = (page: Page, user: TestUser) => tiles(page).filter({ hasText: user.username });

let app: WebApp;
let coturn: Coturn | undefined;
let team: Team;
let third: TestUser;

async function voiceChannel(): Promise<string> {
  const res = await app.server.call('POST', `/api/groups/${team.groupId}/channels`, {
    token: team.owner.token, json: { name: `call-${Math.random().toString(36).slice(2, 8)}`, type: 'VOICE' },
  });
  assert.equal(res.status, 201);
  return res.body.id;
}

async function participants(channel: string): Promise<{ user_id: string; producers: { source: string; paused: boolean }[] }[]> {
  const res = await app.server.call('GET', `/api/channels/${channel}/call`, { token: team.viewer.token });
  assert.equal(res.status, 200);
  return res.body.participants;
}

/** Opens the channel as `user`, presses "Join call", and waits for their own tile. */
async function joinCall(user: TestUser, channel: string, viewport?: { width: number; height: number }): Promise<AppPage> {
  const p = await app.open(user, `/channels/${channel}`, viewport ? { viewport } : {});
  await p.page.getByRole('button', { name: 'Join call' }).click();
  await tileOf(p.page, user).filter({ hasText: '(you)' }).waitFor();
  return p;
}

describe('calls in the web client', { skip }, () => {
  before(async () => {
    if (ci && workerMissing.length) throw new Error(`CI=true: missing ${workerMissing.join(', ')}`);
    if (turnserverInstalled()) coturn = await startCoturn();
    app = await startWebApp({ SFU_WORKERS: '1', ...(coturn ? { TURN_SECRET: coturn.secret, TURN_URIS: coturn.uri } : {}) });
    team = await setUpTeam(app.server);
    third = await app.server.signUp('third');
    const added = await app.server.call('POST', `/api/groups/${team.groupId}/members`, { token: team.owner.token, json: { user_id: third.id, role: 'member' } });
    assert.equal(added.status, 201);
  });
  after(async () => {
    await app?.close();
    await coturn?.stop();
  });

  it('three people join through the app, see and hear each other, share a screen, mute, and leave', { timeout: 150_000 }, async () => {
    const channel = await voiceChannel();
    const a = await app.open(team.owner, `/channels/${channel}`);
    await a.page.getByText('Nobody is in the call yet.').waitFor();
    await a.screenshot('call-lobby-empty');
    const turn = a.page.waitForResponse((r) => r.url().endsWith('/api/webrtc/turn-credentials'));
    await a.page.getByRole('button', { name: 'Join call' }).click();
    // TURN credentials are asked for before joining (503 when the server has no TURN: then ICE goes direct).
    assert.equal((await turn).status(), coturn ? 200 : 503);
    await tileOf(a.page, team.owner).filter({ hasText: '(you)' }).waitFor();
    await a.page.getByRole('button', { name: 'Turn camera on' }).click();
    await a.page.getByRole('button', { name: 'Turn camera off' }).waitFor();

    // Before joining, the next person sees who is in the call.
    const b = await app.open(team.member, `/channels/${channel}`);
    await b.page.getByRole('list', { name: 'In the call now' }).getByText(team.owner.username).waitFor();
    await b.screenshot('call-lobby');
    await b.page.getByRole('button', { name: 'Join call' }).click();
    await b.page.getByRole('button', { name: 'Turn camera on' }).click();
    const c = await joinCall(third, channel);
    await c.page.getByRole('button', { name: 'Turn camera on' }).click();

    const people = [a, b, c];
    const ids = new Map(await Promise.all(people.map(async (p) => [p, await peerIdOf(p.page)] as const)));
    const avOf = (receiver: AppPage) => people.filter((p) => p !== receiver).flatMap((p) => [`${ids.get(p)}/mic`, `${ids.get(p)}/webcam`]);
    await Promise.all(people.map((p) => assertReceives(p, avOf(p))));
    // A tile per participant, named as the server verified them, with the others' cameras playing.
    for (const p of people) {
      await eventually(async () => assert.equal(await tiles(p.page).count(), 3), 10_000);
      for (const other of people.filter((o) => o !== p)) {
        await tileOf(p.page, other.user).getByLabel(`Camera of ${other.user.username}`).waitFor();
      }
      // Received audio plays in <audio> elements.
      assert.equal(await p.page.locator('audio').count(), 2);
    }
    // The tone on three microphones: the SFU names a dominant speaker, and the tiles mark it.
    await a.page.locator('.call-tile.speaking').first().waitFor({ timeout: 15_000 });
    await a.screenshot('call-three');
    const stored = await participants(channel);
    assert.deepEqual(stored.map((p) => p.user_id).sort(), [team.owner.id, team.member.id, third.id].sort());

    // A screen shared by one reaches the others.
    await a.page.getByRole('button', { name: 'Share screen' }).click();
    await a.page.getByRole('button', { name: 'Stop sharing' }).waitFor();
    await Promise.all([b, c].map((p) => assertReceives(p, [`${ids.get(a)}/screen`])));
    await tileOf(b.page, team.owner).getByLabel(`Screen shared by ${team.owner.username}`).waitFor();
    await b.screenshot('call-screen-share');

    // Muting shows as muted to the others and on the server; unmuting undoes both. Before: not muted.
    assert.doesNotMatch(await tileOf(b.page, team.owner).getAttribute('aria-label') ?? '', /muted/);
    await a.page.getByRole('button', { name: 'Mute' }).click();
    await a.page.getByRole('button', { name: 'Unmute' }).waitFor();
    for (const p of [b, c]) await tileOf(p.page, team.owner).getByText('Muted').waitFor();
    assert.match(await tileOf(c.page, team.owner).getAttribute('aria-label') ?? '', /muted/);
    const micOf = async (userId: string) => (await participants(channel)).find((p) => p.user_id === userId)?.producers.find((s) => s.source === 'mic');
    assert.equal((await micOf(team.owner.id))?.paused, true);
    await c.screenshot('call-muted');
    await a.page.getByRole('button', { name: 'Unmute' }).click();
    await tileOf(b.page, team.owner).getByText('Muted').waitFor({ state: 'detached' });
    assert.equal((await micOf(team.owner.id))?.paused, false);

    // Leaving removes the tile for the others and the place in the call; the leaver is back in the lobby.
    await c.page.getByRole('button', { name: 'Leave call' }).click();
    await c.page.getByRole('button', { name: 'Join call' }).waitFor();
    for (const p of [a, b]) await tileOf(p.page, third).waitFor({ state: 'detached' });
    assert.equal(await tiles(a.page).count(), 2);
    await eventually(async () => assert.deepEqual((await participants(channel)).map((p) => p.user_id).sort(), [team.owner.id, team.member.id].sort()), 5000);
    for (const p of people) assert.deepEqual(p.errors, []);
    await Promise.all(people.map((p) => p.close()));
  });

  it('a viewer on a phone only listens and watches; a device that refuses the camera is said so, beside one that works', { timeout: 90_000 }, async () => {
    const channel = await voiceChannel();
    const sender = await joinCall(team.owner, channel);
    await sender.page.getByRole('button', { name: 'Turn camera on' }).click();
    await sender.page.getByRole('button', { name: 'Mute' }).waitFor();

    // On a phone-sized screen.
    const viewer = await joinCall(team.viewer, channel, { width: 390, height: 844 });
    await viewer.page.getByText('You are a viewer: you can listen and watch, but not send.').waitFor();
    for (const name of ['Mute', 'Turn camera on', 'Share screen']) assert.equal(await viewer.page.getByRole('button', { name }).count(), 0, name);
    await assertReceives(viewer, [`${await peerIdOf(sender.page)}/mic`, `${await peerIdOf(sender.page)}/webcam`]);
    await tileOf(sender.page, team.viewer).getByText('No microphone').waitFor();
    await viewer.screenshot('call-viewer');

    // This member's device says no to the camera (as when the person denies the permission).
    const refusing = await app.open(team.member, `/channels/${channel}`);
    await refusing.context.addInitScript(`{
      const devices = navigator.mediaDevices;
      const real = devices.getUserMedia.bind(devices);
      devices.getUserMedia = (constraints) =>
        constraints && constraints.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : real(constraints);
    }`);
    await refusing.page.reload();
    await refusing.page.getByRole('button', { name: 'Join call' }).click();
    await refusing.page.getByRole('button', { name: 'Turn camera on' }).click();
    await refusing.page.getByRole('alert').filter({ hasText: 'refused the camera' }).waitFor();
    assert.equal(await refusing.page.getByRole('button', { name: 'Turn camera on' }).count(), 1);
    // The microphone still works: the others hear this member.
    await assertReceives(viewer, [`${await peerIdOf(refusing.page)}/mic`]);
    await refusing.screenshot('call-camera-refused');
    await Promise.all([sender, viewer, refusing].map((p) => p.close()));
  });

  it('changing one\'s password in another tab rejoins the call with the camera and the mute as they were', { timeout: 90_000 }, async () => {
    const channel = await voiceChannel();
    // A person of their own: their password changes here.
    const person = await app.server.signUp('rejoin');
    const added = await app.server.call('POST', `/api/groups/${team.groupId}/members`, { token: team.owner.token, json: { user_id: person.id, role: 'member' } });
    assert.equal(added.status, 201);
    const p = await joinCall(person, channel);
    await p.page.getByRole('button', { name: 'Turn camera on' }).click();
    await p.page.getByRole('button', { name: 'Turn camera off' }).waitFor();
    await p.page.getByRole('button', { name: 'Mute' }).click();
    await p.page.getByRole('button', { name: 'Unmute' }).waitFor();
    const before = await peerIdOf(p.page);

    // The same browser, another tab: the password changes, which ends every session's tokens, this one's included.
    const account = await p.context.newPage();
    await account.goto('/account');
    await changePasswordInForm(account, person.password, 'an entirely new passphrase');

    // The call's connection was closed (session_revoked) and joined again with the new token, as it was.
    await eventually(async () => assert.notEqual(await peerIdOf(p.page), before), 15_000);
    await tileOf(p.page, person).filter({ hasText: '(you)' }).waitFor();
    await p.page.getByRole('button', { name: 'Turn camera off' }).waitFor();
    await p.page.getByRole('button', { name: 'Unmute' }).waitFor();
    await eventually(async () => {
      const mine = (await participants(channel)).filter((x) => x.user_id === person.id);
      assert.equal(mine.length, 1, 'in the call once');
      assert.deepEqual(mine[0]!.producers.map((x) => [x.source, x.paused]).sort(), [['mic', true], ['webcam', false]]);
    }, 15_000);
    assert.deepEqual(p.errors, []);
    await p.close();
  });

  it('archiving the channel ends the call with the reason shown; unarchived, it can be joined again', { timeout: 90_000 }, async () => {
    const channel = await voiceChannel();
    const p = await joinCall(team.member, channel);
    const archive = (action: string) => app.server.call('POST', `/api/channels/${channel}/${action}`, { token: team.owner.token });
    assert.equal((await archive('archive')).status, 200);
    await p.page.getByRole('alert').filter({ hasText: 'This channel is archived: its call has ended' }).waitFor();
    await p.screenshot('call-archived');
    await p.page.reload();
    await p.page.getByRole('status').filter({ hasText: 'This channel is archived: no calls' }).waitFor();
    assert.equal(await p.page.getByRole('button', { name: 'Join call' }).count(), 0);

    assert.equal((await archive('unarchive')).status, 200);
    await p.page.reload();
    await p.page.getByRole('button', { name: 'Join call' }).click();
    await tileOf(p.page, team.member).filter({ hasText: '(you)' }).waitFor();
    await p.close();
  });
});

describe('calls off in the web client', { skip: skipWithoutChromium() }, () => {
  let off: WebApp;
  before(async () => {
    off = await startWebApp({ SFU_WORKERS: '0' });
  });
  after(async () => {
    await off?.close();
  });

  it('says plainly that calls are off, and offers no Join button', async () => {
    const offTeam = await setUpTeam(off.server, ['VOICE']);
    const p = await off.open(offTeam.member, `/channels/${offTeam.channels.VOICE}`);
    await p.page.getByRole('alert').filter({ hasText: 'Calls are off on this server' }).waitFor();
    assert.equal(await p.page.getByRole('button', { name: 'Join call' }).count(), 0);
    await p.screenshot('call-off');
  });
});
