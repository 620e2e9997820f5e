import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, startTestServer, type TestServer, type TestUser } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

interface Team {
  groupId: string;
  owner: TestUser;
  member: TestUser;
  viewer: TestUser;
}

async function team(): Promise<Team> {
  const [owner, member, viewer] = await Promise.all([server.signUp('o'), server.signUp('m'), server.signUp('v')]);
  const group = await server.call('POST', '/api/groups', { token: owner.token, json: { name: 'Team' } });
  for (const [u, role] of [[member, 'member'], [viewer, 'viewer']] as const) {
    const res = await server.call('POST', `/api/groups/${group.body.id}/members`, {
      token: owner.token, json: { user_id: u.id, role },
    });
    assert.equal(res.status, 201);
  }
  return { groupId: group.body.id, owner, member, viewer };
}

describe('channels', () => {
  it('members create channels of every content type; everyone in the group lists them', async () => {
    const t = await team();
    const types = ['TEXT', 'VOICE', 'TODO', 'DOC', 'KANBAN'];
    for (const type of types) {
      const res = await server.call('POST', `/api/groups/${t.groupId}/channels`, {
        token: t.member.token, json: { name: `${type.toLowerCase()}-channel`, type },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.type, type);
      assert.equal(res.body.group_id, t.groupId);
      assert.equal(res.body.created_by, t.member.id);
    }
    const list = await server.call('GET', `/api/groups/${t.groupId}/channels`, { token: t.viewer.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((c: { type: string }) => c.type), types);
    const one = await server.call('GET', `/api/channels/${list.body[0].id}`, { token: t.viewer.token });
    assert.equal(one.status, 200);
    assert.equal(one.body.name, 'text-channel');
  });

  it('viewers cannot create channels; outsiders cannot see them', async () => {
    const t = await team();
    const outsider = await server.signUp('out');
    const byViewer = await server.call('POST', `/api/groups/${t.groupId}/channels`, {
      token: t.viewer.token, json: { name: 'nope', type: 'TEXT' },
    });
    assert.equal(byViewer.status, 403);
    const created = await server.call('POST', `/api/groups/${t.groupId}/channels`, {
      token: t.owner.token, json: { name: 'general', type: 'TEXT' },
    });
    const peek = await server.call('GET', `/api/channels/${created.body.id}`, { token: outsider.token });
    assert.equal(peek.status, 404);
    const list = await server.call('GET', `/api/groups/${t.groupId}/channels`, { token: outsider.token });
    assert.equal(list.status, 404);
    const { rows } = await server.database.pool.query('SELECT name FROM channels WHERE group_id = $1', [t.groupId]);
    assert.deepEqual(rows.map((r) => r.name), ['general']);
  });

  it('refuses DM type, unknown types, duplicate names and bad input', async () => {
    const t = await team();
    const post = (json: unknown) =>
      server.call('POST', `/api/groups/${t.groupId}/channels`, { token: t.owner.token, json });
    assert.equal((await post({ name: 'dm', type: 'DM' })).status, 422);
    assert.equal((await post({ name: 'x', type: 'WHITEBOARD' })).status, 422);
    assert.equal((await post({ name: '', type: 'TEXT' })).status, 422);
    assert.equal((await post({ name: 'x', type: 'TEXT', group_id: t.groupId })).status, 422);
    assert.equal((await post({ name: 'General', type: 'TEXT' })).status, 201);
    const dup = await post({ name: 'general', type: 'DOC' });
    assert.equal(dup.status, 409);
    assert.equal(errorCode(dup), 'conflict');
  });

  it('a removed member loses access to the group’s channels at once', async () => {
    const t = await team();
    const created = await server.call('POST', `/api/groups/${t.groupId}/channels`, {
      token: t.owner.token, json: { name: 'plans', type: 'DOC' },
    });
    assert.equal((await server.call('GET', `/api/channels/${created.body.id}`, { token: t.member.token })).status, 200);
    await server.call('DELETE', `/api/groups/${t.groupId}/members/${t.member.id}`, { token: t.owner.token });
    assert.equal((await server.call('GET', `/api/channels/${created.body.id}`, { token: t.member.token })).status, 404);
  });
});

describe('direct messages', () => {
  it('returns the one DM channel between two users who share a group, from either side', async () => {
    const t = await team();
    const first = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.member.id } });
    assert.equal(first.status, 201);
    assert.equal(first.body.type, 'DM');
    assert.equal(first.body.group_id, null);
    assert.deepEqual(first.body.participant_ids, [t.owner.id, t.member.id].sort());
    const again = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.member.id } });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const upper = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.member.id.toUpperCase() } });
    assert.equal(upper.status, 200, 'an upper-case id names the same user');
    assert.equal(upper.body.id, first.body.id);
    const selfUpper = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.owner.id.toUpperCase() } });
    assert.equal(selfUpper.status, 422);
    const reverse = await server.call('POST', '/api/dms', { token: t.member.token, json: { user_id: t.owner.id } });
    assert.equal(reverse.status, 200);
    assert.equal(reverse.body.id, first.body.id);
    const listed = await server.call('GET', '/api/dms', { token: t.member.token });
    assert.deepEqual(listed.body.map((c: { id: string }) => c.id), [first.body.id]);
    const read = await server.call('GET', `/api/channels/${first.body.id}`, { token: t.member.token });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.participant_ids, first.body.participant_ids);
  });

  it('concurrent requests still make a single DM', async () => {
    const t = await team();
    const results = await Promise.all([
      server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.viewer.id } }),
      server.call('POST', '/api/dms', { token: t.viewer.token, json: { user_id: t.owner.id } }),
      server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.viewer.id } }),
    ]);
    assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    assert.equal(results.filter((r) => r.status === 201).length, 1);
  });

  it('refuses strangers, unknown users and oneself; outsiders cannot read a DM', async () => {
    const t = await team();
    const stranger = await server.signUp('stranger');
    const toStranger = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: stranger.id } });
    assert.equal(toStranger.status, 404);
    const unknown = await server.call('POST', '/api/dms', {
      token: t.owner.token, json: { user_id: '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b' },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.message, toStranger.body.error.message, 'a stranger looks like an unknown user');
    const self = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.owner.id } });
    assert.equal(self.status, 422);
    const badId = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: 'bob' } });
    assert.equal(badId.status, 422);
    const dm = await server.call('POST', '/api/dms', { token: t.owner.token, json: { user_id: t.member.id } });
    const peek = await server.call('GET', `/api/channels/${dm.body.id}`, { token: t.viewer.token });
    assert.equal(peek.status, 404, 'a third member of the same group cannot read the DM');
    const { rows } = await server.database.pool.query(`SELECT count(*)::int AS n FROM channels WHERE type = 'DM' AND dm_key LIKE '%' || $1 || '%'`, [stranger.id]);
    assert.equal(rows[0].n, 0);
  });
});
