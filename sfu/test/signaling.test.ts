// Call signaling over /rtc against a running server with a real mediasoup worker (no media: see e2e/ for that).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { accessTokens } from '../../core/index.ts';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer, type TestUser } from '../../server/test/harness.ts';
import { findWorkerBinary, startCalls } from '../index.ts';
import { deafConnect } from './deaf-client.ts';
import { clientDtls, joinCall, opusParameters, rtcConnect, rtcUrl, vp8SimulcastParameters, type RtcClient } from './rtc-client.ts';

if (!findWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).binary) {
  // CI must have it; a developer without it is told how to get it.
  throw new Error('no mediasoup worker: run scripts/install-mediasoup-worker.sh');
}

let server: TestServer;
let team: Team;
const open: RtcClient[] = [];
const TURN_SECRET = 'a-turn-secret-for-the-tests';

before(async () => {
  server = await startTestServer({
    SFU_WORKERS: '1', SFU_MAX_PEERS_PER_ROOM: '3', SFU_MAX_PRODUCERS_PER_PEER: '2', SFU_REQUESTS_PER_SECOND: '20',
    SFU_USER_REQUESTS_PER_SECOND: '25', SFU_MAX_CONNECTIONS_PER_USER: '3', SFU_MAX_PEERS_PER_USER_PER_ROOM: '2',
    SFU_MAX_ROOMS_PER_USER: '2',
    TURN_SECRET, TURN_URIS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp', TURN_TTL_SECONDS: '600',
  });
  team = await setUpTeam(server, ['VOICE', 'TEXT']);
});
// Each test starts with none of its users' connections open, so per-user caps see only its own.
afterEach(async () => {
  const closing = open.splice(0);
  for (const c of closing) c.close();
  await Promise.all(closing.map((c) => c.closed));
});
after(async () => {
  await server.close();
});

async function connect(token = team.member.token, channel = team.channels.VOICE!): Promise<RtcClient> {
  const client = await rtcConnect(server, token, channel);
  open.push(client);
  return client;
}

/** A new VOICE channel of the team, so each test has its own call. */
async function voiceChannel(): Promise<string> {
  const res = await server.call('POST', `/api/groups/${team.groupId}/channels`, {
    token: team.owner.token, json: { name: `call-${Math.random().toString(36).slice(2, 8)}`, type: 'VOICE' },
  });
  assert.equal(res.status, 201);
  return res.body.id;
}

/** A new account, added to the team's group with `role`. */
async function newMember(role = 'member'): Promise<TestUser> {
  const user = await server.signUp(role);
  const added = await server.call('POST', `/api/groups/${team.groupId}/members`, {
    token: team.owner.token, json: { user_id: user.id, role },
  });
  assert.equal(added.status, 201);
  return user;
}

async function participants(channel: string, token = team.viewer.token): Promise<string[]> {
  const res = await server.call('GET', `/api/channels/${channel}/call`, { token });
  assert.equal(res.status, 200);
  return res.body.participants.map((p: { id: string }) => p.id);
}

async function sendMic(client: RtcClient, ssrc: number): Promise<string> {
  const send = await client.ok('createWebRtcTransport', { direction: 'send' });
  await client.ok('connectWebRtcTransport', { transport_id: send.id, dtls_parameters: clientDtls });
  const { id } = await client.ok('produce', {
    transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(ssrc), app_data: { source: 'mic' },
  });
  return id;
}

