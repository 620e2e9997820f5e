// The life cycle of groups, channels and accounts: renaming, archiving (read-only over REST and /collab), deleting
// (everything stored for a channel leaves the database and Chroma), changing one's password and deleting one's
// account. Runs with AI on (real embedder and Chroma, the Ollama double), so deletions are checked in Chroma too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChromaClient } from 'chromadb';
import { chat, keyringFromBase64, type Keyring } from '../../collab/index.ts';
import { connect, pageText, waitFor, writeParagraph, type Client } from '../../collab/test/clients.ts';
import { startAiTestServer, type AiTestServer } from '../../ai/test/ai-server.ts';
import { readFileBytes, readFileText } from '../files/store.ts';
import { errorCode, eventually, setUpTeam, type TestServer } from './harness.ts';

let ai: AiTestServer;
let server: TestServer;
let keyring: Keyring;
let chroma: { url: string; collection: string };
const open: Client[] = [];

before(async () => {
  // Small chat parts, so a chat's history is rolled over into segments and their deletion is seen too.
  ai = await startAiTestServer({ COLLAB_CHAT_LIVE_MESSAGES: '6', COLLAB_CHAT_SEGMENT_MESSAGES: '4' });
  server = ai.server;
  keyring = keyringFromBase64(readFileSync(path.join(server.dataDir, 'encryption-key'), 'utf8').trim());
  chroma = (await server.call('GET', '/api/ai/health', { token: (await server.signUp('health')).token })).body.chroma;
});
after(async () => {
  for (const c of open) c.close();
  await ai.close();
});

async function client(name: string, token: string): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The audit entries with this action, from the whole log (group ones and those outside any group). */
async function audited(action: string, detail?: [string, string]) {
  const { rows } = await server.database.pool.query(
    `SELECT actor_id, group_id, target_user_id, details FROM audit_log
      WHERE action = $1 AND ($2::text IS NULL OR details ->> $2 = $3) ORDER BY id`,
    [action, detail?.[0] ?? null, detail?.[1] ?? null],
  );
  return rows;
}

/**
 * Where each needle occurs in the database: in the decrypted bytes of every stored document row (`doc:<name>`) and
 * every file and file text (`file:<id>`), and in the text of every row of every table (`table:<name>`).
 */
async function scan(needles: string[]): Promise<Record<string, Set<string>>> {
  const found: Record<string, Set<string>> = Object.fromEntries(needles.map((n) => [n, new Set<string>()]));
  const note = (text: string, where: string) => {
    for (const n of needles) if (text.includes(n)) found[n]!.add(where);
  };
  const db = server.database.pool;
  const { rows: documents } = await db.query(
    `SELECT document_name, key_id, payload FROM document_snapshots
     UNION ALL SELECT document_name, key_id, payload FROM document_updates`,
  );
  for (const row of documents) {
    note(Buffer.from(keyring.open({ keyId: row.key_id, payload: row.payload }, row.document_name)).toString('latin1'), `doc:${row.document_name}`);
  }
  const { rows: files } = await db.query<{ id: string }>('SELECT id FROM files');
  for (const { id } of files) {
    note((await readFileBytes(db, keyring, id))!.bytes.toString('utf8'), `file:${id}`);
    note(JSON.stringify(await readFileText(db, keyring, id)), `file:${id}`);
  }
  const { rows: tables } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  for (const { table_name: table } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
    for (const { row } of rows) note(row, `table:${table}`);
  }
  return found;
}

/** Chunks Chroma holds for a channel, asked of Chroma itself. */
async function chunksOf(channelId: string): Promise<number> {
  const { hostname, port } = new URL(chroma.url);
  const client = new ChromaClient({ host: hostname, port: Number(port) });
  const collection = await client.getCollection({ name: chroma.collection });
  return (await collection.get({ where: { channel_id: channelId }, include: [] })).ids.length;
}

