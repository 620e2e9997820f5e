// The workspace screens in Chromium: registering, groups and members, channels, and a task list two people
// change at once, with a viewer who can only read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../server/test/harness.ts';
import { skipWithoutChromium, startWebApp, waitForStatus, type WebApp } from './harness.ts';
import { addTask, taskNames } from './task-list.ts';

let app: WebApp;

describe('workspace in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp();
  });
  after(async () => {
    await app?.close();
  });

  it('registers, creates a group and a task list, and two people edit it live while a viewer reads', async () => {
    const owner = await app.server.signUp('owner');
    const member = await app.server.signUp('member');
    const viewer = await app.server.signUp('viewer');

    // A newcomer registers through the form and lands in the app.
    const newcomer = await app.open(owner, '/register').then(async (p) => {
      await p.page.getByRole('button', { name: 'Sign out' }).click();
      await p.page.goto('/register');
      await p.screenshot('register');
      await p.page.getByLabel('Username').fill(`new${Date.now() % 1e6}`);
      await p.page.getByLabel('Email').fill(`new${Date.now()}@example.test`);
      await p.page.getByLabel('Password').fill('a long enough passphrase');
      await p.page.getByRole('button', { name: 'Create account' }).click();
      await p.page.getByRole('heading', { name: 'Your groups' }).waitFor();
      return p;
    });
    await newcomer.close();

    const a = await app.open(owner);
    await a.page.getByLabel('Name', { exact: true }).fill('Launch team');
    await a.page.getByRole('button', { name: 'Create group' }).click();
    await a.page.getByRole('heading', { name: 'Launch team' }).waitFor();
    for (const [user, role] of [[member, 'member'], [viewer, 'viewer']] as const) {
      const form = a.page.getByRole('form', { name: 'Add a member' });
      await form.getByLabel('Username').fill(user.username);
      await form.getByLabel('Role').selectOption(role);
      await form.getByRole('button', { name: 'Add member' }).click();
      await a.page.getByRole('cell', { name: new RegExp(user.username) }).waitFor();
    }
    const channelForm = a.page.getByRole('form', { name: 'New channel' });
    await channelForm.getByLabel('Channel name').fill('todo');
    await channelForm.getByLabel('Type').selectOption('TODO');
    await channelForm.getByRole('button', { name: 'Create channel' }).click();
    await a.screenshot('group');
    await a.page.getByRole('main').getByRole('link', { name: /todo/ }).click();
    const url = a.page.url();

    await addTask(a.page, 'write the plan');
    await addTask(a.page, 'book the room');
    await waitForStatus(a.page, /All changes saved/);

    const b = await app.open(member, new URL(url).pathname);
    await eventually(async () => assert.deepEqual(await taskNames(b.page), ['write the plan', 'book the room']), 10_000);
    await addTask(b.page, 'order pizza');
    await b.page.getByLabel('Done: write the plan').check();
    await b.page.getByLabel('Assignee of book the room').selectOption({ label: owner.username });
    await b.page.getByRole('button', { name: 'Move up: order pizza' }).click();
    await eventually(async () => assert.deepEqual(await taskNames(a.page), ['write the plan', 'order pizza', 'book the room']), 10_000);
    assert.equal(await a.page.getByLabel('Done: write the plan').isChecked(), true);
    assert.equal(await a.page.getByLabel('Assignee of book the room').inputValue(), owner.id);
    await a.screenshot('tasks');

    await eventually(async () => {
      const res = await app.server.call('GET', `/api/channels/${new URL(url).pathname.split('/')[2]}/tasks`, { token: owner.token });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.map((t: { content: string }) => t.content), ['write the plan', 'order pizza', 'book the room']);
    }, 10_000);

    const v = await app.open(viewer, new URL(url).pathname);
    await eventually(async () => assert.equal((await taskNames(v.page)).length, 3), 10_000);
    assert.equal(await v.page.getByLabel('Done: order pizza').isDisabled(), true);
    assert.equal(await v.page.getByRole('button', { name: 'Add task' }).count(), 0);
    await v.page.getByText('You can read this channel but not change it').waitFor();
    for (const p of [a, b, v]) assert.deepEqual(p.errors, []);
  });
});
