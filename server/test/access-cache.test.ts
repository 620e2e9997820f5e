// The cache of users and group lists must never outlive a change, whoever makes it: this instance, another
// instance on the same database, or an operator's SQL; and must stop caching while it cannot hear of changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAccessCache, createLogger } from '../../core/index.ts';
import { eventually, startTestServer, testDb, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const groupIds = async (s: TestServer, token: string) =>
  (await s.call('GET', '/api/groups', { token })).body.map((g: { id: string }) => g.id);

describe('access cache', () => {
  it('serves from memory until told of a change, even one it never heard announced', async () => {
    const owner = await server.signUp('owner');
    const silent = await createAccessCache(
      // Listening succeeds but nothing is ever announced, as when a NOTIFY has not arrived yet.
      { ...server.database, subscribe: async (_channel, listener) => (listener.gap(true), async () => {}) },
      createLogger('silent'),
    );
    try {
      assert.deepEqual(await silent.groups(owner.id), []);
      const group = await server.call('POST', '/api/groups', { token: owner.token, json: { name: 'Quiet' } });
      assert.deepEqual(await silent.groups(owner.id), [], 'cached');
      silent.invalidate(`member:${owner.id}`);
      assert.deepEqual((await silent.groups(owner.id)).map((g) => g.id), [group.body.id]);
      assert.equal((await silent.user(owner.id))?.is_active, true);
      await server.database.pool.query('UPDATE users SET is_active = false WHERE id = $1', [owner.id]);
      assert.equal((await silent.user(owner.id))?.is_active, true, 'cached');
      silent.invalidate(`user:${owner.id}`);
      assert.equal((await silent.user(owner.id))?.is_active, false);
    } finally {
      await silent.stop();
    }
  });

  it('sees memberships and group changes made outside this instance', async () => {
    const owner = await server.signUp('owner');
    const other = await server.signUp('other');
    const group = await server.call('POST', '/api/groups', { token: owner.token, json: { name: 'Before' } });
    assert.deepEqual(await groupIds(server, other.token), [], 'cached: no groups');
    await server.database.pool.query(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, [
      group.body.id, other.id,
    ]);
    await eventually(async () => assert.deepEqual(await groupIds(server, other.token), [group.body.id]));
    await server.database.pool.query(`UPDATE groups SET name = 'After' WHERE id = $1`, [group.body.id]);
    await eventually(async () => {
      const one = await server.call('GET', `/api/groups/${group.body.id}`, { token: other.token });
      assert.equal(one.body.name, 'After');
    });
    await server.database.pool.query('DELETE FROM memberships WHERE user_id = $1', [other.id]);
    await eventually(async () => {
      assert.equal((await server.call('GET', `/api/groups/${group.body.id}`, { token: other.token })).status, 404);
    });
  });

  it('sees this instance’s own changes at once', async () => {
    const owner = await server.signUp('owner');
    const m = await server.signUp('member');
    const group = await server.call('POST', '/api/groups', { token: owner.token, json: { name: 'Mine' } });
    assert.deepEqual(await groupIds(server, owner.token), [group.body.id]);
    assert.deepEqual(await groupIds(server, m.token), []);
    await server.call('POST', `/api/groups/${group.body.id}/members`, { token: owner.token, json: { user_id: m.id, role: 'viewer' } });
    assert.deepEqual(await groupIds(server, m.token), [group.body.id]);
    await server.call('PATCH', `/api/groups/${group.body.id}/members/${m.id}`, { token: owner.token, json: { role: 'member' } });
    assert.equal((await server.call('GET', `/api/groups/${group.body.id}`, { token: m.token })).body.role, 'member');
    await server.call('DELETE', `/api/groups/${group.body.id}/members/${m.id}`, { token: owner.token });
    assert.deepEqual(await groupIds(server, m.token), []);
  });

  describe('across instances and lost notifications (PostgreSQL)', { skip: testDb !== 'postgres' && 'PGlite serves one process' }, () => {
    let second: TestServer;
    before(async () => {
      second = await startTestServer({ DATABASE_URL: server.databaseUrl!, JWT_SECRET: server.jwtSecret });
    });
    after(() => second.close());

    it('a member removed on one instance loses the group on the other', async () => {
      const owner = await server.signUp('owner');
      const m = await server.signUp('member');
      const group = await server.call('POST', '/api/groups', { token: owner.token, json: { name: 'Shared' } });
      await server.call('POST', `/api/groups/${group.body.id}/members`, { token: owner.token, json: { user_id: m.id, role: 'member' } });
      assert.deepEqual(await groupIds(second, m.token), [group.body.id], 'instance two caches the membership');
      await server.call('DELETE', `/api/groups/${group.body.id}/members/${m.id}`, { token: owner.token });
      await eventually(async () => assert.deepEqual(await groupIds(second, m.token), []));
    });

    const listeners = async () =>
      (await server.database.pool.query(
        // The access cache's own: other parts (chat history) listen on connections of their own.
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "access_changed"'`,
      )).rows[0].n as number;

    it('stops caching while its notification connection is down, then resumes', async () => {
      const u = await second.signUp('gap');
      const group = await second.call('POST', '/api/groups', { token: u.token, json: { name: 'Gap' } });
      assert.deepEqual(await groupIds(second, u.token), [group.body.id]);
      // Cut every LISTEN connection on this database: changes made now send notifications nobody hears.
      await server.database.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      await eventually(async () => assert.equal(await listeners(), 0));
      // Read during the gap: a cache that kept caching now would hold the membership deleted next.
      assert.deepEqual(await groupIds(second, u.token), [group.body.id]);
      // The instances listen again after a second; on a loaded machine that can come before this point, and then
      // the cache rightly caches again and learns of the deletion by notification, a moment later.
      const gapHeld = (await listeners()) === 0;
      await server.database.pool.query('DELETE FROM memberships WHERE user_id = $1', [u.id]);
      if (gapHeld) assert.deepEqual(await groupIds(second, u.token), [], 'fresh at once, though no notification was heard');
      else await eventually(async () => assert.deepEqual(await groupIds(second, u.token), []));
      await eventually(async () => assert.equal(await listeners(), 2, 'both instances listen again'), 5000);
      await server.database.pool.query(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'owner')`, [
        group.body.id, u.id,
      ]);
      await eventually(async () => assert.deepEqual(await groupIds(second, u.token), [group.body.id]));
    });
  });
});