describe('admission to /rtc', () => {
  it('refuses missing, invalid and expired tokens, outsiders, other channel types and unknown channels', async () => {
    const cases: [string | undefined, string, number, string][] = [
      [undefined, team.channels.VOICE!, 4401, 'unauthorized'],
      ['not-a-token', team.channels.VOICE!, 4401, 'invalid_token'],
      [team.outsider.token, team.channels.VOICE!, 4404, 'no such voice channel'],
      [team.member.token, team.channels.TEXT!, 4404, 'no such voice channel'],
      [team.member.token, '00000000-0000-4000-8000-000000000000', 4404, 'no such voice channel'],
      [team.member.token, 'not-a-uuid', 4404, 'no such voice channel'],
    ];
    for (const [token, channel, code, reason] of cases) {
      const client = await rtcConnect(server, token, channel);
      assert.deepEqual(await client.closed, { code, reason }, `${token?.slice(0, 8)} ${channel}`);
    }
    assert.equal((await server.call('GET', `/api/channels/${team.channels.VOICE}/call`)).status, 401);
    const outsider = await server.call('GET', `/api/channels/${team.channels.VOICE}/call`, { token: team.outsider.token });
    assert.equal(outsider.status, 404);
    const text = await server.call('GET', `/api/channels/${team.channels.TEXT}/call`, { token: team.member.token });
    assert.equal(text.status, 404);
  });

  it('without a worker the server runs with calls off: /rtc closes with 4503, the call endpoint answers 503', async () => {
    const off = await startTestServer({ SFU_WORKERS: '1', MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' });
    try {
      const offTeam = await setUpTeam(off, ['VOICE']);
      const client = await rtcConnect(off, offTeam.member.token, offTeam.channels.VOICE!);
      assert.deepEqual(await client.closed, { code: 4503, reason: 'calls are off on this server' });
      const res = await off.call('GET', `/api/channels/${offTeam.channels.VOICE}/call`, { token: offTeam.member.token });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'unavailable');
      assert.deepEqual(off.calls.workers(), []);
      assert.equal((await off.call('GET', '/api/groups', { token: offTeam.member.token })).status, 200);
    } finally {
      await off.close();
    }
  });
});

describe('a call', () => {
  it('joins, produces, consumes, pauses, closes and leaves, and everyone is told', async () => {
    const channel = await voiceChannel();
    const ann = await connect(team.owner.token, channel);
    const bob = await connect(team.member.token, channel);
    const annJoined = await joinCall(ann, 'Ann');
    assert.equal(annJoined.can_produce, true);
    assert.deepEqual(annJoined.peers, []);
    const micId = await sendMic(ann, 1111);

    const bobJoined = await joinCall(bob);
    assert.deepEqual(bobJoined.peers.map((p: { id: string }) => p.id), [annJoined.peer_id]);
    assert.deepEqual(bobJoined.peers[0].producers, [{ id: micId, kind: 'audio', source: 'mic', paused: false }]);
    assert.equal(bobJoined.peers[0].display_name, 'Ann');
    const joined = await ann.next('peerJoined');
    assert.equal(joined.id, bobJoined.peer_id);
    assert.equal(joined.user_id, team.member.id);

    // A receiving transport brings consumers of what is already produced; they start paused.
    const recv = await bob.ok('createWebRtcTransport', { direction: 'recv' });
    assert.ok(recv.ice_candidates.length > 0);
    // The workers present our certificate (ECDSA, signed with SHA-256), not one mediasoup 3.8.4 makes itself.
    const pem = await readFile(path.join(server.dataDir, 'sfu', 'dtls-cert.pem'));
    const ours = new X509Certificate(pem);
    const sha256 = recv.dtls_parameters.fingerprints.find((f: { algorithm: string }) => f.algorithm === 'sha-256');
    assert.equal(sha256.value.toUpperCase(), ours.fingerprint256);
    assert.equal(ours.publicKey.asymmetricKeyType, 'ec');
    assert.match(execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem }).toString(), /Signature Algorithm: ecdsa-with-SHA256/);
    const consumer = await bob.next('newConsumer');
    assert.equal(consumer.producer_id, micId);
    assert.equal(consumer.peer_id, annJoined.peer_id);
    assert.equal(consumer.source, 'mic');
    assert.equal(consumer.rtp_parameters.codecs[0].mimeType, 'audio/opus');
    await bob.ok('connectWebRtcTransport', { transport_id: recv.id, dtls_parameters: clientDtls });
    await bob.ok('resumeConsumer', { consumer_id: consumer.id });

    assert.deepEqual((await participants(channel)).sort(), [annJoined.peer_id, bobJoined.peer_id].sort());

    await ann.ok('pauseProducer', { producer_id: micId });
    assert.equal((await bob.next('producerPaused')).consumer_id, consumer.id);
    await ann.ok('resumeProducer', { producer_id: micId });
    assert.equal((await bob.next('producerResumed')).producer_id, micId);
    const ice = await bob.ok('restartIce', { transport_id: recv.id });
    assert.ok(ice.ice_parameters.usernameFragment);

    await ann.ok('closeProducer', { producer_id: micId });
    assert.equal((await bob.next('consumerClosed')).consumer_id, consumer.id);
    await ann.ok('leave');
    assert.equal((await bob.next('peerLeft')).peer_id, annJoined.peer_id);
    assert.deepEqual(await participants(channel), [bobJoined.peer_id]);

    // The socket stays usable: join again as a new peer.
    const again = await joinCall(ann);
    assert.notEqual(again.peer_id, annJoined.peer_id);
    assert.equal((await bob.next('peerJoined', (p) => p.id === again.peer_id)).display_name, team.owner.username);
  });

  it('a viewer listens but cannot send', async () => {
    const channel = await voiceChannel();
    const viewer = await connect(team.viewer.token, channel);
    const joined = await joinCall(viewer);
    assert.equal(joined.role, 'viewer');
    assert.equal(joined.can_produce, false);
    const send = await viewer.request('createWebRtcTransport', { direction: 'send' });
    assert.equal(send.error?.code, 'forbidden');
    const recv = await viewer.ok('createWebRtcTransport', { direction: 'recv' });
    const produce = await viewer.request('produce', {
      transport_id: recv.id, kind: 'audio', rtp_parameters: opusParameters(2222), app_data: { source: 'mic' },
    });
    assert.equal(produce.error?.code, 'forbidden');
  });

  it('answers requests out of order, unknown ids and invalid parameters with errors, and keeps working', async () => {
    const channel = await voiceChannel();
    const eve = await connect(team.member.token, channel);
    assert.equal((await eve.request('produce', {
      transport_id: 'x', kind: 'audio', rtp_parameters: opusParameters(1), app_data: { source: 'mic' },
    })).error?.code, 'not_joined');
    assert.equal((await eve.request('createWebRtcTransport', { direction: 'send' })).error?.code, 'not_joined');
    assert.equal((await eve.request('selfDestruct')).error?.code, 'unknown_method');
    const invalid = await eve.request('join', { rtp_capabilities: 'everything' });
    assert.equal(invalid.error?.code, 'bad_request');
    assert.ok(Array.isArray(invalid.error?.details));
    await joinCall(eve);
    assert.equal((await eve.request('join', { rtp_capabilities: { codecs: [] } })).error?.code, 'already_joined');
    assert.equal((await eve.request('connectWebRtcTransport', {
      transport_id: 'not-mine', dtls_parameters: clientDtls,
    })).error?.code, 'not_found');
    const send = await eve.ok('createWebRtcTransport', { direction: 'send' });
    const badCodec = opusParameters(3333);
    badCodec.codecs[0]!.mimeType = 'audio/nonsense';
    const refused = await eve.request('produce', {
      transport_id: send.id, kind: 'audio', rtp_parameters: badCodec, app_data: { source: 'mic' },
    });
    assert.ok(refused.error && ['bad_request', 'unsupported'].includes(refused.error.code), JSON.stringify(refused));
    assert.equal((await eve.request('produce', {
      transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(3334), app_data: { source: 'telepathy' },
    })).error?.code, 'bad_request');
    // Still a working peer: one producer per source, at most two producers (SFU_MAX_PRODUCERS_PER_PEER).
    await eve.ok('produce', { transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(4444), app_data: { source: 'mic' } });
    assert.equal((await eve.request('produce', {
      transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(4445), app_data: { source: 'mic' },
    })).error?.code, 'bad_request');
    // The worker itself refuses a second producer with the same MID on one transport.
    const sameMid = { ...opusParameters(4446), mid: '4444' };
    const duplicate = await eve.request('produce', {
      transport_id: send.id, kind: 'audio', rtp_parameters: sameMid, app_data: { source: 'screen-audio' },
    });
    assert.equal(duplicate.error?.code, 'bad_request', JSON.stringify(duplicate));
    await eve.ok('produce', {
      transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(4446), app_data: { source: 'screen-audio' },
    });
    assert.equal((await eve.request('produce', {
      transport_id: send.id, kind: 'video', rtp_parameters: vp8SimulcastParameters(4447, 1), app_data: { source: 'screen' },
    })).error?.code, 'limit_reached');
    assert.equal((await eve.request('setConsumerPreferredLayers', { consumer_id: 'nope', spatial_layer: 0 })).error?.code, 'not_found');
  });

  it('a receiving transport created while a producer is announced consumes it once', async () => {
    for (let round = 0; round < 5; round++) {
      const channel = await voiceChannel();
      const ann = await connect(team.owner.token, channel);
      const bob = await connect(team.member.token, channel);
      await joinCall(ann);
      await joinCall(bob);
      const send = await ann.ok('createWebRtcTransport', { direction: 'send' });
      const [{ id: mic }] = await Promise.all([
        ann.ok('produce', {
          transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(9000 + round), app_data: { source: 'mic' },
        }),
        bob.ok('createWebRtcTransport', { direction: 'recv' }),
      ]);
      await bob.next('newConsumer', (c) => c.producer_id === mic);
      // Give a second consumer the time to show up, then count.
      await bob.ok('getRouterRtpCapabilities');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(bob.notifications.filter((n) => n.method === 'newConsumer').length, 1, `round ${round}`);
      ann.close();
      bob.close();
    }
  });

  it('a simulcast camera is consumed in layers the receiver can choose; a microphone has none', async () => {
    const channel = await voiceChannel();
    const cam = await connect(team.owner.token, channel);
    const viewer = await connect(team.viewer.token, channel);
    await joinCall(cam);
    await joinCall(viewer);
    await viewer.ok('createWebRtcTransport', { direction: 'recv' });
    const transport = await cam.ok('createWebRtcTransport', { direction: 'send' });
    const produce = async (kind: string, rtp_parameters: object, source: string) =>
      (await cam.ok('produce', { transport_id: transport.id, kind, rtp_parameters, app_data: { source } })).id;
    const mic = await produce('audio', opusParameters(12000), 'mic');
    const webcam = await produce('video', vp8SimulcastParameters(13000, 3), 'webcam');
    const video = await viewer.next('newConsumer', (c) => c.producer_id === webcam);
    assert.equal(video.type, 'simulcast');
    assert.equal(video.source, 'webcam');
    await viewer.ok('setConsumerPreferredLayers', { consumer_id: video.id, spatial_layer: 0, temporal_layer: 0 });
    const audio = await viewer.next('newConsumer', (c) => c.producer_id === mic);
    assert.equal(audio.type, 'simple');
    const refused = await viewer.request('setConsumerPreferredLayers', { consumer_id: audio.id, spatial_layer: 1 });
    assert.equal(refused.error?.code, 'bad_request');
  });

  it("cannot touch another peer's producer", async () => {
    const channel = await voiceChannel();
    const owner = await connect(team.owner.token, channel);
    const other = await connect(team.member.token, channel);
    await joinCall(owner);
    await joinCall(other);
    const mic = await sendMic(owner, 5555);
    assert.equal((await other.request('closeProducer', { producer_id: mic })).error?.code, 'not_found');
    assert.equal((await other.request('pauseProducer', { producer_id: mic })).error?.code, 'not_found');
    const res = await server.call('GET', `/api/channels/${channel}/call`, { token: team.member.token });
    const producers = res.body.participants.flatMap((p: { producers: { id: string; paused: boolean }[] }) => p.producers);
    assert.deepEqual(producers.map((p: { id: string; paused: boolean }) => [p.id, p.paused]), [[mic, false]]);
  });

  it('closes a connection that sends garbage, and refuses a fourth peer in a room of three', async () => {
    const channel = await voiceChannel();
    const rude = await connect(team.member.token, channel);
    rude.socket.send('{"this is": not json');
    assert.deepEqual(await rude.closed, { code: 4400, reason: 'malformed message: expected {request: true, id, method, data}' });
    const peers = [await connect(team.owner.token, channel), await connect(team.member.token, channel), await connect(team.viewer.token, channel)];
    for (const peer of peers) await joinCall(peer);
    const fourth = await connect(team.member.token, channel);
    const { rtp_capabilities } = await fourth.ok('getRouterRtpCapabilities');
    assert.equal((await fourth.request('join', { rtp_capabilities })).error?.code, 'room_full');
  });

  it('answers a flood of requests with too_many_requests', async () => {
    const channel = await voiceChannel();
    const flood = await connect((await newMember()).token, channel);
    const answers = await Promise.all(Array.from({ length: 60 }, () => flood.request('getRouterRtpCapabilities')));
    const limited = answers.filter((a) => a.error?.code === 'too_many_requests').length;
    assert.ok(limited > 0 && limited < 60, `limited ${limited} of 60`);
  });
});

