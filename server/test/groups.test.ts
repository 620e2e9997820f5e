import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, startTestServer, type TestServer, type TestUser } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function createGroup(owner: TestUser, name = 'Team'): Promise<string> {
  const res = await server.call('POST', '/api/groups', { token: owner.token, json: { name } });
  assert.equal(res.status, 201);
  return res.body.id;
}

async function add(actor: TestUser, groupId: string, user: TestUser, role: string) {
  return server.call('POST', `/api/groups/${groupId}/members`, { token: actor.token, json: { user_id: user.id, role } });
}

async function roleOf(groupId: string, userId: string): Promise<string | undefined> {
  const { rows } = await server.database.pool.query('SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2', [
    groupId, userId,
  ]);
  return rows[0]?.role;
}

describe('groups', () => {
  it('makes the creator owner and lists only the caller’s groups', async () => {
    const alice = await server.signUp('alice');
    const bob = await server.signUp('bob');
    const created = await server.call('POST', '/api/groups', {
      token: alice.token, json: { name: '  Design  ', description: 'the design team' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'Design');
    assert.equal(created.body.role, 'owner');
    assert.equal(created.body.created_by, alice.id);
    const mine = await server.call('GET', '/api/groups', { token: alice.token });
    assert.deepEqual(mine.body.map((g: { id: string }) => g.id), [created.body.id]);
    const bobs = await server.call('GET', '/api/groups', { token: bob.token });
    assert.deepEqual(bobs.body, []);
    const one = await server.call('GET', `/api/groups/${created.body.id}`, { token: alice.token });
    assert.equal(one.status, 200);
    assert.equal(one.body.description, 'the design team');
    const upper = await server.call('GET', `/api/groups/${created.body.id.toUpperCase()}`, { token: alice.token });
    assert.equal(upper.status, 200, 'ids are case-insensitive');
    assert.equal(upper.body.id, created.body.id);
  });

  it('hides a group from non-members behind 404, exactly as for an unknown id', async () => {
    const alice = await server.signUp('alice');
    const mallory = await server.signUp('mallory');
    const groupId = await createGroup(alice);
    const unknown = '7d3c1c52-1f1e-4f57-9a3c-0e0c8a6d2b11';
    for (const id of [groupId, unknown]) {
      for (const [method, path, json] of [
        ['GET', `/api/groups/${id}`],
        ['GET', `/api/groups/${id}/members`],
        ['GET', `/api/groups/${id}/channels`],
        ['GET', `/api/groups/${id}/audit`],
        ['POST', `/api/groups/${id}/channels`, { name: 'x', type: 'TEXT' }],
        ['POST', `/api/groups/${id}/members`, { user_id: mallory.id, role: 'owner' }],
        ['PATCH', `/api/groups/${id}/members/${mallory.id}`, { role: 'owner' }],
        ['DELETE', `/api/groups/${id}/members/${alice.id}`],
      ] as const) {
        const res = await server.call(method, path, { token: mallory.token, json });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(errorCode(res), 'not_found');
      }
    }
    assert.equal(await roleOf(groupId, mallory.id), undefined, 'mallory did not get in');
  });

  it('validates group input', async () => {
    const alice = await server.signUp('alice');
    for (const json of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 'ok', owner: 'me' }]) {
      const res = await server.call('POST', '/api/groups', { token: alice.token, json });
      assert.equal(res.status, 422, JSON.stringify(json));
    }
    const badId = await server.call('GET', '/api/groups/not-a-uuid', { token: alice.token });
    assert.equal(badId.status, 422);
    assert.equal(errorCode(badId), 'validation_failed');
  });
});

