// Offline first: the app opens from the service worker's cache with no network, shows its channels from
// IndexedDB, takes changes, says it is offline, and merges when the network returns, with nothing lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, setUpTeam, type Team } from '../../server/test/harness.ts';
import { skipWithoutChromium, startWebApp, waitForStatus, type WebApp } from './harness.ts';
import { addTask, taskNames } from './task-list.ts';

let app: WebApp;
let team: Team;

const pageEditor = (page: Page) => page.locator('.page-content[contenteditable="true"]');

/** Types a new paragraph at the end of the page. */
async function writeLine(page: Page, text: string): Promise<void> {
  await pageEditor(page).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text);
}

const pageText = (page: Page) => page.locator('.page-content').innerText();

async function post(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

const shownMessages = (page: Page) =>
  page.getByRole('list', { name: 'Messages' }).getByTestId('message').locator('.text .body').allTextContents();

/** The service worker controls the page: a reload is then answered from its cache. */
async function controlledByServiceWorker(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    const sw = (globalThis as unknown as { navigator: { serviceWorker: { ready: Promise<unknown>; controller: unknown } } }).navigator.serviceWorker;
    await sw.ready;
    return sw.controller !== null;
  }, undefined, { timeout: 20_000 });
}

describe('offline in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp();
    team = await setUpTeam(app.server, ['TODO', 'DOC', 'TEXT']);
  });
  after(async () => {
    await app?.close();
  });

  it('reloads offline from the cache, writes tasks, page text and messages, says so, and converges with another person when back online, even for channels it no longer shows', async () => {
    const channel = `/channels/${team.channels.TODO}`;
    const pagePath = `/channels/${team.channels.DOC}`;
    const chatPath = `/channels/${team.channels.TEXT}`;
    const a = await app.open(team.member, chatPath);
    await post(a.page, 'hello before going offline');
    await waitForStatus(a.page, /All changes saved/);
    await a.page.goto(pagePath);
    await writeLine(a.page, 'Written online.');
    await waitForStatus(a.page, /All changes saved/);
    await a.page.goto(channel);
    await addTask(a.page, 'before going offline');
    await waitForStatus(a.page, /All changes saved/);
    await controlledByServiceWorker(a.page);

    await a.context.setOffline(true);
    const started = Date.now();
    await a.page.reload();
    await a.page.getByTestId('task').first().waitFor();
    const renderedMs = Date.now() - started;
    assert.deepEqual(await taskNames(a.page), ['before going offline']);
    await waitForStatus(a.page, /Offline/);
    // What IndexedDB holds was saved before: nothing is called unsynced until something is changed offline.
    assert.doesNotMatch(await a.page.getByTestId('status').innerText(), /unsynced/);
    await a.screenshot('offline');
    await addTask(a.page, 'written offline 1');
    await addTask(a.page, 'written offline 2');
    await a.page.getByLabel('Done: before going offline').check();
    await waitForStatus(a.page, /Offline.*unsynced/);

    await a.page.goto(pagePath);
    await pageEditor(a.page).waitFor();
    await writeLine(a.page, 'Written offline.');
    await a.screenshot('offline-page');
    await a.page.goto(chatPath);
    await a.page.getByText('hello before going offline').waitFor();
    await post(a.page, 'posted offline 1');
    await post(a.page, 'posted offline 2');
    await a.screenshot('offline-chat');
    // Back to the task list: the page and the chat, changed offline, are no longer open here.
    await a.page.goto(channel);
    await a.page.getByTestId('task').first().waitFor();

    const b = await app.open(team.owner, chatPath);
    await b.page.getByText('hello before going offline').waitFor();
    await post(b.page, 'posted online meanwhile');
    await b.page.goto(pagePath);
    await b.page.getByText('Written online.').waitFor();
    await writeLine(b.page, 'Written by the other meanwhile.');
    await b.page.goto(channel);
    await eventually(async () => assert.deepEqual(await taskNames(b.page), ['before going offline']), 10_000);
    await addTask(b.page, 'written online meanwhile');

    await a.context.setOffline(false);
    const expected = ['before going offline', 'written offline 1', 'written offline 2', 'written online meanwhile'];
    for (const page of [a.page, b.page]) {
      await eventually(async () => assert.deepEqual((await taskNames(page)).sort(), [...expected].sort()), 15_000);
    }
    await waitForStatus(a.page, /All changes saved/);
    assert.equal(await b.page.getByLabel('Done: before going offline').isChecked(), true);
    assert.deepEqual(await taskNames(a.page), await taskNames(b.page));
    const storedTasks = await app.server.call('GET', `/api/channels/${team.channels.TODO}/tasks`, { token: team.owner.token });
    assert.deepEqual(storedTasks.body.map((t: { content: string }) => t.content).sort(), [...expected].sort());

    // The chat and the page reach the other person although nobody opened them here again.
    const chat = ['hello before going offline', 'posted online meanwhile', 'posted offline 1', 'posted offline 2'];
    await b.page.goto(chatPath);
    await eventually(async () => assert.deepEqual((await shownMessages(b.page)).sort(), [...chat].sort()), 15_000);
    const lines = ['Written online.', 'Written offline.', 'Written by the other meanwhile.'];
    await b.page.goto(pagePath);
    await eventually(async () => {
      const text = await pageText(b.page);
      for (const line of lines) assert.ok(text.includes(line), `the page has "${line}": ${text}`);
    }, 15_000);
    const document = await app.server.call('GET', `/api/channels/${team.channels.DOC}/document`, { token: team.owner.token });
    for (const line of lines) assert.ok(document.body.text.includes(line), `stored page has "${line}"`);

    await a.page.goto(chatPath);
    await b.page.goto(chatPath);
    await eventually(async () => assert.deepEqual((await shownMessages(a.page)).sort(), [...chat].sort()), 15_000);
    assert.deepEqual(await shownMessages(a.page), await shownMessages(b.page), 'both show one order');
    const stored = await app.server.call('GET', `/api/channels/${team.channels.TEXT}/messages`, { token: team.owner.token });
    assert.deepEqual(stored.body.messages.map((m: { text: string }) => m.text), await shownMessages(b.page));
    await a.page.goto(pagePath);
    await b.page.goto(pagePath);
    await eventually(async () => assert.equal(await pageText(a.page), await pageText(b.page)), 15_000);
    await waitForStatus(a.page, /All changes saved/);
    process.stdout.write(`# cached task list rendered offline in ${renderedMs} ms after reload\n`);
  });
});