describe('names, sources and per-user limits', () => {
  it('cleans display names of hidden and reordering characters and shows them with the verified user', async () => {
    const channel = await voiceChannel();
    const ann = await connect(team.owner.token, channel);
    const bob = await connect(team.member.token, channel);
    // A right-to-left override, a zero-width space, a bell, a tab, an isolate, a BOM, a line separator, and length.
    const raw = `\u202Eevil\u202C  Bob\u200B\u0007 the\tadmin\u2066x\u2069\uFEFF\u2028${'y'.repeat(100)}`;
    const cleaned = `evil Bob the adminx ${'y'.repeat(44)}`;
    assert.equal([...cleaned].length, 64);
    const annJoined = await joinCall(ann, raw);
    assert.equal(annJoined.display_name, cleaned);
    const bobJoined = await joinCall(bob, '\u200B\u202E\u0000 \u2066');
    // Nothing left of it: the account's own name instead.
    assert.equal(bobJoined.display_name, team.member.username);
    assert.deepEqual(
      bobJoined.peers.map((p: any) => [p.display_name, p.user_id, p.username]),
      [[cleaned, team.owner.id, team.owner.username]],
    );
    const joined = await ann.next('peerJoined');
    assert.deepEqual([joined.display_name, joined.user_id, joined.username], [team.member.username, team.member.id, team.member.username]);
    const res = await server.call('GET', `/api/channels/${channel}/call`, { token: team.viewer.token });
    const shown = res.body.participants.map((p: any) => [p.display_name, p.username]).sort();
    assert.deepEqual(shown, [[cleaned, team.owner.username], [team.member.username, team.member.username]].sort());

    const other = await connect(team.viewer.token, channel);
    const { rtp_capabilities } = await other.ok('getRouterRtpCapabilities');
    const long = await other.request('join', { rtp_capabilities, display_name: 'x'.repeat(257) });
    assert.equal(long.error?.code, 'bad_request');
  });

  it("refuses a stream whose source is not of its kind", async () => {
    const channel = await voiceChannel();
    const sharer = await connect(team.member.token, channel);
    await joinCall(sharer);
    const send = await sharer.ok('createWebRtcTransport', { direction: 'send' });
    const produce = (kind: string, source: string, ssrc: number) => sharer.request('produce', {
      transport_id: send.id, kind, app_data: { source },
      rtp_parameters: kind === 'audio' ? opusParameters(ssrc) : vp8SimulcastParameters(ssrc, 1),
    });
    for (const [kind, source] of [['audio', 'screen'], ['audio', 'webcam'], ['video', 'mic'], ['video', 'screen-audio']]) {
      const refused = await produce(kind!, source!, 20000);
      assert.equal(refused.error?.code, 'source_mismatch', `${kind} ${source}: ${JSON.stringify(refused)}`);
    }
    assert.ok((await produce('audio', 'screen-audio', 20001)).ok);
    assert.ok((await produce('video', 'screen', 20002)).ok);
    const res = await server.call('GET', `/api/channels/${channel}/call`, { token: team.member.token });
    const kinds = res.body.participants[0].producers.map((p: any) => `${p.source}:${p.kind}`).sort();
    assert.deepEqual(kinds, ['screen-audio:audio', 'screen:video']);
  });

  it('one account cannot take more than its seats, connections and calls; the owner still gets in', async () => {
    const hog = await newMember();
    const [a, b, c] = [await voiceChannel(), await voiceChannel(), await voiceChannel()];
    const seats = [await connect(hog.token, a), await connect(hog.token, a), await connect(hog.token, a)];
    // SFU_MAX_CONNECTIONS_PER_USER=3: the fourth is refused before it can do anything.
    const fourth = await rtcConnect(server, hog.token, a);
    assert.deepEqual(await fourth.closed, { code: 4429, reason: 'too many call connections (at most 3 per user)' });
    // SFU_MAX_PEERS_PER_USER_PER_ROOM=2.
    await joinCall(seats[0]!);
    await joinCall(seats[1]!);
    const { rtp_capabilities } = await seats[2]!.ok('getRouterRtpCapabilities');
    const third = await seats[2]!.request('join', { rtp_capabilities });
    assert.equal(third.error?.code, 'limit_reached', JSON.stringify(third));
    // The call holds three: the owner takes the last seat.
    await joinCall(await connect(team.owner.token, a));
    assert.equal((await participants(a)).length, 3);

    // SFU_MAX_ROOMS_PER_USER=2: in a and b, not c as well.
    seats[1]!.close();
    seats[2]!.close();
    await Promise.all([seats[1]!.closed, seats[2]!.closed]);
    await eventually(async () => assert.equal((await participants(a)).length, 2));
    await joinCall(await connect(hog.token, b));
    const inC = await connect(hog.token, c);
    const refused = await inC.request('join', { rtp_capabilities });
    assert.equal(refused.error?.code, 'limit_reached');
    assert.match(refused.error!.message, /in 2 calls already/);
  });

  it("counts requests per user across the user's connections", async () => {
    const busy = await newMember();
    const channel = await voiceChannel();
    const clients = [await connect(busy.token, channel), await connect(busy.token, channel), await connect(busy.token, channel)];
    // 30 at once on each: within one connection's burst (2 × 20), beyond the user's (2 × 25) together.
    const answers = (await Promise.all(
      clients.map((c) => Promise.all(Array.from({ length: 30 }, () => c.request('getRouterRtpCapabilities')))),
    )).flat();
    const limited = answers.filter((a) => a.error?.code === 'too_many_requests');
    assert.ok(limited.length >= 20 && limited.length <= 45, `limited ${limited.length} of 90`);
    assert.ok(limited.every((a) => /your account/.test(a.error!.message)), JSON.stringify(limited[0]));
  });
});

