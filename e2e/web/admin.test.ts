// The admin console in Chromium: its pages are server-rendered forms, driven directly (it is not the web client).
// A person refused, CSRF, deactivation closing live connections, content with recorded writers, a moderation
// delete that a web client sees, the audit log, the last superuser, and the idle timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { connect, type Client } from '../../collab/test/clients.ts';
import { rtcConnect, type RtcClient } from '../../sfu/test/rtc-client.ts';
import { findWorkerBinary } from '../../sfu/index.ts';
import { setUpTeam, type Team, type TestUser } from '../../server/test/harness.ts';
import { makeSuperuser } from '../../server/test/admin-client.ts';
import { skipWithoutChromium, startWebApp, type AppPage, type WebApp } from './harness.ts';

let app: WebApp;
let root: TestUser;
let console_: AppPage;
let team: Team;
const closers: (() => void)[] = [];
const workerMissing = !findWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).binary;

async function consoleLogin(page: Page, user: TestUser): Promise<void> {
  await page.goto('/admin/login');
  await page.getByLabel('Username or email').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

const auditActions = (page: Page) => page.getByTestId('audit-entry').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { action: string } }).dataset.action));

describe('the admin console in a browser', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp({ SFU_WORKERS: workerMissing ? '0' : '1', RTC_MIN_PORT: '31700', RTC_MAX_PORT: '31799' });
    root = await app.server.signUp('root');
    await makeSuperuser(app.server, root.id);
    team = await setUpTeam(app.server, ['TEXT', 'VOICE']);
    console_ = await app.open(root);
    await consoleLogin(console_.page, root);
    await console_.page.getByRole('heading', { name: 'Overview' }).waitFor();
  });
  after(async () => {
    for (const close of closers) close();
    await app?.close();
  });

  it('refuses a person who is not a superuser, and an API token', async () => {
    const p = await app.open(team.member);
    await p.page.goto('/admin/users');
    assert.match(p.page.url(), /\/admin\/login$/);
    await consoleLogin(p.page, team.member);
    await p.page.getByRole('alert').filter({ hasText: 'not an active superuser' }).waitFor();
    await p.screenshot('admin-refused');
    const withToken = await p.page.request.get('/admin/users', { headers: { authorization: `Bearer ${root.token}` } });
    assert.match(withToken.url(), /\/admin\/login$/, "a superuser's API token opens nothing");
    await p.close();
  });

  it('refuses a form posted without its CSRF token, beside the same form with it', async () => {
    const u = await app.server.signUp('csrf');
    const { page } = console_;
    await page.goto(`/admin/users/${u.id}`);
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { remove(): void } | null } }).document;
      doc.querySelector('form[action$="/revoke-sessions"] input[name="_csrf"]')!.remove();
    });
    await page.getByRole('button', { name: 'Revoke all sessions' }).click();
    await page.getByRole('alert').filter({ hasText: 'CSRF' }).waitFor();
    await page.goto(`/admin/users/${u.id}`);
    await page.getByRole('button', { name: 'Revoke all sessions' }).click();
    await page.getByRole('status').filter({ hasText: 'Every session of the account is revoked.' }).waitFor();
    assert.equal((await app.server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } })).status, 401);
  });

  it("deactivating a person closes their open /collab and /rtc connections at once", async () => {
    const target = await app.server.signUp('target');
    await app.server.call('POST', `/api/groups/${team.groupId}/members`, { token: team.owner.token, json: { user_id: target.id, role: 'member' } });
    const collab: Client = await connect(app.server, team.channels.TEXT!, target.token);
    closers.push(() => collab.close());
    let rtc: RtcClient | undefined;
    if (!workerMissing) {
      rtc = await rtcConnect(app.server, target.token, team.channels.VOICE!);
      closers.push(() => rtc!.close());
      await rtc.ok('getRouterRtpCapabilities');
    }
    const { page } = console_;
    await page.goto(`/admin/users/${target.id}`);
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('status').filter({ hasText: 'deactivated' }).waitFor();
    assert.equal(await collab.refusal, 'access revoked');
    if (rtc) assert.deepEqual(await rtc.closed, { code: 4403, reason: 'access revoked' });
    assert.ok(Date.now() - clicked < 3000, `closed ${Date.now() - clicked} ms after the click`);
    if (workerMissing) assert.ok(!process.env.CI, 'CI=true: the mediasoup worker is missing for the /rtc half');
  });

  it('shows messages with the writers the server recorded, and a moderation delete goes from a connected web client', async () => {
    const channelPath = `/channels/${team.channels.TEXT}`;
    const member = await app.open(team.member, channelPath);
    const owner = await app.open(team.owner, channelPath);
    const send = async (p: AppPage, text: string) => {
      await p.page.getByLabel('Message', { exact: true }).fill(text);
      await p.page.getByLabel('Message', { exact: true }).press('Enter');
      await p.page.getByText(text).waitFor();
    };
    await send(member, 'hello from the member');
    await send(owner, 'the owner answers');
    await member.page.getByText('the owner answers').waitFor();
    const { page } = console_;
    await page.goto(`/admin/channels/${team.channels.TEXT}`);
    const row = (text: string) => page.getByTestId('message').filter({ hasText: text });
    await row('the owner answers').waitFor();
    assert.equal(await row('hello from the member').getByTestId('writer').textContent(), team.member.username);
    assert.equal(await row('the owner answers').getByTestId('writer').textContent(), team.owner.username);
    await console_.screenshot('admin-messages');
    await row('hello from the member').getByRole('button', { name: 'Delete message' }).click();
    await page.getByRole('status').filter({ hasText: 'The message is deleted.' }).waitFor();
    await owner.page.getByText('hello from the member').waitFor({ state: 'detached', timeout: 5000 });
    await owner.page.getByText('This message was deleted.').waitFor();
    await member.close();
    await owner.close();
  });

  it('shows each action in the audit log, newest first', async () => {
    const u = await app.server.signUp('audited');
    const { page } = console_;
    await page.goto(`/admin/users/${u.id}`);
    for (const button of ['Grant superuser', 'Revoke superuser', 'Deactivate', 'Activate', 'Revoke all sessions']) {
      await page.getByRole('button', { name: button }).click();
      await page.getByRole('status').waitFor();
    }
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.getByTestId('one-time-password').waitFor();
    await page.goto('/admin/audit');
    const actions = await auditActions(page);
    assert.deepEqual(actions.slice(0, 6), [
      'user.reset_password', 'user.revoke_sessions', 'user.activate', 'user.deactivate', 'user.revoke_superuser', 'user.grant_superuser',
    ]);
    for (const earlier of ['message.delete', 'session.login', 'member.added']) {
      assert.ok(actions.includes(earlier), `${earlier} in ${actions.join(', ')}`);
    }
    await console_.screenshot('admin-audit');
  });

  it('refuses to deactivate the last superuser', async () => {
    const { page } = console_;
    await page.goto(`/admin/users/${root.id}`);
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('alert').filter({ hasText: 'last active superuser' }).waitFor();
    const { rows } = await app.server.database.pool.query('SELECT is_active FROM users WHERE id = $1', [root.id]);
    assert.equal(rows[0].is_active, true);
  });

  it('ends a session left idle past the limit', async () => {
    const { page } = console_;
    await page.goto('/admin/jobs');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    // The idle limit is 30 minutes by default: the session's last use is moved back past it, rather than waiting.
    await app.server.database.pool.query(`UPDATE admin_sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1`, [root.id]);
    await page.goto('/admin/jobs');
    assert.match(page.url(), /\/admin\/login$/);
    await consoleLogin(page, root);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });
});
