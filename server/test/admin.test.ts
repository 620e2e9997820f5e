// The admin console over HTTP: its login and session cookie, CSRF, the superuser rules, account actions, content
// views with recorded writers, moderation, files, the audit log, figures and health, and the first superuser.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { chat } from '../../collab/index.ts';
import { loadConfig } from '../../core/config.ts';
import { connect, waitFor, type Client } from '../../collab/test/clients.ts';
import { adminClient, makeSuperuser, type AdminClient } from './admin-client.ts';
import { eventually, setUpTeam, startTestServer, testDb, type TestServer, type TestUser } from './harness.ts';

let server: TestServer;
let root: TestUser;
let admin: AdminClient;
const open: Client[] = [];

before(async () => {
  server = await startTestServer({ ADMIN_SESSION_IDLE_SECONDS: '60' });
  root = await server.signUp('root');
  await makeSuperuser(server, root.id);
  admin = adminClient(server);
  assert.equal((await admin.login(root.username, root.password)).status, 303);
});
after(async () => {
  for (const c of open) c.close();
  await server?.close();
});

const auditActions = async () =>
  (await server.database.pool.query<{ action: string; target_id: string | null }>('SELECT action, target_id FROM admin_audit ORDER BY id')).rows;

describe('admin console: login and session', () => {
  it('sets an httpOnly, SameSite=Strict cookie on /admin holding a random id stored only as its hash', async () => {
    const c = adminClient(server);
    await c.get('/admin/login');
    const res = await c.post('/admin/login', { username: root.username, password: root.password });
    assert.equal(res.status, 303);
    assert.equal(res.location, '/admin');
    const line = res.setCookies.find((l) => l.startsWith('teamspace_admin='))!;
    assert.match(line, /HttpOnly/);
    assert.match(line, /SameSite=Strict/);
    assert.match(line, /Path=\/admin/);
    assert.doesNotMatch(line, /Secure/, 'plain http: not Secure');
    const id = c.cookies.get('teamspace_admin')!;
    assert.ok(id.length >= 40);
    const { rows } = await server.database.pool.query('SELECT 1 FROM admin_sessions WHERE id_hash = $1 OR id_hash = $2', [Buffer.from(id), Buffer.from(id, 'base64url')]);
    assert.equal(rows.length, 0, 'the id itself is not stored');
    assert.equal((await c.get('/admin/users')).status, 200);
  });

  it('marks the cookie Secure when the request came over https through a trusted proxy', async () => {
    const c = adminClient(server);
    await c.get('/admin/login');
    const res = await c.post('/admin/login', { username: root.username, password: root.password }, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(res.setCookies.find((l) => l.startsWith('teamspace_admin='))!, /Secure/);
  });

  it('refuses a non-superuser and a wrong password alike, beside a superuser let in', async () => {
    const plain = await server.signUp('plain');
    const c = adminClient(server);
    const refused = await c.login(plain.username, plain.password);
    assert.equal(refused.status, 401);
    assert.match(refused.html, /not an active superuser/);
    assert.equal(c.cookies.has('teamspace_admin'), false);
    assert.equal((await c.login(root.username, 'wrong password!')).status, 401);
    assert.equal((await c.get('/admin')).status, 303);
    assert.equal((await c.login(root.username, root.password)).status, 303);
    assert.equal((await c.get('/admin')).status, 200);
  });

  it("never opens to an API token, even a superuser's", async () => {
    const res = await fetch(`${server.url}/admin/users`, { headers: { authorization: `Bearer ${root.token}` }, redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/admin/login');
    const post = await fetch(`${server.url}/admin/users/${root.id}/revoke-sessions`, {
      method: 'POST', headers: { authorization: `Bearer ${root.token}` }, redirect: 'manual',
    });
    assert.equal(post.status, 401);
  });

  it('refuses a login form without its CSRF token, beside the same form with it', async () => {
    const c = adminClient(server);
    await c.get('/admin/login');
    assert.equal((await c.post('/admin/login', { username: root.username, password: root.password }, { csrf: false })).status, 403);
    assert.equal((await c.post('/admin/login', { username: root.username, password: root.password }, { csrf: 'forged' })).status, 403);
    assert.equal((await c.post('/admin/login', { username: root.username, password: root.password })).status, 303);
  });

  it('refuses an action without the session CSRF token, beside the same action with it', async () => {
    const u = await server.signUp('csrf');
    await admin.get(`/admin/users/${u.id}`);
    const without = await admin.post(`/admin/users/${u.id}/deactivate`, {}, { csrf: false });
    assert.equal(without.status, 403);
    const other = adminClient(server);
    await other.login(root.username, root.password);
    assert.equal((await admin.post(`/admin/users/${u.id}/deactivate`, {}, { csrf: other.csrf! })).status, 403, "another session's token");
    const active = async () => (await server.database.pool.query('SELECT is_active FROM users WHERE id = $1', [u.id])).rows[0].is_active;
    assert.equal(await active(), true);
    const withToken = await admin.post(`/admin/users/${u.id}/deactivate`);
    assert.equal(withToken.status, 303);
    assert.equal(await active(), false);
  });

  it('ends a session idle past the limit, and one past its absolute lifetime however busy', async () => {
    const short = await startTestServer({ ADMIN_SESSION_IDLE_SECONDS: '1', ADMIN_SESSION_MAX_SECONDS: '3' });
    try {
      const su = await short.signUp('idle');
      await makeSuperuser(short, su.id);
      const idle = adminClient(short);
      await idle.login(su.username, su.password);
      const busy = adminClient(short);
      await busy.login(su.username, su.password);
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal((await busy.get('/admin/audit')).status, 200, 'used within the idle limit');
      }
      assert.equal((await idle.get('/admin/audit')).status, 303, 'idle for 2 s');
      await new Promise((resolve) => setTimeout(resolve, 1200 - 0));
      await eventually(async () => assert.equal((await busy.get('/admin/audit')).status, 303, 'past 3 s'), 3000);
    } finally {
      await short.close();
    }
  });

  it('logs out: the session is gone from the database and the cookie opens nothing', async () => {
    const c = adminClient(server);
    await c.login(root.username, root.password);
    const id = c.cookies.get('teamspace_admin')!;
    await c.get('/admin');
    assert.equal((await c.post('/admin/logout')).status, 303);
    c.cookies.set('teamspace_admin', id);
    assert.equal((await c.get('/admin')).status, 303);
  });

  it('rate limits logins like the API', async () => {
    const limited = await startTestServer({ AUTH_RATE_LIMIT: '3' });
    try {
      const c = adminClient(limited);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await c.login('nobody', 'wrong password here')).status);
      assert.deepEqual(statuses.slice(0, 3), [401, 401, 401]);
      assert.equal(statuses[4], 429);
    } finally {
      await limited.close();
    }
  });
});

