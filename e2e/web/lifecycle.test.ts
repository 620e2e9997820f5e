// The life cycle in the web client: renaming a group and a channel, archiving a channel while someone else has it
// open (their view turns read-only at once), deleting a channel after typing its name, and changing one's password
// (another device with a channel open is signed out at once) then signing in with the new one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../server/test/harness.ts';
import { changePasswordInForm, signIn, skipWithoutChromium, startWebApp, type WebApp } from './harness.ts';

let app: WebApp;

describe('the life cycle of groups, channels and accounts in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp();
  });
  after(async () => {
    await app?.close();
  });

  it('renames, archives (the other person turns read-only), deletes a channel, and changes a password', async () => {
    const { server } = app;
    const owner = await server.signUp('owner');
    const member = await server.signUp('member');
    const group = (await server.call('POST', '/api/groups', { token: owner.token, json: { name: 'Launch' } })).body;
    await server.call('POST', `/api/groups/${group.id}/members`, { token: owner.token, json: { user_id: member.id, role: 'member' } });
    const channel = async (name: string, type: string) =>
      (await server.call('POST', `/api/groups/${group.id}/channels`, { token: owner.token, json: { name, type } })).body.id as string;
    const todo = await channel('plans', 'TODO');
    const scratch = await channel('scratch', 'DOC');

    // The owner renames and describes the group.
    const a = await app.open(owner, `/groups/${group.id}`);
    const groupForm = a.page.getByRole('form', { name: 'Rename group' });
    await groupForm.getByLabel('Group name').fill('Launch crew');
    await groupForm.getByLabel('Description').fill('Everything about the launch');
    await groupForm.getByRole('button', { name: 'Save' }).click();
    await a.page.getByRole('heading', { name: 'Launch crew' }).waitFor();
    await a.page.getByText('Everything about the launch').first().waitFor();

    // The member has the task list open; the owner renames it, then archives it.
    const b = await app.open(member, `/channels/${todo}`);
    await b.page.getByLabel('New task').waitFor();
    assert.equal(await b.page.getByLabel('New task').isEditable(), true, 'writable before the archive');
    await a.page.goto(`/channels/${todo}`);
    await a.page.getByText('Channel settings').click();
    const channelForm = a.page.getByRole('form', { name: 'Rename channel' });
    await channelForm.getByLabel('Channel name').fill('launch plans');
    await channelForm.getByRole('button', { name: 'Save' }).click();
    await a.page.getByRole('heading', { name: /launch plans/ }).waitFor();
    await a.page.getByRole('button', { name: 'Archive channel' }).click();
    await a.page.getByRole('button', { name: 'Unarchive channel' }).waitFor();
    await b.page.getByText('This channel is archived').waitFor({ timeout: 10_000 });
    await eventually(async () => assert.equal(await b.page.getByLabel('New task').count() === 0 || !(await b.page.getByLabel('New task').isEditable()), true), 10_000);
    await b.screenshot('lifecycle-archived-other');
    const refused = await server.call('POST', `/api/channels/${todo}/tasks`, { token: member.token, json: { content: 'sneaked in' } });
    assert.equal(refused.status, 409);

    // Archived channels are listed apart.
    await a.page.goto(`/groups/${group.id}`);
    const archivedList = a.page.getByRole('region', { name: 'Archived channels' });
    await archivedList.getByRole('link', { name: /launch plans/ }).waitFor();
    assert.equal(await a.page.getByRole('region', { name: 'Channels', exact: true }).getByRole('link', { name: /launch plans/ }).count(), 0);
    await a.screenshot('lifecycle-group');

    // Deleting a channel takes its name typed first.
    await a.page.goto(`/channels/${scratch}`);
    await a.page.getByText('Channel settings').click();
    const remove = a.page.getByRole('button', { name: 'Delete channel' });
    assert.equal(await remove.isDisabled(), true, 'not before the name is typed');
    await a.page.getByLabel('Name to confirm').fill('scratch');
    await remove.click();
    await a.page.getByRole('heading', { name: 'Launch crew' }).waitFor();
    await eventually(async () => assert.equal((await server.call('GET', `/api/channels/${scratch}`, { token: owner.token })).status, 404));
    assert.equal(await a.page.getByRole('main').getByRole('link', { name: /scratch/ }).count(), 0);

    // A new password: this device stays signed in, the owner's other device, with a channel open, is signed out at
    // once (its connection is closed as session_revoked and its refresh token is revoked); the old password fails.
    const elsewhere = await app.open(owner, `/channels/${todo}`);
    await elsewhere.page.getByText('This channel is archived').waitFor({ timeout: 10_000 });
    await a.page.getByRole('link', { name: /Your account/ }).click();
    await changePasswordInForm(a.page, owner.password, 'an entirely new passphrase');
    await elsewhere.page.getByLabel('Username or email').waitFor({ timeout: 10_000 });
    await a.screenshot('lifecycle-account');
    await a.page.goto(`/groups/${group.id}`);
    await a.page.getByRole('heading', { name: 'Launch crew' }).waitFor();
    await a.page.getByRole('button', { name: 'Sign out' }).click();
    await a.page.getByLabel('Username or email').fill(owner.username);
    await a.page.getByLabel('Password', { exact: true }).fill(owner.password);
    await a.page.getByRole('button', { name: 'Sign in' }).click();
    await a.page.getByRole('alert').waitFor();
    await signIn(a.page, { ...owner, password: 'an entirely new passphrase' });
    await a.page.getByRole('main').getByRole('link', { name: 'Launch crew' }).waitFor();
    for (const p of [a, b, elsewhere]) assert.deepEqual(p.errors.filter((e) => !/401|409/.test(e)), []);
  });
});