/** Writes `marker` into every kind of storage a channel has: its document, REST items, a file. */
async function fill(team: Awaited<ReturnType<typeof setUpTeam>>, type: string, marker: string): Promise<void> {
  const id = team.channels[type]!;
  const token = team.member.token;
  if (type === 'TEXT') {
    // Over /collab (attributed writes, client ids), then rolled over so segments and generations hold it too.
    const c = await client(id, token);
    for (let i = 0; i < 9; i++) chat.writeMessage(c.doc, { author_id: team.member.id, text: `${marker} message ${i}` });
    await c.saved();
    assert.ok((await server.collab.history.rollOver(id))?.segments.length, 'rolled over into segments');
  } else if (type === 'DOC') {
    assert.equal((await server.call('PUT', `/api/channels/${id}/document`, { token, json: { text: `${marker} on the page` } })).status, 200);
  } else if (type === 'TODO') {
    assert.equal((await server.call('POST', `/api/channels/${id}/tasks`, { token, json: { content: `${marker} task` } })).status, 201);
  } else if (type === 'KANBAN') {
    const column = await server.call('POST', `/api/channels/${id}/kanban/columns`, { token, json: { title: `${marker} column` } });
    const card = await server.call('POST', `/api/kanban/columns/${column.body.id}/cards`, { token, json: { content: `${marker} card` } });
    assert.equal(card.status, 201);
  }
  const form = new FormData();
  form.append('file', new Blob([`${marker} in a file`], { type: 'text/plain' }), 'notes.txt');
  assert.equal((await server.call('POST', `/api/files/upload/${id}`, { token, multipart: form })).status, 201);
}

/** Runs the indexing queue until Chroma holds chunks of every channel given. */
async function indexed(channelIds: string[]): Promise<void> {
  await server.ai.sweep();
  await eventually(async () => {
    await server.ai.drain();
    for (const id of channelIds) assert.ok((await chunksOf(id)) > 0, `chunks of ${id}`);
  }, 30_000);
}