describe('admin console: accounts', () => {
  it('lists, searches and filters users with paging', async () => {
    const u = await server.signUp('findme');
    await admin.post(`/admin/users/${u.id}/deactivate`);
    const found = await admin.get(`/admin/users?q=${u.username}`);
    assert.match(found.html, new RegExp(u.username));
    assert.doesNotMatch(found.html, new RegExp(`data-user="${root.username}"`));
    assert.match((await admin.get('/admin/users?status=inactive')).html, new RegExp(u.username));
    assert.doesNotMatch((await admin.get('/admin/users?status=active')).html, new RegExp(`data-user="${u.username}"`));
    assert.match((await admin.get('/admin/users?superuser=yes')).html, new RegExp(`data-user="${root.username}"`));
    assert.doesNotMatch((await admin.get('/admin/users?q=%25')).html, /data-user=/, 'a % is searched for, not a wildcard');
    assert.equal((await admin.get('/admin/users?page=0')).status, 422);
  });

  it('refuses to deactivate or demote the last active superuser, and allows it once there is another', async () => {
    const lone = await startTestServer();
    try {
      const su = await lone.signUp('lone');
      await makeSuperuser(lone, su.id);
      const c = adminClient(lone);
      await c.login(su.username, su.password);
      await c.get(`/admin/users/${su.id}`);
      for (const action of ['deactivate', 'revoke-superuser']) {
        const res = await c.post(`/admin/users/${su.id}/${action}`);
        assert.equal(res.status, 409);
        assert.match(res.html, /last active superuser/);
      }
      const other = await lone.signUp('other');
      assert.equal((await c.post(`/admin/users/${other.id}/grant-superuser`)).status, 303);
      assert.equal((await c.post(`/admin/users/${su.id}/revoke-superuser`)).status, 303);
      assert.equal((await c.get('/admin')).status, 303, 'demoting oneself ends one\'s own session');
    } finally {
      await lone.close();
    }
  });

  it("deactivating or demoting a superuser ends their console sessions; deactivating ends every session", async () => {
    const second = await server.signUp('second');
    await makeSuperuser(server, second.id);
    const theirs = adminClient(server);
    await theirs.login(second.username, second.password);
    assert.equal((await theirs.get('/admin')).status, 200);
    await admin.get(`/admin/users/${second.id}`);
    await admin.post(`/admin/users/${second.id}/revoke-superuser`);
    assert.equal((await theirs.get('/admin')).status, 303);
    const { rows } = await server.database.pool.query('SELECT 1 FROM admin_sessions WHERE user_id = $1', [second.id]);
    assert.equal(rows.length, 0);
    assert.equal((await server.call('GET', '/api/auth/me', { token: second.token })).status, 200);
    await admin.post(`/admin/users/${second.id}/deactivate`);
    assert.equal((await server.call('GET', '/api/auth/me', { token: second.token })).status, 401);
    // Reactivated, the account signs in again: its old logins stay ended.
    await admin.post(`/admin/users/${second.id}/activate`);
    const old = await server.call('GET', '/api/auth/me', { token: second.token });
    assert.equal(old.status, 401);
    assert.equal(old.body.error.code, 'session_revoked');
    assert.equal((await server.call('POST', '/api/auth/refresh', { json: { refresh_token: second.refreshToken } })).status, 401);
    const login = await server.call('POST', '/api/auth/token', { form: { username: second.username, password: second.password } });
    assert.equal(login.status, 200);
    assert.equal((await server.call('GET', '/api/auth/me', { token: login.body.access_token })).status, 200);
  });

  it('revokes every session: refresh tokens stop working', async () => {
    const u = await server.signUp('revoked');
    await admin.get(`/admin/users/${u.id}`);
    assert.equal((await admin.post(`/admin/users/${u.id}/revoke-sessions`)).status, 303);
    assert.equal((await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } })).status, 401);
  });

  it('resets a password to a one-time password shown once, or to a given one', async () => {
    const u = await server.signUp('reset');
    await admin.get(`/admin/users/${u.id}`);
    const res = await admin.post(`/admin/users/${u.id}/reset-password`, { password: '' });
    const oneTime = /data-testid="one-time-password">([^<]+)</.exec(res.html)?.[1];
    assert.ok(oneTime && oneTime.length >= 20);
    const login = (password: string) => server.call('POST', '/api/auth/token', { form: { username: u.username, password } });
    assert.equal((await login(u.password)).status, 401);
    assert.equal((await login(oneTime)).status, 200);
    assert.equal((await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } })).status, 401);
    await admin.get(`/admin/users/${u.id}`);
    const given = await admin.post(`/admin/users/${u.id}/reset-password`, { password: 'chosen by the admin' });
    assert.doesNotMatch(given.html, /one-time-password/);
    assert.equal((await login('chosen by the admin')).status, 200);
    assert.equal((await admin.post(`/admin/users/${u.id}/reset-password`, { password: 'short' })).status, 422);
  });
});

