// Ending a user's sessions ends them at once: an admin's "revoke all sessions" or password reset, and the user's
// own password change, bump the account's token epoch, so every access token issued before is refused (401
// session_revoked) on REST, /collab and /rtc, and the /collab and /rtc connections opened with one are closed; on
// every instance. Tokens issued after it work, and the password changer's own session goes on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { connect, type Client } from '../../collab/test/clients.ts';
import { joinCall, rtcConnect, type RtcClient } from '../../sfu/test/rtc-client.ts';
import { adminClient, makeSuperuser, type AdminClient } from './admin-client.ts';
import { errorCode, eventually, setUpTeam, startTestServer, testDb, type Team, type TestServer, type TestUser } from './harness.ts';

let server: TestServer;
let team: Team;
let admin: AdminClient;
const open: { close(): void }[] = [];

before(async () => {
  server = await startTestServer({ SFU_WORKERS: '1' });
  team = await setUpTeam(server, ['DOC', 'VOICE']);
  const root = await server.signUp('root');
  await makeSuperuser(server, root.id);
  admin = adminClient(server);
  assert.equal((await admin.login(root.username, root.password)).status, 303);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

const revokedCode = { code: 4401, reason: 'session_revoked' };

async function collab(s: TestServer, token: string, options: { expectRefusal?: boolean } = {}): Promise<Client> {
  const c = await connect(s, team.channels.DOC!, token, options);
  open.push(c);
  return c;
}

async function rtc(token: string): Promise<RtcClient> {
  const c = await rtcConnect(server, token, team.channels.VOICE!);
  open.push(c);
  return c;
}

/** A new member of the team, so each test ends sessions of its own. */
async function newMember(s: TestServer = server): Promise<TestUser> {
  const user = await s.signUp('revoked');
  const added = await s.call('POST', `/api/groups/${team.groupId}/members`, { token: team.owner.token, json: { user_id: user.id, role: 'member' } });
  assert.equal(added.status, 201);
  return user;
}

const login = (username: string, password: string) => server.call('POST', '/api/auth/token', { form: { username, password } });
const me = (token: string, s = server) => s.call('GET', '/api/auth/me', { token });

/**
 * Opens a /collab and a /rtc connection (in the call) with `token`, runs `end`, and checks that both are closed
 * and that the token is refused from then on, everywhere, with session_revoked.
 */
async function assertEndsSessions(token: string, end: () => Promise<void>): Promise<void> {
  assert.equal((await me(token)).status, 200, 'the token works before');
  const page = await collab(server, token);
  const call = await rtc(token);
  await joinCall(call);
  await end();
  const refused = await me(token);
  assert.equal(refused.status, 401);
  assert.equal(errorCode(refused), 'session_revoked');
  assert.equal(await page.refusal, 'session_revoked', 'the open /collab connection is closed');
  assert.deepEqual(await call.closed, revokedCode, 'the open /rtc connection is closed');
  assert.equal(await (await collab(server, token, { expectRefusal: true })).refusal, 'session_revoked');
  assert.deepEqual(await (await rtc(token)).closed, revokedCode);
}

/** Checks that `token` works on REST, /collab and /rtc (the positive control beside a refusal). */
async function assertWorks(token: string): Promise<void> {
  assert.equal((await me(token)).status, 200);
  (await collab(server, token)).close();
  const call = await rtc(token);
  await joinCall(call);
  call.close();
  await call.closed;
}

describe('ending every session of an account', () => {
  it("an admin's revoke-all refuses the tokens issued before, and closes their connections; a new login works", async () => {
    const u = await newMember();
    await admin.get(`/admin/users/${u.id}`);
    await assertEndsSessions(u.token, async () => {
      assert.equal((await admin.post(`/admin/users/${u.id}/revoke-sessions`)).status, 303);
    });
    const refresh = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(errorCode(refresh), 'invalid_grant', 'no new token from the old refresh token');
    const again = await login(u.username, u.password);
    assert.equal(again.status, 200);
    await assertWorks(again.body.access_token);
  });

  it("an admin's password reset refuses the tokens issued before; a login with the new password works", async () => {
    const u = await newMember();
    await admin.get(`/admin/users/${u.id}`);
    await assertEndsSessions(u.token, async () => {
      assert.equal((await admin.post(`/admin/users/${u.id}/reset-password`, { password: 'set by the admin here' })).status, 200);
    });
    const again = await login(u.username, 'set by the admin here');
    assert.equal(again.status, 200);
    await assertWorks(again.body.access_token);
  });

  it("the user's own password change ends every session; the changer's goes on with the pair it is given", async () => {
    const u = await newMember();
    const elsewhere = (await login(u.username, u.password)).body;
    let changed!: { access_token: string; refresh_token: string };
    await assertEndsSessions(elsewhere.access_token, async () => {
      const res = await server.call('POST', '/api/auth/password', {
        token: u.token, json: { current_password: u.password, new_password: 'a brand new passphrase' },
      });
      assert.equal(res.status, 200);
      changed = res.body;
    });
    assert.equal(errorCode(await me(u.token)), 'session_revoked', "the changer's own old access token too");
    await assertWorks(changed.access_token);
    const refreshed = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: changed.refresh_token } });
    assert.equal(refreshed.status, 200, "the changer's session refreshes");
    await assertWorks(refreshed.body.access_token);
    const other = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: elsewhere.refresh_token } });
    assert.equal(errorCode(other), 'invalid_grant', 'the other session gets no new token');
  });

  it('a refresh token issued under an epoch that has ended is refused, as for a login that raced a revocation', async () => {
    const u = await newMember();
    // The race, laid out: the login's refresh token is stored after the revocation bumped the epoch and revoked the
    // tokens there were (here: the bump alone, leaving this token unrevoked).
    const raced = await login(u.username, u.password);
    await server.database.pool.query('UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1', [u.id]);
    const refused = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: raced.body.refresh_token } });
    assert.equal(refused.status, 401);
    assert.equal(errorCode(refused), 'invalid_grant');
    // A login under the current epoch refreshes (positive control).
    const after = await login(u.username, u.password);
    const refreshed = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: after.body.refresh_token } });
    assert.equal(refreshed.status, 200);
    assert.equal((await me(refreshed.body.access_token)).status, 200);
  });

  it('a token from before epochs (no claim) counts as epoch 0; a malformed epoch is invalid', async () => {
    const u = await newMember();
    const sign = (claims: object) =>
      jwt.sign({ typ: 'access', ...claims }, server.jwtSecret, { algorithm: 'HS256', subject: u.id, expiresIn: 60, issuer: 'teamspace', audience: 'teamspace-api' });
    const legacy = sign({});
    assert.equal((await me(legacy)).status, 200);
    for (const epoch of [-1, 0.5, '0']) assert.equal(errorCode(await me(sign({ epoch }))), 'invalid_token', `epoch ${epoch}`);
    await admin.get(`/admin/users/${u.id}`);
    await admin.post(`/admin/users/${u.id}/revoke-sessions`);
    assert.equal(errorCode(await me(legacy)), 'session_revoked');
  });

  it('a session ended while its /rtc connection is being admitted is closed once the connection is registered', {
    skip: testDb !== 'postgres' && 'holding admission needs a second database session',
  }, async () => {
    const [ended, kept] = [await newMember(), await newMember()];
    assert.equal((await me(ended.token)).status, 200, 'the user is cached, as for an open client');
    // Admission checks the token, then reads the membership: a lock on memberships holds it between the two.
    const blocker = new pg.Client({ connectionString: server.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE');
      const connecting = Promise.all([rtcConnect(server, ended.token, team.channels.VOICE!), rtcConnect(server, kept.token, team.channels.VOICE!)]);
      await eventually(async () => {
        const { rows } = await server.database.pool.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%memberships%'`,
        );
        assert.equal(rows[0].n, 2);
      }, 10_000);
      await server.database.pool.query('UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1', [ended.id]);
      // Heard by the server (its cache refuses the token) before either connection exists.
      await eventually(async () => assert.equal(errorCode(await me(ended.token)), 'session_revoked'));
      await blocker.query('COMMIT');
      const [call, other] = await connecting;
      open.push(call, other);
      const stillOpen = new Promise((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000).unref());
      assert.deepEqual(await Promise.race([call.closed, stillOpen]), revokedCode);
      // Admitted in the same window, the other session still has access: its connection stays.
      await joinCall(other);
      assert.equal(other.socket.readyState, WebSocket.OPEN);
    } finally {
      await blocker.end();
    }
  });

  describe('across instances (PostgreSQL)', { skip: testDb !== 'postgres' && 'PGlite serves one process' }, () => {
    let second: TestServer;
    before(async () => {
      second = await startTestServer({ DATABASE_URL: server.databaseUrl!, JWT_SECRET: server.jwtSecret });
    });
    after(() => second.close());

    it('a password change on one instance refuses the old token on the other and closes its connection there', async () => {
      const u = await newMember();
      assert.equal((await me(u.token, second)).status, 200, 'instance two has the user cached');
      const page = await collab(second, u.token);
      const res = await server.call('POST', '/api/auth/password', {
        token: u.token, json: { current_password: u.password, new_password: 'a brand new passphrase' },
      });
      assert.equal(res.status, 200);
      // Signed under the new epoch, it works on instance two even before that instance hears of the change.
      assert.equal((await me(res.body.access_token, second)).status, 200);
      assert.equal(await page.refusal, 'session_revoked');
      assert.equal(errorCode(await me(u.token, second)), 'session_revoked');
      await collab(second, res.body.access_token);
    });
  });
});