describe('renaming and describing', () => {
  it('owners and admins rename and describe a group, members cannot; each change is audited', async () => {
    const t = await setUpTeam(server);
    const admin = await server.signUp('admin');
    await server.call('POST', `/api/groups/${t.groupId}/members`, { token: t.owner.token, json: { user_id: admin.id, role: 'admin' } });
    const byMember = await server.call('PATCH', `/api/groups/${t.groupId}`, { token: t.member.token, json: { name: 'Mine now' } });
    assert.equal(byMember.status, 403);
    assert.equal(errorCode(byMember), 'forbidden');
    const renamed = await server.call('PATCH', `/api/groups/${t.groupId}`, { token: admin.token, json: { name: 'Platform', description: 'Infra and tools' } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual([renamed.body.name, renamed.body.description, renamed.body.role], ['Platform', 'Infra and tools', 'admin']);
    const seen = await server.call('GET', `/api/groups/${t.groupId}`, { token: t.member.token });
    assert.deepEqual([seen.body.name, seen.body.description], ['Platform', 'Infra and tools'], 'members see it at once');
    assert.equal((await server.call('PATCH', `/api/groups/${t.groupId}`, { token: t.owner.token, json: {} })).status, 422);
    const [entry] = (await audited('group.updated')).filter((e) => e.group_id === t.groupId);
    assert.equal(entry.actor_id, admin.id);
    assert.deepEqual(entry.details.name, { from: 'Team', to: 'Platform' });
  });

  it('renames a channel and keeps names unique in the group; members and DM participants cannot', async () => {
    const t = await setUpTeam(server, ['TEXT', 'DOC']);
    const docName = (await server.call('GET', `/api/channels/${t.channels.DOC}`, { token: t.owner.token })).body.name;
    const url = `/api/channels/${t.channels.TEXT}`;
    assert.equal((await server.call('PATCH', url, { token: t.member.token, json: { name: 'general' } })).status, 403);
    const clash = await server.call('PATCH', url, { token: t.owner.token, json: { name: docName.toUpperCase() } });
    assert.equal(clash.status, 409);
    assert.match(clash.body.error.message, /already has a channel named/);
    const renamed = await server.call('PATCH', url, { token: t.owner.token, json: { name: 'general', description: 'Anything goes' } });
    assert.equal(renamed.status, 200);
    assert.deepEqual([renamed.body.name, renamed.body.description], ['general', 'Anything goes']);
    const listed = await server.call('GET', `/api/groups/${t.groupId}/channels`, { token: t.viewer.token });
    assert.deepEqual(listed.body.find((c: { id: string }) => c.id === t.channels.TEXT).name, 'general');
    const dm = await server.call('POST', '/api/dms', { token: t.member.token, json: { user_id: t.owner.id } });
    assert.equal((await server.call('PATCH', `/api/channels/${dm.body.id}`, { token: t.member.token, json: { name: 'ours' } })).status, 403);
    const [entry] = await audited('channel.updated', ['channel_id', t.channels.TEXT!]);
    assert.equal(entry.group_id, t.groupId);
    assert.deepEqual(entry.details.description, { from: '', to: 'Anything goes' });
  });
});

describe('archiving a channel', () => {
  it('refuses REST writes to an archived channel (409 channel_archived) beside one that is not archived', async () => {
    const t = await setUpTeam(server, ['TODO', 'KANBAN']);
    const archived = await server.call('POST', `/api/channels/${t.channels.TODO}/archive`, { token: t.owner.token });
    assert.equal(archived.status, 200);
    assert.ok(archived.body.archived_at, 'marked archived');
    const task = (channel: string) =>
      server.call('POST', `/api/channels/${channel}/tasks`, { token: t.member.token, json: { content: 'after the archive' } });
    const refused = await task(t.channels.TODO!);
    assert.equal(refused.status, 409);
    assert.equal(errorCode(refused), 'channel_archived');
    const form = new FormData();
    form.append('file', new Blob(['notes'], { type: 'text/plain' }), 'notes.txt');
    assert.equal(errorCode(await server.call('POST', `/api/files/upload/${t.channels.TODO}`, { token: t.member.token, multipart: form })), 'channel_archived');
    const column = await server.call('POST', `/api/channels/${t.channels.KANBAN}/kanban/columns`, { token: t.member.token, json: { title: 'Open' } });
    assert.equal(column.status, 201, 'the channel beside it takes writes');
    assert.equal((await server.call('GET', `/api/channels/${t.channels.TODO}/tasks`, { token: t.viewer.token })).status, 200, 'still read');
    const listed = (await server.call('GET', `/api/groups/${t.groupId}/channels`, { token: t.member.token })).body;
    assert.deepEqual(
      listed.map((c: { id: string; archived_at: string | null }) => [c.id, c.archived_at !== null]),
      [[t.channels.TODO, true], [t.channels.KANBAN, false]],
    );
    assert.equal((await server.call('POST', `/api/channels/${t.channels.TODO}/unarchive`, { token: t.owner.token })).body.archived_at, null);
    assert.equal((await task(t.channels.TODO!)).status, 201, 'writable again once unarchived');
    assert.equal((await audited('channel.archived', ['channel_id', t.channels.TODO!])).length, 1);
    assert.equal((await audited('channel.unarchived', ['channel_id', t.channels.TODO!])).length, 1);
  });

  it('turns open /collab connections read-only at once, and tells them; the channel beside it stays writable', async () => {
    const t = await setUpTeam(server, ['DOC']);
    const other = (await server.call('POST', `/api/groups/${t.groupId}/channels`, { token: t.owner.token, json: { name: 'beside', type: 'DOC' } })).body.id;
    const [ownerA, ownerB] = [await client(t.channels.DOC!, t.owner.token), await client(other, t.owner.token)];
    const [memberA, memberB] = [await client(t.channels.DOC!, t.member.token), await client(other, t.member.token)];
    const notices: unknown[] = [];
    memberA.provider.on('stateless', ({ payload }: { payload: string }) => notices.push(JSON.parse(payload)));
    assert.equal((await server.call('POST', `/api/channels/${t.channels.DOC}/archive`, { token: t.owner.token })).status, 200);
    await waitFor(() => notices.length > 0, 'the access notice');
    assert.deepEqual(notices[0], { type: 'access', document: t.channels.DOC, read_only: true, archived: true });
    writeParagraph(memberA.doc, 'written after the archive');
    writeParagraph(memberB.doc, 'written beside it');
    await waitFor(() => pageText(ownerB.doc) === 'written beside it', 'the write beside it');
    await pause(300);
    assert.equal(pageText(ownerA.doc), '', 'the archived page took nothing');
    const stored = await server.call('GET', `/api/channels/${t.channels.DOC}/document`, { token: t.owner.token });
    assert.equal(stored.body.text.includes('after the archive'), false);
    // A new connection is read-only from the start, the owner's too.
    const late = await client(t.channels.DOC!, t.owner.token);
    assert.equal(late.provider.authorizedScope, 'readonly');
    await server.call('POST', `/api/channels/${t.channels.DOC}/unarchive`, { token: t.owner.token });
    await waitFor(() => notices.length > 1, 'the second access notice');
    assert.deepEqual(notices[1], { type: 'access', document: t.channels.DOC, read_only: false, archived: false });
    writeParagraph(ownerA.doc, 'unarchived');
    await waitFor(() => pageText(memberA.doc).includes('unarchived'), 'a write once unarchived');
  });
});

describe('deleting channels and groups', () => {
  it('a member or an admin cannot delete a channel, nor an admin a group; the owner can', async () => {
    const t = await setUpTeam(server, ['TEXT']);
    const admin = await server.signUp('admin');
    await server.call('POST', `/api/groups/${t.groupId}/members`, { token: t.owner.token, json: { user_id: admin.id, role: 'admin' } });
    assert.equal((await server.call('DELETE', `/api/channels/${t.channels.TEXT}`, { token: t.member.token })).status, 403);
    assert.equal((await server.call('DELETE', `/api/channels/${t.channels.TEXT}`, { token: admin.token })).status, 403);
    assert.equal((await server.call('DELETE', `/api/channels/${t.channels.TEXT}`, { token: t.outsider.token })).status, 404);
    assert.equal((await server.call('DELETE', `/api/groups/${t.groupId}`, { token: admin.token })).status, 403);
    assert.equal((await server.call('DELETE', `/api/groups/${t.groupId}`, { token: t.member.token })).status, 403);
    assert.equal((await server.call('GET', `/api/channels/${t.channels.TEXT}`, { token: t.member.token })).status, 200, 'all still there');
    assert.equal((await server.call('DELETE', `/api/channels/${t.channels.TEXT}`, { token: t.owner.token })).status, 204);
    assert.equal((await server.call('DELETE', `/api/groups/${t.groupId}`, { token: t.owner.token })).status, 204);
  });

  it("removes a deleted channel's content from every table and from Chroma, and closes its connections", async () => {
    const t = await setUpTeam(server, ['TEXT', 'DOC', 'TODO', 'KANBAN']);
    const kept = await setUpTeam(server, ['DOC']);
    const marker = `gone-${process.pid}-${Date.now()}`;
    const keptMarker = `kept-${process.pid}-${Date.now()}`;
    for (const type of ['TEXT', 'DOC', 'TODO', 'KANBAN']) await fill(t, type, marker);
    await fill(kept, 'DOC', keptMarker);
    const deleted = Object.values(t.channels);
    await indexed([...deleted, kept.channels.DOC!]);
    const before = await scan([marker, keptMarker]);
    for (const kind of ['doc', 'file']) assert.ok([...before[marker]!].some((w) => w.startsWith(`${kind}:`)), `the marker is found in ${kind} before`);
    assert.ok([...before[marker]!].some((w) => w.includes('/history/')), 'and in a history segment');
    const watching = await client(t.channels.DOC!, t.member.token);

    for (const id of deleted) {
      assert.equal((await server.call('DELETE', `/api/channels/${id}`, { token: t.owner.token })).status, 204);
    }
    assert.equal(await watching.refusal, 'access revoked', 'its open connection closed at once');
    for (const id of deleted) assert.equal((await server.call('GET', `/api/channels/${id}`, { token: t.owner.token })).status, 404);
    assert.equal((await server.call('GET', `/api/channels/${t.channels.TODO}/tasks`, { token: t.member.token })).status, 404);
    const listed = await server.call('GET', `/api/groups/${t.groupId}/channels`, { token: t.owner.token });
    assert.deepEqual(listed.body, []);

    await eventually(async () => {
      await server.ai.drain();
      const after = await scan([marker, keptMarker, ...deleted]);
      assert.deepEqual([...after[marker]!], [], 'the marker is nowhere');
      for (const id of deleted) {
        const places = [...after[id]!].filter((w) => w !== 'table:document_fences' && w !== 'table:audit_log');
        assert.deepEqual(places, [], `only a sealed fence and the audit log name ${id}`);
      }
      assert.ok(after[keptMarker]!.size >= 2, 'the other group keeps its content');
      for (const id of deleted) assert.equal(await chunksOf(id), 0, `Chroma holds nothing of ${id}`);
    }, 30_000);
    assert.ok((await chunksOf(kept.channels.DOC!)) > 0, 'nor was the other group touched in Chroma');
    const entries = (await audited('channel.deleted')).filter((e) => e.group_id === t.groupId);
    assert.deepEqual(entries.map((e) => e.details.channel_id).sort(), [...deleted].sort());
    assert.ok(entries.every((e) => e.actor_id === t.owner.id));
  });

  it("deletes a group with its channels and memberships; the deletion is audited outside the group's own log", async () => {
    const t = await setUpTeam(server, ['TEXT', 'KANBAN']);
    const marker = `group-gone-${process.pid}-${Date.now()}`;
    await fill(t, 'KANBAN', marker);
    const watching = await client(t.channels.TEXT!, t.member.token);
    assert.equal((await server.call('DELETE', `/api/groups/${t.groupId}`, { token: t.owner.token })).status, 204);
    assert.equal(await watching.refusal, 'access revoked');
    assert.equal((await server.call('GET', `/api/groups/${t.groupId}`, { token: t.member.token })).status, 404);
    assert.equal((await server.call('GET', `/api/channels/${t.channels.KANBAN}`, { token: t.owner.token })).status, 404);
    assert.deepEqual((await server.call('GET', '/api/groups', { token: t.member.token })).body, []);
    const [entry] = await audited('group.deleted', ['group_id', t.groupId]);
    assert.deepEqual([entry.group_id, entry.actor_id, entry.details.name, entry.details.channels], [null, t.owner.id, 'Team', 2]);
    await eventually(async () => {
      await server.ai.drain();
      const after = await scan([marker, t.groupId]);
      assert.deepEqual([...after[marker]!], []);
      assert.deepEqual([...after[t.groupId]!], ['table:audit_log'], 'only the record of its deletion names the group');
    }, 30_000);
  });
});

describe('your own account', () => {
  const login = (username: string, password: string) => server.call('POST', '/api/auth/token', { form: { username, password } });

  it('changing the password needs the current one, revokes every other session and keeps this one', async () => {
    const me = await server.signUp('pw');
    const elsewhere = (await login(me.username, me.password)).body;
    const change = (current: string) =>
      server.call('POST', '/api/auth/password', { token: me.token, json: { current_password: current, new_password: 'a brand new passphrase' } });
    const wrong = await change('not my password at all');
    assert.equal(wrong.status, 401);
    assert.equal(errorCode(wrong), 'invalid_credentials');
    assert.equal((await login(me.username, me.password)).status, 200, 'the wrong attempt changed nothing');
    const changed = await change(me.password);
    assert.equal(changed.status, 200);
    const refreshOther = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: elsewhere.refresh_token } });
    assert.equal(refreshOther.status, 401, 'the other session is signed out');
    assert.equal(errorCode(refreshOther), 'invalid_grant');
    const refreshMine = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: changed.body.refresh_token } });
    assert.equal(refreshMine.status, 200, 'this session goes on with its new pair');
    assert.equal((await server.call('GET', '/api/auth/me', { token: changed.body.access_token })).status, 200);
    assert.equal((await login(me.username, me.password)).status, 401, 'the old password no longer works');
    assert.equal((await login(me.username, 'a brand new passphrase')).status, 200);
    const [entry] = (await audited('account.password_changed')).filter((e) => e.target_user_id === me.id);
    assert.deepEqual([entry.actor_id, entry.group_id], [me.id, null]);
  });

  it('deleting the account: the only owner of a group must hand it over first; content stays, shown as a deleted user', async () => {
    const t = await setUpTeam(server, ['TEXT']);
    const c = await client(t.channels.TEXT!, t.owner.token);
    chat.writeMessage(c.doc, { author_id: t.owner.id, text: 'written before leaving' });
    await c.saved();
    const remove = (password: string) => server.call('DELETE', '/api/auth/me', { token: t.owner.token, json: { password } });
    assert.equal(errorCode(await remove('not my password at all')), 'invalid_credentials');
    const blocked = await remove(t.owner.password);
    assert.equal(blocked.status, 409);
    assert.deepEqual(blocked.body.error.details.groups, [{ id: t.groupId, name: 'Team' }]);
    assert.match(blocked.body.error.message, /only owner of "Team"/);
    await server.call('PATCH', `/api/groups/${t.groupId}/members/${t.member.id}`, { token: t.owner.token, json: { role: 'owner' } });
    assert.equal((await remove(t.owner.password)).status, 204);

    assert.equal(await c.refusal, 'access revoked', 'open connections close');
    assert.equal((await login(t.owner.username, t.owner.password)).status, 401);
    assert.equal((await server.call('GET', '/api/auth/me', { token: t.owner.token })).status, 401);
    assert.equal((await server.call('POST', '/api/auth/refresh', { json: { refresh_token: t.owner.refreshToken } })).status, 401);
    const again = await server.call('POST', '/api/auth/register', { json: { username: t.owner.username, email: t.owner.email, password: 'someone else entirely' } });
    assert.equal(again.status, 201, 'the username and email are free again');
    const members = (await server.call('GET', `/api/groups/${t.groupId}/members`, { token: t.member.token })).body;
    assert.deepEqual(members.map((m: { user_id: string }) => m.user_id).includes(t.owner.id), false, 'gone from the group');
    const page = (await server.call('GET', `/api/channels/${t.channels.TEXT}/messages`, { token: t.member.token })).body;
    assert.deepEqual(page.messages.map((m: { text: string; author_id: string }) => [m.text, m.author_id]), [['written before leaving', t.owner.id]]);
    const people = (await server.call('GET', `/api/users?ids=${t.owner.id},${t.outsider.id}`, { token: t.member.token })).body;
    assert.deepEqual(people.map((p: { id: string; is_deleted: boolean; display_name: string | null }) => [p.id, p.is_deleted, p.display_name]), [[t.owner.id, true, null]], 'named as deleted; a stranger still left out');
    const [left] = (await audited('member.left')).filter((e) => e.target_user_id === t.owner.id);
    assert.deepEqual([left.group_id, left.details.account_deleted], [t.groupId, true]);
    assert.equal((await audited('account.deleted')).filter((e) => e.actor_id === t.owner.id).length, 1);
  });
});