describe('admin console: content, moderation, files', () => {
  it('shows a chat with the writers the server recorded, and a moderation delete reaches connected clients', async () => {
    const team = await setUpTeam(server, ['TEXT']);
    const channel = team.channels.TEXT!;
    const m = await connect(server, channel, team.member.token);
    const o = await connect(server, channel, team.owner.token);
    open.push(m, o);
    const mine = chat.writeMessage(m.doc, { author_id: team.member.id, text: 'hello <b>from</b> the member' });
    await m.saved();
    chat.writeMessage(o.doc, { author_id: team.owner.id, text: 'and the owner' });
    await o.saved();
    await waitFor(() => chat.readMessages(o.doc).length === 2, 'both messages');
    const view = await admin.get(`/admin/channels/${channel}`);
    const rows = [...view.html.matchAll(/data-testid="writer">([^<]*)<\/td>[\s\S]*?data-testid="text">([^<]*)/g)].map((r) => [r[1], r[2]]);
    assert.deepEqual(rows, [[team.member.username, 'hello &lt;b&gt;from&lt;/b&gt; the member'], [team.owner.username, 'and the owner']]);
    assert.equal((await admin.post(`/admin/channels/${channel}/messages/${mine.id}/delete`, { part: '' }, { csrf: false })).status, 403);
    const deleted = await admin.post(`/admin/channels/${channel}/messages/${mine.id}/delete`, { part: '' });
    assert.equal(deleted.status, 303);
    await waitFor(() => chat.readMessageById(o.doc, mine.id)?.deleted === true, "the owner's client sees it go");
    const page = await server.call('GET', `/api/channels/${channel}/messages`, { token: team.owner.token });
    assert.equal(page.body.messages.find((x: { id: string }) => x.id === mine.id).deleted, true);
    assert.equal((await admin.post(`/admin/channels/${channel}/messages/nonexistent/delete`, { part: '' })).status, 404);
    assert.ok((await auditActions()).some((a) => a.action === 'message.delete' && a.target_id === mine.id));
  });

  it('shows tasks, cards and the page', async () => {
    const team = await setUpTeam(server, ['TODO', 'KANBAN', 'DOC']);
    const token = team.owner.token;
    await server.call('POST', `/api/channels/${team.channels.TODO}/tasks`, { token, json: { content: 'task <one>' } });
    const column = await server.call('POST', `/api/channels/${team.channels.KANBAN}/kanban/columns`, { token, json: { title: 'Doing' } });
    await server.call('POST', `/api/kanban/columns/${column.body.id}/cards`, { token, json: { content: 'card one' } });
    await server.call('PUT', `/api/channels/${team.channels.DOC}/document`, { token, json: { text: 'page line <script>', title: 'Plan' } });
    assert.match((await admin.get(`/admin/channels/${team.channels.TODO}`)).html, /task &lt;one&gt;/);
    assert.match((await admin.get(`/admin/channels/${team.channels.KANBAN}`)).html, /Doing[\s\S]*card one/);
    const doc = await admin.get(`/admin/channels/${team.channels.DOC}`);
    assert.match(doc.html, /Page: Plan/);
    assert.match(doc.html, /page line &lt;script&gt;/);
    assert.doesNotMatch(doc.html, /<script/);
    assert.match((await admin.get(`/admin/groups/${team.groupId}`)).html, new RegExp(`${team.viewer.username}</a></td><td>viewer`));
  });

  it('removes a file: its row goes and an indexing job that drops its chunks is queued', async () => {
    const team = await setUpTeam(server, ['DOC']);
    const form = new FormData();
    form.append('file', new Blob(['notes to remove']), 'notes.txt');
    const file = await server.call('POST', `/api/files/upload/${team.channels.DOC}`, { token: team.member.token, multipart: form });
    assert.equal(file.status, 201);
    await server.database.pool.query(`DELETE FROM jobs WHERE kind = 'index_file'`);
    const list = await admin.get('/admin/files');
    assert.match(list.html, /notes\.txt/);
    assert.equal((await admin.post(`/admin/files/${file.body.id}/remove`)).status, 303);
    assert.equal((await server.call('GET', `/api/files/${file.body.id}`, { token: team.member.token })).status, 404);
    const { rows } = await server.database.pool.query(`SELECT payload FROM jobs WHERE kind = 'index_file' AND status = 'queued'`);
    assert.deepEqual(rows.map((r) => r.payload.fileId), [file.body.id]);
    assert.equal((await admin.post(`/admin/files/${file.body.id}/remove`)).status, 404);
  });
});

