// The app's shell in Chromium: sessions that outlive access tokens and reloads, signing out, no IndexedDB, a
// channel that has not arrived yet, the keyboard, a phone-sized screen, and what makes it installable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, setUpTeam, type Team } from '../../server/test/harness.ts';
import { changePasswordInForm, skipWithoutChromium, startWebApp, waitForStatus, type WebApp } from './harness.ts';
import { addTask } from './task-list.ts';

let app: WebApp;
let team: Team;

/** Access tokens live this long here, so the session must refresh them while the test runs. */
const TOKEN_SECONDS = 4;

async function storedTasks(channelId: string): Promise<string[]> {
  const res = await app.server.call('GET', `/api/channels/${channelId}/tasks`, { token: team.owner.token });
  return res.body.map((t: { content: string }) => t.content);
}

const docDatabases = (page: Page) =>
  page.evaluate(async () => {
    const idb = (globalThis as unknown as { indexedDB: { databases(): Promise<{ name?: string }[]> } }).indexedDB;
    return (await idb.databases()).map((d) => d.name ?? '').filter((name) => name.startsWith('teamspace:') && !name.endsWith(':probe'));
  });

describe('the web client shell', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp({ ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_SECONDS) });
    team = await setUpTeam(app.server, ['TODO', 'DOC']);
    // The team's tokens come from the test harness: refresh the owner's for the REST checks.
  });
  after(async () => {
    await app?.close();
  });

  it('keeps working past its access token and across a reload, and signing out forgets the device', async () => {
    const channel = team.channels.TODO!;
    const p = await app.open(team.member, `/channels/${channel}`);
    await addTask(p.page, 'first');
    await waitForStatus(p.page, /All changes saved/);
    await p.page.waitForTimeout(TOKEN_SECONDS * 1000 + 500);
    await addTask(p.page, 'after the token expired');
    await p.page.reload();
    await p.page.getByRole('link', { name: 'Team', exact: true }).waitFor();
    await addTask(p.page, 'after a reload');
    await waitForStatus(p.page, /All changes saved/);
    const owner = await app.server.call('POST', '/api/auth/token', { form: { username: team.owner.username, password: team.owner.password } });
    team.owner.token = owner.body.access_token;
    await eventually(async () => assert.deepEqual(await storedTasks(channel), ['first', 'after the token expired', 'after a reload']), 5000);
    assert.ok((await docDatabases(p.page)).length > 0, 'the channel is kept in IndexedDB while signed in');

    await p.page.getByRole('button', { name: 'Sign out' }).click();
    await p.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await p.page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('teamspace.session')), null);
    await eventually(async () => assert.deepEqual(await docDatabases(p.page), []), 5000);
    await p.page.goto(`/channels/${channel}`);
    await p.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(p.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
  });

  /**
   * Two tabs of one browser on one session: each round the tokens have expired, and the first tab refreshes (spending
   * the refresh token) while the other must take that new pair, never send the spent token (which the server takes
   * for a leak that ends the login); with Web Locks, then both at the same instant; then a sign-out in one ends both.
   */
  async function twoTabs(withoutWebLocks: boolean): Promise<void> {
    const a = await app.open(team.member, '/');
    if (withoutWebLocks) {
      // As on a plain-http LAN address, which is no secure context: the app falls back to a lease in localStorage.
      await a.context.addInitScript('Object.defineProperty(navigator, "locks", { value: undefined })');
      await a.page.reload();
      assert.equal(await a.page.evaluate(() => typeof (globalThis as unknown as { navigator: { locks?: unknown } }).navigator.locks), 'undefined');
    }
    const b = await a.context.newPage();
    await b.goto('/');
    await b.getByRole('heading', { name: 'Your groups' }).waitFor();
    /** Opens the group or the list of groups through the navigation: a view that asks the API. */
    const visit = async (page: Page, link: 'Team' | 'All groups') => {
      const answered = page.waitForResponse((r) => /\/api\/groups(\/[^/]+)?$/.test(new URL(r.url()).pathname));
      await page.getByRole('navigation', { name: 'Groups and channels' }).getByRole('link', { name: link, exact: true }).click();
      assert.equal((await answered).status(), 200, `${link}: the API answers with the session`);
    };
    for (const [first, second, link] of [[a.page, b, 'Team'], [b, a.page, 'All groups'], [a.page, b, 'Team']] as const) {
      await first.waitForTimeout(TOKEN_SECONDS * 1000 + 500);
      await visit(first, link);
      await visit(second, link);
    }
    if (!withoutWebLocks) {
      // Both tabs at the same instant (timers set to one moment of the clock they share): one refreshes, the other
      // waits on the lock and takes its pair. A lease in localStorage cannot order two tabs as closely as that.
      await a.page.waitForTimeout(TOKEN_SECONDS * 1000 + 500);
      const at = Date.now() + 300;
      const answered = [a.page, b].map((page) => page.waitForResponse((r) => new URL(r.url()).pathname === '/api/groups'));
      for (const page of [a.page, b]) {
        await page.evaluate(`setTimeout(() => document.querySelector('nav[aria-label="Groups and channels"] a[href="/"]').click(), ${at} - Date.now())`);
      }
      for (const response of await Promise.all(answered)) assert.equal(response.status(), 200, 'both tabs at once');
      // A spent token sent then would have ended the login on the server: the next refresh shows it did not.
      await a.page.waitForTimeout(TOKEN_SECONDS * 1000 + 500);
      await visit(a.page, 'Team');
      await visit(b, 'Team');
    }
    for (const page of [a.page, b]) assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 0);

    await a.page.getByRole('button', { name: 'Sign out' }).click();
    await b.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(a.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
  }

  it('two tabs hold one session: each goes on working as the other refreshes it, and signing out in one ends both', () => twoTabs(false));

  it('two tabs hold one session without Web Locks too (plain http on a LAN)', () => twoTabs(true));

  it('a password change in one tab keeps the other tab signed in and its open channel syncing', async () => {
    const person = await app.server.signUp('tabs');
    // Tokens here live seconds: the owner signs in afresh.
    const owner = await app.server.call('POST', '/api/auth/token', { form: { username: team.owner.username, password: team.owner.password } });
    const added = await app.server.call('POST', `/api/groups/${team.groupId}/members`, { token: owner.body.access_token, json: { user_id: person.id, role: 'member' } });
    assert.equal(added.status, 201);
    const channel = team.channels.TODO!;
    const a = await app.open(person, `/channels/${channel}`);
    await addTask(a.page, 'before the change');
    await waitForStatus(a.page, /All changes saved/);
    // The other tab refreshes the session past a token lifetime: the channel's connection in the first still holds
    // the token it opened with, and the first tab's current token is now the refreshed one, of the same epoch.
    const b = await a.context.newPage();
    await b.goto('/');
    await b.waitForTimeout(TOKEN_SECONDS * 1000 + 500);
    await b.getByRole('navigation', { name: 'Groups and channels' }).getByRole('link', { name: 'Team', exact: true }).click();
    await b.getByRole('heading', { name: 'Team' }).waitFor();
    await b.goto('/account');
    await changePasswordInForm(b, person.password, 'an entirely new passphrase');
    // The first tab's channel was closed as session_revoked, and reconnected with the new pair, not the dead one.
    await addTask(a.page, 'after the change');
    await waitForStatus(a.page, /All changes saved/);
    assert.equal(await a.page.getByRole('heading', { name: 'Sign in' }).count(), 0);
    const fresh = await app.server.call('POST', '/api/auth/token', { form: { username: person.username, password: 'an entirely new passphrase' } });
    const tasks = await app.server.call('GET', `/api/channels/${channel}/tasks`, { token: fresh.body.access_token });
    assert.ok(['before the change', 'after the change'].every((t) => tasks.body.some((x: { content: string }) => x.content === t)));
    assert.deepEqual(a.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
  });

  it('works online without IndexedDB and says so, beside a browser that has it', async () => {
    const withIdb = await app.open(team.member, `/channels/${team.channels.TODO}`);
    await withIdb.page.getByLabel('New task').waitFor();
    assert.equal(await withIdb.page.getByText('cannot keep offline copies').count(), 0);
    await withIdb.close();

    const p = await app.open(team.member, '/');
    await p.context.addInitScript(() => {
      const idb = (globalThis as unknown as { indexedDB: { open: unknown } }).indexedDB;
      idb.open = () => {
        throw new Error('IndexedDB is disabled here');
      };
    });
    await p.page.goto(`/channels/${team.channels.TODO}`);
    await p.page.getByText('cannot keep offline copies').waitFor();
    await addTask(p.page, 'without IndexedDB');
    await waitForStatus(p.page, /All changes saved/);
    await p.screenshot('no-indexeddb');
    const owner = await app.server.call('POST', '/api/auth/token', { form: { username: team.owner.username, password: team.owner.password } });
    team.owner.token = owner.body.access_token;
    await eventually(async () => assert.ok((await storedTasks(team.channels.TODO!)).includes('without IndexedDB')), 5000);
  });

  it('shows a channel it has never loaded as loading, with nothing to edit, until the server answers', async () => {
    const p = await app.open(team.member, '/');
    // The socket opens but the server never answers: no copy on the device, none from the server.
    await p.page.routeWebSocket(/\/collab/, () => undefined);
    await p.page.goto(`/channels/${team.channels.TODO}`);
    await p.page.getByTestId('loading').waitFor();
    assert.equal(await p.page.getByLabel('New task').count(), 0);
    await p.screenshot('channel-loading');
    // The same browser with the server answering: the channel arrives and can be edited.
    const answered = await p.context.newPage();
    await answered.goto(`/channels/${team.channels.TODO}`);
    await answered.getByLabel('New task').waitFor();
  });

  it('signs in with the keyboard alone, and fits a phone with its menu', async () => {
    const p = await app.open(team.viewer, '/', { viewport: { width: 390, height: 844 } });
    await p.page.getByRole('button', { name: 'Sign out' }).click();
    await p.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await p.page.keyboard.press('Tab');
    await p.page.keyboard.type(team.viewer.username);
    await p.page.keyboard.press('Tab');
    await p.page.keyboard.type(team.viewer.password);
    await p.page.keyboard.press('Enter');
    await p.page.getByRole('heading', { name: 'Your groups' }).waitFor();
    const nav = p.page.getByRole('navigation', { name: 'Groups and channels' });
    assert.equal(await nav.isVisible(), false, 'the navigation is folded away on a phone');
    await p.page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Team', exact: true }).click();
    await p.page.getByRole('heading', { name: 'Team' }).waitFor();
    assert.equal(await nav.isVisible(), false, 'choosing a place folds the menu again');
    const width = await p.page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page fits the phone's width (${width} px)`);
    await p.screenshot('phone-group');
  });

  it('is installable: a manifest with PNG icons that load, and a service worker', async () => {
    const html = await (await fetch(app.server.url + '/')).text();
    assert.match(html, /<link rel="manifest" href="\/manifest.webmanifest">/);
    const manifest = await (await fetch(app.server.url + '/manifest.webmanifest')).json() as { name: string; start_url: string; display: string; icons: { src: string; sizes: string; type: string }[] };
    assert.equal(manifest.name, 'Teamspace');
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.start_url, '/');
    for (const size of ['192x192', '512x512']) {
      const icon = manifest.icons.find((i) => i.sizes === size && i.type === 'image/png');
      assert.ok(icon, `a ${size} PNG icon`);
      const res = await fetch(app.server.url + icon.src);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.deepEqual([...new Uint8Array(await res.arrayBuffer()).slice(1, 4)], [0x50, 0x4e, 0x47]);
    }
    const sw = await fetch(app.server.url + '/sw.js');
    assert.equal(sw.status, 200);
    assert.match(await sw.text(), /precacheAndRoute/);
  });
});