describe('memberships', () => {
  it('owners add members by id or username, and everyone in the group sees them', async () => {
    const owner = await server.signUp('owner');
    const m = await server.signUp('member');
    const v = await server.signUp('viewer');
    const groupId = await createGroup(owner);
    const added = await add(owner, groupId, m, 'member');
    assert.equal(added.status, 201);
    assert.deepEqual(
      { user_id: added.body.user_id, username: added.body.username, role: added.body.role },
      { user_id: m.id, username: m.username, role: 'member' },
    );
    const byName = await server.call('POST', `/api/groups/${groupId}/members`, {
      token: owner.token, json: { username: v.username.toUpperCase(), role: 'viewer' },
    });
    assert.equal(byName.status, 201);
    assert.equal(byName.body.user_id, v.id);
    const list = await server.call('GET', `/api/groups/${groupId}/members`, { token: v.token });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((x: { user_id: string; role: string }) => [x.user_id, x.role]).sort(),
      [[owner.id, 'owner'], [m.id, 'member'], [v.id, 'viewer']].sort(),
    );
    const again = await add(owner, groupId, m, 'admin');
    assert.equal(again.status, 409);
    assert.equal(await roleOf(groupId, m.id), 'member', 'a duplicate add changes nothing');
  });

  it('refuses bad member requests clearly', async () => {
    const owner = await server.signUp('owner');
    const groupId = await createGroup(owner);
    const unknownUser = await server.call('POST', `/api/groups/${groupId}/members`, {
      token: owner.token, json: { user_id: '5b0e1c2a-8a0b-4c1e-9b7d-2f3e4d5c6b7a', role: 'member' },
    });
    assert.equal(unknownUser.status, 404);
    const both = await server.call('POST', `/api/groups/${groupId}/members`, {
      token: owner.token, json: { user_id: owner.id, username: owner.username, role: 'member' },
    });
    assert.equal(both.status, 422);
    const badRole = await server.call('POST', `/api/groups/${groupId}/members`, {
      token: owner.token, json: { username: owner.username, role: 'superuser' },
    });
    assert.equal(badRole.status, 422);
    const notMember = await server.call('PATCH', `/api/groups/${groupId}/members/${(await server.signUp('x')).id}`, {
      token: owner.token, json: { role: 'admin' },
    });
    assert.equal(notMember.status, 404);
    const inactive = await server.signUp('inactive');
    await server.database.pool.query('UPDATE users SET is_active = false WHERE id = $1', [inactive.id]);
    const addInactive = await server.call('POST', `/api/groups/${groupId}/members`, {
      token: owner.token, json: { username: inactive.username, role: 'member' },
    });
    assert.equal(addInactive.status, 404, 'a deactivated account looks like an unknown one');
    assert.equal(addInactive.body.error.message, unknownUser.body.error.message);
  });

  it('members and viewers cannot manage membership', async () => {
    const owner = await server.signUp('owner');
    const m = await server.signUp('member');
    const v = await server.signUp('viewer');
    const outsider = await server.signUp('outsider');
    const groupId = await createGroup(owner);
    await add(owner, groupId, m, 'member');
    await add(owner, groupId, v, 'viewer');
    for (const actor of [m, v]) {
      const res = await add(actor, groupId, outsider, 'member');
      assert.equal(res.status, 403);
      assert.equal(errorCode(res), 'forbidden');
      const promote = await server.call('PATCH', `/api/groups/${groupId}/members/${actor.id}`, {
        token: actor.token, json: { role: 'owner' },
      });
      assert.equal(promote.status, 403);
    }
    const kick = await server.call('DELETE', `/api/groups/${groupId}/members/${v.id}`, { token: m.token });
    assert.equal(kick.status, 403);
    assert.equal(await roleOf(groupId, outsider.id), undefined);
    assert.equal(await roleOf(groupId, v.id), 'viewer');
    assert.equal(await roleOf(groupId, m.id), 'member');
  });

  it('admins manage members and viewers but not admins or owners', async () => {
    const owner = await server.signUp('owner');
    const admin = await server.signUp('admin');
    const admin2 = await server.signUp('admin');
    const m = await server.signUp('member');
    const newcomer = await server.signUp('new');
    const groupId = await createGroup(owner);
    await add(owner, groupId, admin, 'admin');
    await add(owner, groupId, admin2, 'admin');
    assert.equal((await add(admin, groupId, m, 'member')).status, 201);
    assert.equal((await add(admin, groupId, newcomer, 'admin')).status, 403);
    const toViewer = await server.call('PATCH', `/api/groups/${groupId}/members/${m.id}`, {
      token: admin.token, json: { role: 'viewer' },
    });
    assert.equal(toViewer.status, 200);
    assert.equal(toViewer.body.role, 'viewer');
    const toAdmin = await server.call('PATCH', `/api/groups/${groupId}/members/${m.id}`, {
      token: admin.token, json: { role: 'admin' },
    });
    assert.equal(toAdmin.status, 403);
    const demoteOwner = await server.call('PATCH', `/api/groups/${groupId}/members/${owner.id}`, {
      token: admin.token, json: { role: 'member' },
    });
    assert.equal(demoteOwner.status, 403);
    const removeAdmin = await server.call('DELETE', `/api/groups/${groupId}/members/${admin2.id}`, { token: admin.token });
    assert.equal(removeAdmin.status, 403);
    const removeMember = await server.call('DELETE', `/api/groups/${groupId}/members/${m.id}`, { token: admin.token });
    assert.equal(removeMember.status, 204);
    assert.equal(await roleOf(groupId, m.id), undefined);
    assert.equal(await roleOf(groupId, owner.id), 'owner');
    assert.equal(await roleOf(groupId, admin2.id), 'admin');
  });

  it('a group always keeps an owner', async () => {
    const owner = await server.signUp('owner');
    const second = await server.signUp('second');
    const groupId = await createGroup(owner);
    const leave = await server.call('DELETE', `/api/groups/${groupId}/members/${owner.id}`, { token: owner.token });
    assert.equal(leave.status, 409);
    const demote = await server.call('PATCH', `/api/groups/${groupId}/members/${owner.id}`, {
      token: owner.token, json: { role: 'admin' },
    });
    assert.equal(demote.status, 409);
    assert.equal(await roleOf(groupId, owner.id), 'owner');
    await add(owner, groupId, second, 'owner');
    const nowOk = await server.call('DELETE', `/api/groups/${groupId}/members/${owner.id}`, { token: owner.token });
    assert.equal(nowOk.status, 204);
    const gone = await server.call('GET', `/api/groups/${groupId}`, { token: owner.token });
    assert.equal(gone.status, 404, 'a former member no longer sees the group');
  });

  it('concurrent changes to the last two owners always leave exactly one, without errors', async () => {
    const a = await server.signUp('a');
    const b = await server.signUp('b');
    // Many rounds of every racing pair, so the requests really overlap on PostgreSQL's pool.
    for (let round = 0; round < 8; round++) {
      const groupId = await createGroup(a);
      await add(a, groupId, b, 'owner');
      const member = { role: 'member' };
      const patch = (actor: TestUser, target: TestUser) =>
        server.call('PATCH', `/api/groups/${groupId}/members/${target.id}`, { token: actor.token, json: member });
      const leave = (u: TestUser) => server.call('DELETE', `/api/groups/${groupId}/members/${u.id}`, { token: u.token });
      const races = [
        () => [patch(a, a), patch(b, b)],
        () => [leave(a), leave(b)],
        () => [patch(a, b), patch(b, a)],
      ][round % 3]!();
      const statuses = (await Promise.all(races)).map((r) => r.status).sort();
      const { rows } = await server.database.pool.query(
        `SELECT count(*)::int AS n FROM memberships WHERE group_id = $1 AND role = 'owner'`,
        [groupId],
      );
      assert.equal(rows[0].n, 1, `round ${round}: one owner left`);
      assert.ok(statuses.every((s) => [200, 204, 403, 404, 409].includes(s)), `round ${round}: ${statuses}`);
      assert.ok(statuses.some((s) => s === 200 || s === 204), `round ${round}: one change went through: ${statuses}`);
    }
  });

  it('members may leave; every change of membership and role is audited', async () => {
    const owner = await server.signUp('owner');
    const m = await server.signUp('member');
    const groupId = await createGroup(owner);
    await add(owner, groupId, m, 'member');
    await server.call('PATCH', `/api/groups/${groupId}/members/${m.id}`, { token: owner.token, json: { role: 'viewer' } });
    const leave = await server.call('DELETE', `/api/groups/${groupId}/members/${m.id}`, { token: m.token });
    assert.equal(leave.status, 204);
    const log = await server.call('GET', `/api/groups/${groupId}/audit`, { token: owner.token });
    assert.equal(log.status, 200);
    assert.deepEqual(
      log.body.map((e: { action: string; target_user_id: string }) => [e.action, e.target_user_id]),
      [
        ['member.left', m.id],
        ['member.role_changed', m.id],
        ['member.added', m.id],
        ['group.created', owner.id],
      ],
    );
    assert.deepEqual(log.body[1].details, { from: 'member', to: 'viewer' });
    assert.equal(log.body[1].actor_id, owner.id);
    const page = await server.call('GET', `/api/groups/${groupId}/audit?limit=2&before=${log.body[1].id}`, {
      token: owner.token,
    });
    assert.deepEqual(page.body.map((e: { action: string }) => e.action), ['member.added', 'group.created']);
    const badLimit = await server.call('GET', `/api/groups/${groupId}/audit?limit=100000`, { token: owner.token });
    assert.equal(badLimit.status, 422);
    await add(owner, groupId, m, 'member');
    const forMember = await server.call('GET', `/api/groups/${groupId}/audit`, { token: m.token });
    assert.equal(forMember.status, 403);
  });
  it('names the people a user may see: group mates, DM partners, themselves and bots, never strangers', async () => {
    const alice = await server.signUp('ppl-alice');
    const bob = await server.signUp('ppl-bob');
    const stranger = await server.signUp('ppl-stranger');
    const { rows: [bot] } = await server.database.pool.query<{ id: string }>(
      `INSERT INTO users (username, email, password_hash, display_name, is_bot) VALUES ('ppl-bot', 'ppl-bot@bot.invalid', 'x', 'Bot', true) RETURNING id`,
    );
    const groupId = await createGroup(alice);
    assert.equal((await add(alice, groupId, bob, 'member')).status, 201);
    const dm = await server.call('POST', '/api/dms', { token: alice.token, json: { user_id: bob.id } });
    assert.equal(dm.status, 201);
    const names = async () => {
      const ids = [alice.id, bob.id, stranger.id, bot!.id, crypto.randomUUID()].join(',');
      const res = await server.call('GET', `/api/users?ids=${ids}`, { token: alice.token });
      assert.equal(res.status, 200);
      return Object.fromEntries(res.body.map((p: { id: string; is_bot: boolean }) => [p.id, p.is_bot]));
    };
    const expected = { [alice.id]: false, [bob.id]: false, [bot!.id]: true };
    assert.deepEqual(await names(), expected);
    // Out of the group, bob is still alice's DM partner; the stranger never shows.
    assert.equal((await server.call('DELETE', `/api/groups/${groupId}/members/${bob.id}`, { token: alice.token })).status, 204);
    assert.deepEqual(await names(), expected);
    const bad = await server.call('GET', '/api/users?ids=not-a-uuid', { token: alice.token });
    assert.equal(errorCode(bad), 'validation_failed');
  });
});
