// Access changes on open connections, and hostile clients.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { accessTokens, createAccessCache, createLogger } from '../../core/index.ts';
import { accessControl, type CollabContext } from '../extensions/access.ts';
import { chat } from '../shapes/index.ts';
import {
  connect, goOffline, goOnline, pageText, paragraphs, refusalsOf, waitFor, writeParagraph, type Client,
} from './clients.ts';

let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer({
    COLLAB_MAX_UPDATE_BYTES: '65536', COLLAB_MAX_DOCUMENT_BYTES: '200000', COLLAB_MESSAGES_PER_SECOND: '50',
  });
  team = await setUpTeam(server, ['TEXT', 'DOC']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(name: string, token: string | (() => Promise<string>)): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

/** A raw Hocuspocus frame: document name, then a sync "update" message carrying `payload`. */
function updateFrame(documentName: string, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, documentName);
  encoding.writeVarUint(e, 0); // MessageType.Sync
  encoding.writeVarUint(e, 2); // y-protocols update
  encoding.writeVarUint8Array(e, payload);
  return encoding.toUint8Array(e);
}

/** Sends a raw frame on an authenticated provider's own socket, as a hostile client would. */
function sendRaw(c: Client, frame: Uint8Array): void {
  (c.socket as unknown as { webSocket: WebSocket }).webSocket.send(frame);
}

describe('access changes on open connections', () => {
  it('a removed member is disconnected at once and cannot reconnect', async () => {
    const t = await setUpTeam(server, ['TEXT']);
    const c = await client(t.channels.TEXT!, t.member.token);
    await server.call('DELETE', `/api/groups/${t.groupId}/members/${t.member.id}`, { token: t.owner.token });
    assert.equal(await c.refusal, 'access revoked');
    const again = await connect(server, t.channels.TEXT!, t.member.token, { expectRefusal: true });
    open.push(again);
    assert.ok(await again.refusal);
  });

  it('a member lowered to viewer becomes read-only at once, and writable again when raised', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const owner = await client(t.channels.DOC!, t.owner.token);
    const m = await client(t.channels.DOC!, t.member.token);
    const setRole = (role: string) =>
      server.call('PATCH', `/api/groups/${t.groupId}/members/${t.member.id}`, { token: t.owner.token, json: { role } });
    await setRole('viewer');
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeParagraph(m.doc, 'while viewer');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(pageText(owner.doc), '', 'the viewer’s edit was not applied');
    await setRole('member');
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeParagraph(m.doc, 'member again');
    await waitFor(() => paragraphs(owner.doc).includes('member again'), 'edit after promotion');
  });

  it('a deactivated user is disconnected at once', async () => {
    const t = await setUpTeam(server, ['TEXT']);
    const c = await client(t.channels.TEXT!, t.member.token);
    await server.database.pool.query('UPDATE users SET is_active = false WHERE id = $1', [t.member.id]);
    assert.equal(await c.refusal, 'access revoked');
  });

  it('a change heard while a connection was being admitted applies to it once it is registered', async () => {
    const t = await setUpTeam(server, ['TEXT']);
    const log = createLogger('silent');
    const access = await createAccessCache(server.database, log);
    const extension = accessControl(server.database.pool, access, accessTokens(server.jwtSecret, 900), log);
    // Authenticated (access checked) now, registered as a connection later, as Hocuspocus does in two steps.
    const admit = async (token: string) =>
      (await extension.onAuthenticate!({ token, documentName: t.channels.TEXT, connectionConfig: { readOnly: false } } as never)) as CollabContext;
    const register = async (context: CollabContext) => {
      const closed: { code: number; reason: string }[] = [];
      const connection = {
        context, document: { name: context.channelId }, readOnly: false, onClose: () => {}, sendStateless: () => {},
        close: (event: { code: number; reason: string }) => closed.push(event),
      };
      await extension.connected!({ connection, context } as never);
      return closed;
    };
    try {
      const member = await admit(t.member.token);
      const owner = await admit(t.owner.token);
      const heard = new Promise<void>((resolve) => {
        const stop = access.onChange((change) => change === `member:${t.member.id}` && (stop(), resolve()));
      });
      await server.call('DELETE', `/api/groups/${t.groupId}/members/${t.member.id}`, { token: t.owner.token });
      await heard;
      // Removed in between: closed once registered. The owner, admitted in the same window, keeps access.
      const memberClosed = await register(member);
      const ownerClosed = await register(owner);
      await eventually(async () => assert.deepEqual(memberClosed, [{ code: 4403, reason: 'access revoked' }]));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(ownerClosed, []);
    } finally {
      await extension.onDestroy!({} as never);
      await access.stop();
    }
  });

  it('a client whose token expires reconnects with a fresh one and loses nothing', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = jwt.sign({ typ: 'access', exp }, server.jwtSecret, {
      subject: t.member.id, issuer: 'teamspace', audience: 'teamspace-api',
    });
    let current = shortLived;
    const c = await client(t.channels.DOC!, async () => current);
    const notices = refusalsOf(c);
    const text = writeParagraph(c.doc, 'before ');
    await c.saved();
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));
    const stale = await connect(server, t.channels.DOC!, shortLived, { expectRefusal: true });
    open.push(stale);
    assert.equal(await stale.refusal, 'token_expired', 'the old token no longer opens anything');
    // Offline while the token expired; the client refreshes it and the socket reconnects with the new one.
    await goOffline(c);
    text.insert(7, 'during ');
    const refreshed = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: t.member.refreshToken } });
    current = refreshed.body.access_token;
    await goOnline(c);
    await c.saved();
    const check = await client(t.channels.DOC!, t.owner.token);
    assert.equal(pageText(check.doc), 'before during ');
    assert.deepEqual(notices, [], 'nothing refused');
  });
});