describe('admin console: audit, jobs, figures, health', () => {
  it('shows every console action in the audit log, newest first, beside the groups\' audit', async () => {
    const u = await server.signUp('audited');
    await admin.get(`/admin/users/${u.id}`);
    await admin.post(`/admin/users/${u.id}/deactivate`);
    await admin.post(`/admin/users/${u.id}/activate`);
    const audit = await admin.get('/admin/audit');
    const actions = [...audit.html.matchAll(/data-action="([^"]+)"/g)].map((r) => r[1]);
    assert.deepEqual(actions.slice(0, 2), ['user.activate', 'user.deactivate']);
    assert.ok(actions.includes('session.login'));
    assert.ok(actions.includes('group.create') || actions.some((a) => a!.startsWith('member')), 'the groups\' audit too');
  });

  it('lists failed jobs with their errors', async () => {
    await server.database.pool.query(
      `INSERT INTO jobs (kind, payload, status, last_error) VALUES ('index_document', '{"name":"x"}', 'failed', 'chroma said no')`,
    );
    assert.match((await admin.get('/admin/jobs?status=failed')).html, /chroma said no/);
    assert.doesNotMatch((await admin.get('/admin/jobs?status=queued')).html, /chroma said no/);
  });

  it('rebuilds the AI index on request: every channel is queued, and the action is audited', async () => {
    const team = await setUpTeam(server, ['DOC', 'TODO']);
    await server.database.pool.query(`DELETE FROM jobs WHERE status = 'queued'`);
    assert.match((await admin.get('/admin/jobs')).html, /Rebuild the AI index/);
    const res = await admin.post('/admin/jobs/sweep');
    assert.equal(res.status, 303);
    const queued = (await server.database.pool.query(`SELECT payload->>'name' AS name FROM jobs WHERE kind = 'index_document' AND status = 'queued'`)).rows.map((r) => r.name);
    for (const id of Object.values(team.channels)) assert.ok(queued.includes(id), `channel ${id} queued`);
    assert.match((await admin.get('/admin/jobs?status=queued&done=ai-swept')).html, /Everything the AI index lacks is queued/);
    const actions = [...(await admin.get('/admin/audit')).html.matchAll(/data-action="([^"]+)"/g)].map((r) => r[1]);
    assert.equal(actions[0], 'ai.sweep');
  });

  it('shows figures: users, active users, messages per day, storage per group', async () => {
    const res = await admin.get('/admin');
    const total = Number(/data-testid="users-total">(\d+)/.exec(res.html)?.[1]);
    const { rows: [count] } = await server.database.pool.query('SELECT count(*)::int AS n FROM users WHERE NOT is_bot');
    assert.equal(total, count.n);
    assert.ok(Number(/data-testid="active-7">(\d+)/.exec(res.html)?.[1]) >= 2);
    const today = new Date().toISOString().slice(0, 10);
    assert.match(res.html, new RegExp(`data-day="${today}"><th>${today}</th>\\s*<td>([1-9]\\d*)</td>`), 'messages written today');
    assert.match(res.html, /Storage per group[\s\S]*Team/);
  });

  it('reports service health', async () => {
    const res = await admin.get('/admin/health');
    assert.match(res.html, /data-service="Database"><td>Database<\/td><td>ok/);
    assert.match(res.html, /data-service="SFU workers"><td>SFU workers<\/td><td>off/);
    assert.match(res.html, /data-service="Redis"><td>Redis<\/td><td>off/);
  });
});