describe('media ports', () => {
  it("one user exhausting their allowance leaves other groups' calls working; a full range answers unavailable", async () => {
    // Six ports, so six transports on the whole server; four for any one user. Below the kernel's ephemeral range
    // (32768-60999 here), where any outgoing connection of a busy test run may hold one of them.
    const small = await startTestServer({
      SFU_WORKERS: '1', RTC_MIN_PORT: '30700', RTC_MAX_PORT: '30705', SFU_MAX_TRANSPORTS_PER_USER: '4',
    });
    const clients: RtcClient[] = [];
    const on = async (user: TestUser, channel: string) => {
      const client = await rtcConnect(small, user.token, channel);
      clients.push(client);
      await joinCall(client);
      return client;
    };
    try {
      const ours = await setUpTeam(small, ['VOICE']);
      const hog = ours.member;
      const second = await small.call('POST', `/api/groups/${ours.groupId}/channels`, {
        token: ours.owner.token, json: { name: 'second', type: 'VOICE' },
      });
      const hogs = [await on(hog, ours.channels.VOICE!), await on(hog, ours.channels.VOICE!), await on(hog, second.body.id)];
      for (const client of hogs.slice(0, 2)) {
        await client.ok('createWebRtcTransport', { direction: 'send' });
        await client.ok('createWebRtcTransport', { direction: 'recv' });
      }
      const fifth = await hogs[2]!.request('createWebRtcTransport', { direction: 'recv' });
      assert.equal(fifth.error?.code, 'limit_reached', JSON.stringify(fifth));

      // Another group's call still works on the two ports left.
      const theirs = await setUpTeam(small, ['VOICE']);
      const speaker = await on(theirs.owner, theirs.channels.VOICE!);
      const hearer = await on(theirs.member, theirs.channels.VOICE!);
      await hearer.ok('createWebRtcTransport', { direction: 'recv' });
      const mic = await sendMic(speaker, 31000);
      await hearer.next('newConsumer', (c) => c.producer_id === mic);

      // Now the range is full: a clear unavailable, not a bad request, whoever asks.
      const full = await hearer.request('createWebRtcTransport', { direction: 'send' });
      assert.equal(full.error?.code, 'unavailable', JSON.stringify(full));
      assert.equal((await on(ours.owner, ours.channels.VOICE!)).socket.readyState, 1);
      const alsoFull = await clients.at(-1)!.request('createWebRtcTransport', { direction: 'recv' });
      assert.equal(alsoFull.error?.code, 'unavailable');

      // Ports come back when their transports close.
      hogs[0]!.close();
      await hogs[0]!.closed;
      await eventually(async () => assert.ok((await clients.at(-1)!.request('createWebRtcTransport', { direction: 'recv' })).ok));
    } finally {
      for (const c of clients) c.close();
      await small.close();
    }
  });
});