describe('hostile clients', () => {
  it('a malformed update closes that connection and harms no one else', async () => {
    const name = team.channels.TEXT!;
    const good = await client(name, team.member.token);
    const notices = refusalsOf(good);
    const { id } = chat.writeMessage(good.doc, { author_id: team.member.id, text: 'intact' });
    await good.saved();
    const bad = await client(name, team.member.token);
    sendRaw(bad, updateFrame(name, new Uint8Array([1, 200, 7, 7, 7, 255, 255, 3])));
    assert.equal(await bad.refusal, 'malformed update');
    chat.appendToMessage(good.doc, id, ' and alive');
    await good.saved();
    const fresh = await client(name, team.owner.token);
    assert.deepEqual(chat.readMessages(fresh.doc).map((m) => m.text), ['intact and alive']);
    assert.deepEqual(notices, [], 'nothing of the good client refused');
  });

  it('an update that decodes but cannot be applied is refused before it is stored', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const name = t.channels.DOC!;
    const bad = await client(name, t.member.token);
    // Found by fuzzing: Y.decodeUpdate accepts it, Y.applyUpdate throws.
    const poison = Buffer.from('00040200c4010401000258592800010b01620177017a47010f060400020302796f01010201020502', 'hex');
    sendRaw(bad, updateFrame(name, poison));
    assert.equal(await bad.refusal, 'malformed update');
    const { rows } = await server.database.pool.query(
      'SELECT count(*)::int AS n FROM document_updates WHERE document_name = $1',
      [name],
    );
    assert.equal(rows[0].n, 0, 'nothing stored');
    bad.close();
    await eventually(async () => assert.equal(server.collab.hocuspocus.documents.has(name), false));
    const fresh = await client(name, t.owner.token);
    const notices = refusalsOf(fresh);
    writeParagraph(fresh.doc, 'still usable');
    await fresh.saved();
    assert.deepEqual(notices, [], 'nothing refused');
    const reader = await client(name, t.member.token);
    assert.equal(pageText(reader.doc), 'still usable');
  });

  it('an oversized update is refused before it is applied or stored', async () => {
    const name = team.channels.DOC!;
    const bad = await client(name, team.member.token);
    // Valid content, so only the size limit can keep it out.
    const big = new Y.Doc();
    writeParagraph(big, 'x'.repeat(100_000));
    sendRaw(bad, updateFrame(name, Y.encodeStateAsUpdate(big)));
    assert.match(await bad.refusal, /too large/);
    const fresh = await client(name, team.owner.token);
    assert.equal(pageText(fresh.doc).length, 0);
  });

  it('a document cannot grow past its size limit', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const c = await client(t.channels.DOC!, t.member.token);
    const notices = refusalsOf(c);
    const text = writeParagraph(c.doc, '');
    for (let i = 0; i < 3; i++) {
      text.insert(0, String(i).repeat(60_000));
      await c.saved();
    }
    assert.deepEqual(notices, [], 'nothing refused by the write rules');
    text.insert(0, 'x'.repeat(60_000));
    assert.equal(await c.refusal, 'document too large');
    const fresh = await client(t.channels.DOC!, t.owner.token);
    assert.equal(pageText(fresh.doc).length, 180_000, 'what was accepted is kept');
  });

  it('no one can pose as, or erase, another client in presence', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const name = t.channels.DOC!;
    const alice = await client(name, t.member.token);
    alice.provider.awareness!.setLocalStateField('name', 'Alice');
    const observer = await client(name, t.owner.token);
    const aliceId = alice.doc.clientID;
    const seen = () => observer.provider.awareness!.getStates().get(aliceId);
    await waitFor(() => seen()?.name === 'Alice', 'observer sees Alice');
    assert.equal(seen()!.user_id, t.member.id, 'states carry the sender’s user id');
    // A viewer sends an awareness update under Alice's client id.
    const mallory = await client(name, t.viewer.token);
    const fake = new Y.Doc();
    fake.clientID = aliceId;
    const spoof = new Awareness(fake);
    // A clock far ahead, so a server that let it through would make everyone ignore Alice's own updates.
    spoof.meta.set(aliceId, { clock: 1_000_000, lastUpdated: Date.now() });
    spoof.setLocalState({ name: 'Mallory as Alice' });
    const e = encoding.createEncoder();
    encoding.writeVarString(e, name);
    encoding.writeVarUint(e, 1); // MessageType.Awareness
    encoding.writeVarUint8Array(e, encodeAwarenessUpdate(spoof, [aliceId]));
    sendRaw(mallory, encoding.toUint8Array(e));
    spoof.destroy();
    alice.provider.awareness!.setLocalStateField('status', 'typing');
    await waitFor(() => seen()?.status === 'typing', 'Alice still updates her own state');
    assert.equal(seen()!.name, 'Alice');
  });

  it('a flood of messages closes the connection', async () => {
    const name = team.channels.DOC!;
    const bad = await client(name, team.member.token);
    const text = writeParagraph(bad.doc, 'x');
    for (let i = 0; i < 400; i++) text.insert(0, 'x');
    assert.equal(await bad.refusal, 'too many messages');
  });
});
