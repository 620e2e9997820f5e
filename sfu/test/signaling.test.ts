// Call signaling over /rtc against a running server with a real mediasoup worker (no media: see e2e/ for that).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { findWorkerBinary } from '../index.ts';
import { clientDtls, joinCall, opusParameters, rtcConnect, vp8SimulcastParameters, type RtcClient } from './rtc-client.ts';

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
    TURN_SECRET, TURN_URIS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp', TURN_TTL_SECONDS: '600',
  });
  team = await setUpTeam(server, ['VOICE', 'TEXT']);
});
after(async () => {
  for (const c of open) c.close();
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
      transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(4447), app_data: { source: 'screen' },
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
    const flood = await connect(team.member.token, channel);
    const answers = await Promise.all(Array.from({ length: 60 }, () => flood.request('getRouterRtpCapabilities')));
    const limited = answers.filter((a) => a.error?.code === 'too_many_requests').length;
    assert.ok(limited > 0 && limited < 60, `limited ${limited} of 60`);
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