describe('revocation', () => {
  it('a removed member whose client ignores the close frame is out at once and can start nothing', async () => {
    const channel = await voiceChannel();
    const member = await newMember();
    const listener = await connect(team.owner.token, channel);
    const listening = await joinCall(listener);
    await listener.ok('createWebRtcTransport', { direction: 'recv' });
    const deaf = await deafConnect(rtcUrl(server, member.token, channel));
    try {
      const { rtp_capabilities } = await deaf.ok('getRouterRtpCapabilities');
      const { peer_id } = await deaf.ok('join', { rtp_capabilities });
      const send = await deaf.ok('createWebRtcTransport', { direction: 'send' });
      await deaf.ok('connectWebRtcTransport', { transport_id: send.id, dtls_parameters: clientDtls });
      const mic = await deaf.ok('produce', {
        transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(30000), app_data: { source: 'mic' },
      });
      await listener.next('newConsumer', (c) => c.producer_id === mic.id);

      const removed = await server.call('DELETE', `/api/groups/${team.groupId}/members/${member.id}`, { token: team.owner.token });
      assert.equal(removed.status, 204);
      const removedAt = Date.now();
      // Straight after the removal, as the reported client did (new streams 16 ms later).
      const after = [
        deaf.send('produce', {
          transport_id: send.id, kind: 'video', rtp_parameters: vp8SimulcastParameters(30001, 1), app_data: { source: 'webcam' },
        }),
        deaf.send('createWebRtcTransport', { direction: 'recv' }),
        deaf.send('join', { rtp_capabilities }),
      ];

      assert.equal((await listener.next('peerLeft', (p) => p.peer_id === peer_id, 1000)).peer_id, peer_id);
      assert.ok(Date.now() - removedAt < 1000, `peerLeft after ${Date.now() - removedAt} ms`);
      assert.equal((await listener.next('consumerClosed', (c) => c.producer_id === mic.id, 1000)).producer_id, mic.id);
      assert.deepEqual(await participants(channel), [listening.peer_id]);

      // The client never answers the close frame: the server destroys the socket about a second later.
      const goneAt = await deaf.gone;
      assert.ok(goneAt - removedAt < 1600, `socket gone ${goneAt - removedAt} ms after the removal`);
      assert.deepEqual(deaf.closeFrames, [{ code: 4403, reason: 'access revoked' }]);
      const answered = deaf.messages.filter((m) => m.response && after.includes(m.id));
      assert.deepEqual(answered.filter((m) => m.ok), [], 'a request after the removal succeeded');
      assert.ok(!listener.notifications.some((n) => n.method === 'newConsumer' && n.data.peer_id === peer_id && n.data.source === 'webcam'));
    } finally {
      deaf.destroy();
    }
  });
});

