// Presence (awareness): the server stamps who a state belongs to, caps its size, and limits its rate, for viewers too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as encoding from 'lib0/encoding';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { connect, waitFor, type Client } from './clients.ts';

const maxBytes = 4096;
const perSecond = 5;

let server: TestServer;
let team: Team;
const open: Client[] = [];
before(async () => {
  server = await startTestServer({
    COLLAB_PRESENCE_MAX_BYTES: String(maxBytes),
    COLLAB_PRESENCE_PER_SECOND: String(perSecond),
    // The general message limit would close a flooding connection; here the presence rules are what is tested.
    COLLAB_MESSAGES_PER_SECOND: '5000',
  });
  team = await setUpTeam(server, ['DOC']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(token: string, name = team.channels.DOC!): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

/** The refusals the server tells `c` of (stateless `refused` notices), as they arrive. */
function notices(c: Client): { rule: string; reason: string; count: number }[] {
  const seen: { rule: string; reason: string; count: number }[] = [];
  c.provider.on('stateless', ({ payload }: { payload: string }) => {
    const notice = JSON.parse(payload);
    if (notice.type === 'refused') seen.push(...notice.refusals);
  });
  return seen;
}

const stateOf = (observer: Client, sender: Client) => observer.provider.awareness!.getStates().get(sender.doc.clientID);

/** Counts the states, and their JSON bytes, that `observer` receives for the given client ids. */
function received(observer: Client, clientIds: Set<number>) {
  const totals = { states: 0, bytes: 0 };
  observer.provider.awareness!.on('update', ({ added, updated }: { added: number[]; updated: number[] }) => {
    for (const id of [...added, ...updated]) {
      if (!clientIds.has(id)) continue;
      totals.states++;
      totals.bytes += JSON.stringify(observer.provider.awareness!.getStates().get(id)).length;
    }
  });
  return totals;
}

describe('presence', () => {
  it('the server stamps the verified user over what the client claims, and keeps the rest', async () => {
    await server.database.pool.query(`UPDATE users SET display_name = 'Ada Verified' WHERE id = $1`, [team.member.id]);
    await eventually(async () => {
      assert.equal((await server.access.user(team.member.id))?.display_name, 'Ada Verified');
    });
    const ada = await client(team.member.token);
    const observer = await client(team.owner.token);
    ada.provider.awareness!.setLocalState({
      user: { id: team.owner.id, name: 'The Owner', color: '#e91e63', role: 'owner' },
      user_id: team.owner.id,
      cursor: { anchor: 3, head: 7 },
    });
    await waitFor(() => stateOf(observer, ada)?.cursor !== undefined, 'observer sees the state');
    assert.deepEqual(stateOf(observer, ada), {
      user: { color: '#e91e63', id: team.member.id, name: 'Ada Verified' },
      user_id: team.member.id,
      cursor: { anchor: 3, head: 7 },
    });
    // A renamed account is stamped with its new name from the next state on.
    await server.database.pool.query(`UPDATE users SET display_name = 'Ada Renamed' WHERE id = $1`, [team.member.id]);
    await eventually(async () => {
      ada.provider.awareness!.setLocalStateField('cursor', { anchor: Math.random(), head: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((stateOf(observer, ada)?.user as { name?: string })?.name, 'Ada Renamed');
    }, 5000);
    // Without a display name, the username.
    const viewer = await client(team.viewer.token);
    viewer.provider.awareness!.setLocalStateField('user', { name: 'Someone Else' });
    await waitFor(() => stateOf(observer, viewer)?.user !== undefined, 'observer sees the viewer');
    assert.deepEqual(stateOf(observer, viewer)!.user, { id: team.viewer.id, name: team.viewer.username });
  });

  it('a state over the size cap is refused with a notice; one under it passes', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const sender = await client(t.member.token, t.channels.DOC!);
    const told = notices(sender);
    const observer = await client(t.owner.token, t.channels.DOC!);
    sender.provider.awareness!.setLocalStateField('note', 'a'.repeat(3000));
    await waitFor(() => (stateOf(observer, sender)?.note as string)?.length === 3000, 'the small state arrives');
    sender.provider.awareness!.setLocalStateField('note', 'b'.repeat(maxBytes + 1));
    await waitFor(() => told.length > 0, 'the sender is told');
    const reason = `a presence state may be at most ${maxBytes} bytes`;
    assert.deepEqual(told, [{ rule: 'presence.size', reason, count: 1 }]);
    assert.equal(stateOf(observer, sender)!.note, 'a'.repeat(3000), 'the oversized state never reached anyone');
    // The connection stays, and the next state that fits is relayed.
    sender.provider.awareness!.setLocalStateField('note', 'c');
    await waitFor(() => stateOf(observer, sender)?.note === 'c', 'the next small state');
    assert.equal(told.length, 1, JSON.stringify(told));
  });

  it('a viewer flooding presence reaches others at the presence rate, and its last state still arrives', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const observer = await client(t.owner.token, t.channels.DOC!);
    const viewer = await client(t.viewer.token, t.channels.DOC!);
    // Positive control: a viewer's normal presence (a cursor) is relayed, stamped.
    viewer.provider.awareness!.setLocalStateField('cursor', { anchor: 1, head: 1 });
    await waitFor(() => stateOf(observer, viewer)?.cursor !== undefined, 'the viewer’s cursor');
    assert.equal(stateOf(observer, viewer)!.user_id, t.viewer.id);

    const totals = received(observer, new Set([viewer.doc.clientID]));
    const padding = 'x'.repeat(3000);
    const sent = 400;
    const started = Date.now();
    for (let seq = 1; seq <= sent; seq++) {
      viewer.provider.awareness!.setLocalStateField('flood', { seq, padding });
      if (seq % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitFor(() => (stateOf(observer, viewer)?.flood as { seq: number })?.seq === sent, 'the last state', 10_000);
    const seconds = (Date.now() - started) / 1000;
    // A burst of one second's worth, then the rate, over the time it took (plus the last, held state).
    const bound = perSecond * (seconds + 1) + 1;
    assert.ok(totals.states <= bound, `${totals.states} states in ${seconds}s (bound ${bound})`);
    assert.ok(totals.bytes <= bound * (maxBytes + 200), `${totals.bytes} bytes`);
    assert.ok(totals.states * 10 < sent, 'most of the flood never left the server');
  });

  it("a user's connections to one document share a rate", async () => {
    const t = await setUpTeam(server, ['DOC']);
    const observer = await client(t.owner.token, t.channels.DOC!);
    const tabs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client(t.viewer.token, t.channels.DOC!)));
    const totals = received(observer, new Set(tabs.map((c) => c.doc.clientID)));
    const started = Date.now();
    for (let seq = 1; seq <= 100; seq++) {
      for (const tab of tabs) tab.provider.awareness!.setLocalStateField('seq', seq);
      if (seq % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitFor(() => tabs.every((tab) => stateOf(observer, tab)?.seq === 100), 'every tab’s last state', 15_000);
    const seconds = (Date.now() - started) / 1000;
    // Twice the per-connection rate for all six together, not six times it.
    const bound = 2 * perSecond * (seconds + 1) + tabs.length;
    assert.ok(totals.states <= bound, `${totals.states} states in ${seconds}s (bound ${bound})`);
  });

  it('a connection may hold only a few client ids', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const observer = await client(t.owner.token, t.channels.DOC!);
    const sender = await client(t.member.token, t.channels.DOC!);
    const told = notices(sender);
    // The provider's own client id is the first of the connection's four.
    sender.provider.awareness!.setLocalStateField('cursor', 1);
    await waitFor(() => stateOf(observer, sender) !== undefined, 'the sender’s own state');
    const ids = [101, 102, 103, 104, 105];
    (sender.socket as unknown as { webSocket: WebSocket }).webSocket.send(awarenessFrame(t.channels.DOC!, ids));
    await waitFor(() => told.length === 2, `the sender is told of both ids too many ${JSON.stringify(told)}`);
    assert.deepEqual(told.map((n) => n.rule), ['presence.clients', 'presence.clients']);
    const shown = () => ids.filter((id) => observer.provider.awareness!.getStates().has(id));
    await waitFor(() => shown().length === 3, 'the ids that fit');
    assert.deepEqual(shown(), [101, 102, 103]);
  });
});

/** A raw awareness message setting a small state for each of `clientIds`. */
function awarenessFrame(documentName: string, clientIds: number[]): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, clientIds.length);
  for (const id of clientIds) {
    encoding.writeVarUint(update, id);
    encoding.writeVarUint(update, 1);
    encoding.writeVarString(update, JSON.stringify({ n: id }));
  }
  const e = encoding.createEncoder();
  encoding.writeVarString(e, documentName);
  encoding.writeVarUint(e, 1); // MessageType.Awareness
  encoding.writeVarUint8Array(e, encoding.toUint8Array(update));
  return encoding.toUint8Array(e);
}