describe('the first superuser', () => {
  it('takes ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD together, never one alone', () => {
    const env = { DATA_DIR: server.dataDir, JWT_SECRET: server.jwtSecret };
    const trio = { ADMIN_USERNAME: 'boss', ADMIN_EMAIL: 'boss@example.test', ADMIN_PASSWORD: 'a long password' };
    assert.equal(loadConfig({ ...env, ...trio }).ADMIN_USERNAME, 'boss');
    assert.throws(() => loadConfig({ ...env, ADMIN_USERNAME: 'boss' }), /set all three or none/);
  });

  it('is made at start from ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD when there is none', async () => {
    const env = { ADMIN_USERNAME: 'firstadmin', ADMIN_EMAIL: 'first@example.test', ADMIN_PASSWORD: 'the first password' };
    const s = await startTestServer(env);
    try {
      const c = adminClient(s);
      assert.equal((await c.login('firstadmin', 'the first password')).status, 303);
      const again = await s.restart({ ADMIN_PASSWORD: 'another password' });
      const { rows } = await again.database.pool.query(`SELECT count(*)::int AS n FROM users WHERE is_superuser`);
      assert.equal(rows[0].n, 1);
      assert.equal((await adminClient(again).login('firstadmin', 'the first password')).status, 303, 'left alone once one exists');
      await again.close();
    } catch (err) {
      await s.close().catch(() => undefined);
      throw err;
    }
  });

  it('npm run admin:create creates or promotes, from flags', { skip: testDb === 'postgres' ? 'covered on PGlite' : false }, async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-admin-cli-'));
    const run = (...args: string[]) => promisify(execFile)(process.execPath, ['server/admin/create-cli.ts', ...args], {
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' },
    });
    try {
      const created = await run('--username', 'cliadmin', '--email', 'cli@example.test', '--password', 'a cli password');
      assert.match(created.stdout, /created as a superuser/);
      const promoted = await run('--username', 'cliadmin', '--email', 'cli@example.test', '--password', 'ignored password');
      assert.match(promoted.stdout, /promoted/);
      await assert.rejects(run('--username', 'x', '--email', 'bad', '--password', 'short'), /username|email|password/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