describe('logs', () => {
  it('each refusal is logged once, at info or warn, with no stack trace, URL or token', async () => {
    // A second calls endpoint on the same database and access cache, logging where the test can read it.
    const lines: Record<string, any>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const calls = await startCalls({
      pool: server.database.pool, access: server.access, tokens: accessTokens(server.jwtSecret, 900),
      registry: new Registry(), log, workerBinary: process.env.MEDIASOUP_WORKER_BIN, workers: 1,
      certificateDir: path.join(server.dataDir, 'sfu'),
      rtc: { listenIp: '127.0.0.1', minPort: 39710, maxPort: 39719, enableTcp: true },
      limits: {
        maxPeersPerRoom: 3, maxProducersPerPeer: 2, requestsPerSecond: 10, userRequestsPerSecond: 50,
        maxConnectionsPerUser: 1, maxPeersPerUserPerRoom: 1, maxRoomsPerUser: 1, maxTransportsPerUser: 2,
      },
    });
    const http = createServer();
    http.on('upgrade', (request, socket, head) => calls.handleUpgrade(request, socket, head));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const at = { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
    const member = await newMember();
    const forged = `${member.token.slice(0, -6)}AAAAAA`;
    try {
      const channel = await voiceChannel();
      assert.equal((await (await rtcConnect(at, forged, channel)).closed).code, 4401);
      const client = await rtcConnect(at, member.token, channel);
      assert.equal((await (await rtcConnect(at, member.token, channel)).closed).code, 4429);
      assert.equal((await client.request('createWebRtcTransport', { direction: 'send' })).error?.code, 'not_joined');
      const flood = await Promise.all(Array.from({ length: 30 }, () => client.request('getRouterRtpCapabilities')));
      assert.ok(flood.filter((a) => a.error?.code === 'too_many_requests').length >= 5);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await joinCall(client);
      const send = await client.ok('createWebRtcTransport', { direction: 'send' });
      const mismatch = await client.request('produce', {
        transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(32000), app_data: { source: 'webcam' },
      });
      assert.equal(mismatch.error?.code, 'source_mismatch');
      client.close();
      await client.closed;
    } finally {
      http.close();
      await calls.close();
    }
    const refusals = lines.filter((l) => / refused$/.test(l.msg)).map((l) => [l.level, l.msg, l.code, l.reason]);
    assert.deepEqual(refusals, [
      [30, 'rtc connection refused', 4401, 'invalid_token'],
      [30, 'rtc connection refused', 4429, 'too many call connections (at most 1 per user)'],
      [30, 'call request refused', 'not_joined', 'join the call first'],
      [40, 'call request refused', 'too_many_requests', 'too many requests on this connection: slow down'],
      [30, 'call request refused', 'source_mismatch', 'webcam is video, not audio'],
    ]);
    for (const line of lines) {
      const text = JSON.stringify(line);
      assert.ok(!text.includes(member.token) && !text.includes(forged) && !/token=|\/rtc\?|\\n\s+at /.test(text), text);
      assert.ok(!('err' in line) && !('stack' in line), text);
    }
  });
});

describe('cleanup and recovery', () => {
  it('a dropped socket removes its peer and everything it owned, and an empty room closes', async () => {
    const channel = await voiceChannel();
    const stay = await connect(team.owner.token, channel);
    const drop = await connect(team.member.token, channel);
    const stayJoined = await joinCall(stay);
    const dropJoined = await joinCall(drop);
    await stay.ok('createWebRtcTransport', { direction: 'recv' });
    const mic = await sendMic(drop, 6666);
    const consumer = await stay.next('newConsumer', (c) => c.producer_id === mic);
    drop.socket.terminate();
    assert.equal((await stay.next('peerLeft')).peer_id, dropJoined.peer_id);
    assert.equal((await stay.next('consumerClosed')).consumer_id, consumer.id);
    assert.deepEqual(await participants(channel), [stayJoined.peer_id]);
    assert.ok(server.calls.workers().some((w) => w.channels.includes(channel)));
    stay.close();
    await eventually(async () => assert.ok(!server.calls.workers().some((w) => w.channels.includes(channel))));
    assert.deepEqual(await participants(channel), []);
  });

  it('a worker that dies is replaced and its peers are told to join again, which works', async () => {
    const channel = await voiceChannel();
    const ann = await connect(team.owner.token, channel);
    const bob = await connect(team.member.token, channel);
    await joinCall(ann);
    await joinCall(bob);
    const [before] = server.calls.workers();
    assert.ok(before && before.channels.includes(channel));
    process.kill(before.pid, 'SIGKILL');
    const told = await Promise.all([ann.next('rejoin'), bob.next('rejoin')]);
    assert.match(told[0].reason, /join the call again/);
    assert.deepEqual(await participants(channel), []);
    // At once, as a client does on `rejoin`: the room waits for the replacement worker.
    const annAgain = await joinCall(ann);
    const bobAgain = await joinCall(bob);
    const now = server.calls.workers();
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.pid, before.pid);
    assert.deepEqual(bobAgain.peers.map((p: { id: string }) => p.id), [annAgain.peer_id]);
    await sendMic(ann, 7777);
    await bob.ok('createWebRtcTransport', { direction: 'recv' });
    await bob.next('newConsumer', (c) => c.peer_id === annAgain.peer_id);
  });

  it('a member lowered to viewer stops sending at once; one removed from the group is disconnected', async () => {
    const channel = await voiceChannel();
    const member = await server.signUp('caller');
    const added = await server.call('POST', `/api/groups/${team.groupId}/members`, {
      token: team.owner.token, json: { user_id: member.id, role: 'member' },
    });
    assert.equal(added.status, 201);
    const listener = await connect(team.owner.token, channel);
    const caller = await connect(member.token, channel);
    await joinCall(listener);
    await joinCall(caller);
    await listener.ok('createWebRtcTransport', { direction: 'recv' });
    const mic = await sendMic(caller, 8888);
    await listener.next('newConsumer', (c) => c.producer_id === mic);

    const demoted = await server.call('PATCH', `/api/groups/${team.groupId}/members/${member.id}`, {
      token: team.owner.token, json: { role: 'viewer' },
    });
    assert.equal(demoted.status, 200);
    assert.equal((await caller.next('producerClosed')).producer_id, mic);
    assert.equal((await listener.next('consumerClosed')).producer_id, mic);
    assert.equal((await caller.request('createWebRtcTransport', { direction: 'send' })).error?.code, 'forbidden');

    const removed = await server.call('DELETE', `/api/groups/${team.groupId}/members/${member.id}`, { token: team.owner.token });
    assert.equal(removed.status, 204);
    assert.deepEqual(await caller.closed, { code: 4403, reason: 'access revoked' });
    await listener.next('peerLeft');
  });

  it('archiving a voice channel ends its call and refuses joins until unarchived; deleting it ends its call', async () => {
    const channel = await voiceChannel();
    const elsewhere = await voiceChannel();
    const ann = await connect(team.owner.token, channel);
    const bob = await connect(team.member.token, channel);
    await joinCall(ann);
    await joinCall(bob);
    // Beside it, a call in a channel that stays unarchived.
    const listener = await connect(team.viewer.token, elsewhere);
    const speaker = await connect(team.member.token, elsewhere);
    const listenerJoined = await joinCall(listener);
    await joinCall(speaker);
    await listener.ok('createWebRtcTransport', { direction: 'recv' });

    const archived = await server.call('POST', `/api/channels/${channel}/archive`, { token: team.owner.token });
    assert.equal(archived.status, 200);
    for (const client of [ann, bob]) assert.deepEqual(await client.closed, { code: 4409, reason: 'channel archived' });
    assert.deepEqual(await participants(channel), []);
    const refused = await rtcConnect(server, team.member.token, channel);
    assert.deepEqual(await refused.closed, { code: 4409, reason: 'channel archived' });

    // The other call goes on: media still reaches its listener.
    const mic = await sendMic(speaker, 9999);
    await listener.next('newConsumer', (c) => c.producer_id === mic);
    assert.equal((await participants(elsewhere)).length, 2);
    assert.ok((await participants(elsewhere)).includes(listenerJoined.peer_id));

    const unarchived = await server.call('POST', `/api/channels/${channel}/unarchive`, { token: team.owner.token });
    assert.equal(unarchived.status, 200);
    const again = await connect(team.member.token, channel);
    const rejoined = await joinCall(again);
    assert.deepEqual(await participants(channel), [rejoined.peer_id]);

    const deleted = await server.call('DELETE', `/api/channels/${channel}`, { token: team.owner.token });
    assert.equal(deleted.status, 204);
    assert.deepEqual(await again.closed, { code: 4403, reason: 'channel deleted' });
    assert.equal((await speaker.request('closeProducer', { producer_id: mic })).ok, true);
  });
});

describe('TURN credentials', () => {
  it('are time-limited coturn REST-API credentials for the caller, and need a token', async () => {
    assert.equal((await server.call('GET', '/api/webrtc/turn-credentials')).status, 401);
    const res = await server.call('GET', '/api/webrtc/turn-credentials', { token: team.member.token });
    assert.equal(res.status, 200);
    const { username, credential, ttl, uris } = res.body;
    const [expiry, userId] = username.split(':');
    assert.equal(userId, team.member.id);
    assert.equal(ttl, 600);
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 5, `expiry ${expiry}`);
    assert.equal(credential, createHmac('sha1', TURN_SECRET).update(username).digest('base64'));
    assert.deepEqual(uris, ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
  });

  it('answer 503 when TURN is not configured', async () => {
    const plain = await startTestServer();
    try {
      const user = await plain.signUp('turnless');
      const res = await plain.call('GET', '/api/webrtc/turn-credentials', { token: user.token });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'unavailable');
    } finally {
      await plain.close();
    }
  });
});
