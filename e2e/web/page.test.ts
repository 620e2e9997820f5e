// The page (DOC channels) in Chromium: two people co-edit it with formatting, see each other's text and named,
// coloured carets; the title and "last edited by"; a link that would run code refused beside one that is kept;
// the server stores what they see; a viewer reads but cannot type.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, setUpTeam, type Team } from '../../server/test/harness.ts';
import { skipWithoutChromium, startWebApp, waitForStatus, type AppPage, type WebApp } from './harness.ts';

let app: WebApp;
let team: Team;

const editorOf = (page: Page) => page.getByRole('textbox', { name: 'Page content' });

/** Waits until the editor takes input (the document is ready and the person may edit). */
async function editable(page: Page): Promise<void> {
  await page.locator('.page-content[contenteditable="true"]').waitFor();
}

/** The few DOM members read in the page (the repository's tsconfig has no DOM lib: see e2e/dom.ts). */
interface Element_ {
  children: Iterable<Element_>;
  cloneNode(deep: true): Element_;
  querySelectorAll(selector: string): Iterable<{ remove(): void }>;
  textContent: string;
}

/** The page's text as its reader sees it, one line per block, without other people's caret labels. */
const pageText = (page: Page) =>
  editorOf(page).evaluate((element) =>
    [...(element as unknown as Element_).children]
      .map((block) => {
        const copy = block.cloneNode(true);
        for (const caret of copy.querySelectorAll('.page-caret')) caret.remove();
        return copy.textContent;
      })
      .join('\n'),
  );

/** The border colour an element's style gives it (the browser writes every colour as rgb()). */
async function borderColor(locator: ReturnType<Page['locator']>): Promise<string> {
  const style = (await locator.getAttribute('style')) ?? '';
  const color = /border(?:-bottom)?-color:\s*([^;]+)/.exec(style)?.[1];
  assert.ok(color, `no border colour in "${style}"`);
  return color;
}

/** The caret of `name` as `viewer` sees it, and its colour. */
async function caretColor(viewer: AppPage, name: string): Promise<string> {
  const caret = viewer.page.locator('.page-caret', { hasText: name });
  await caret.waitFor({ timeout: 10_000 });
  return borderColor(caret);
}

/** The colour this person's own device announces for them ("you" in the list of who is here). */
const ownColor = (person: AppPage) => borderColor(person.page.getByTestId('me'));

async function serverPage(): Promise<{ title: string; text: string; last_edited_by: string | null; content: unknown }> {
  const res = await app.server.call('GET', `/api/channels/${team.channels.DOC}/document`, { token: team.owner.token });
  assert.equal(res.status, 200);
  return res.body;
}

describe('the page in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp();
    team = await setUpTeam(app.server, ['DOC']);
  });
  after(async () => {
    await app?.close();
  });

  it('two people co-edit a page with headings, bold and a link, see each other’s carets, and a viewer cannot type', async () => {
    const path = `/channels/${team.channels.DOC}`;
    const a = await app.open(team.owner, path);
    const b = await app.open(team.member, path);
    await Promise.all([editable(a.page), editable(b.page)]);

    // A writes a heading and a line with a bold word, through the toolbar.
    await editorOf(a.page).click();
    await a.page.getByRole('button', { name: 'Heading 1' }).click();
    await a.page.keyboard.type('Launch plan');
    await a.page.keyboard.press('Enter');
    await a.page.keyboard.type('Ship the ');
    await a.page.getByRole('button', { name: 'Bold' }).click();
    assert.equal(await a.page.getByRole('button', { name: 'Bold' }).getAttribute('aria-pressed'), 'true');
    await a.page.keyboard.type('beta');
    await a.page.getByRole('button', { name: 'Bold' }).click();
    await a.page.keyboard.type(' soon');

    // B sees it, formatting included, and A's caret under A's name in the colour A's device announces.
    await b.page.locator('.page-content h1', { hasText: 'Launch plan' }).waitFor({ timeout: 10_000 });
    await b.page.locator('.page-content strong', { hasText: 'beta' }).waitFor({ timeout: 10_000 });
    assert.equal(await caretColor(b, team.owner.username), await ownColor(a));

    // B adds a line; A sees it, and B's caret under B's name.
    await editorOf(b.page).click();
    await b.page.keyboard.press('Control+End');
    await b.page.keyboard.press('Enter');
    await b.page.keyboard.type('Book the room');
    await a.page.locator('.page-content p', { hasText: 'Book the room' }).waitFor({ timeout: 10_000 });
    assert.equal(await caretColor(a, team.member.username), await ownColor(b));
    assert.notEqual(await ownColor(a), await ownColor(b));
    await b.page.getByTestId('present').filter({ hasText: team.owner.username }).waitFor();
    await a.screenshot('page-coediting');
    await b.screenshot('page-coediting-other');

    // A link that would run code is refused in the toolbar; an https link is kept.
    await b.page.keyboard.type(' docs');
    for (let i = 0; i < 4; i++) await b.page.keyboard.press('Shift+ArrowLeft');
    await b.page.getByRole('button', { name: 'Link' }).click();
    await b.page.getByLabel('Link address').fill('javascript:alert(1)');
    await b.page.getByRole('button', { name: 'Apply link' }).click();
    await b.page.getByRole('alert').filter({ hasText: 'A link cannot run code' }).waitFor();
    await b.screenshot('page-link-refused');
    await b.page.getByLabel('Link address').fill('https://example.com/docs');
    await b.page.getByRole('button', { name: 'Apply link' }).click();
    await a.page.locator('.page-content a[href="https://example.com/docs"]', { hasText: 'docs' }).waitFor({ timeout: 10_000 });
    assert.equal(await a.page.locator('.page-content a[href^="javascript"]').count(), 0);

    // The title, set by A, reaches B.
    await a.page.getByLabel('Page title').fill('Q3 launch');
    await a.page.getByLabel('Page title').press('Enter');
    await eventually(async () => assert.equal(await b.page.getByLabel('Page title').inputValue(), 'Q3 launch'), 10_000);
    await Promise.all([waitForStatus(a.page, /All changes saved/), waitForStatus(b.page, /All changes saved/)]);

    // The server has what they see: text, heading, bold, link, title, and who edited last (shown by name).
    const stored = await serverPage();
    assert.equal(stored.title, 'Q3 launch');
    assert.equal(stored.text, 'Launch plan\nShip the beta soon\nBook the room docs');
    assert.equal(stored.text, await pageText(a.page));
    const json = JSON.stringify(stored.content);
    assert.match(json, /"type":"heading","attrs":\{[^}]*"level":1/);
    assert.match(json, /\{"type":"bold"\}\],"text":"beta"|"text":"beta","marks":\[\{"type":"bold"/);
    assert.match(json, /"href":"https:\/\/example.com\/docs"/);
    assert.equal(stored.last_edited_by, team.owner.id);
    await b.page.getByTestId('last-edited').filter({ hasText: `Last edited by ${team.owner.username}` }).waitFor({ timeout: 10_000 });

    // A viewer reads the page but cannot type, format or retitle it.
    const v = await app.open(team.viewer, path, { viewport: { width: 390, height: 844 } });
    await v.page.locator('.page-content h1', { hasText: 'Launch plan' }).waitFor({ timeout: 10_000 });
    await v.page.getByText('You can read this channel but not change it').waitFor();
    assert.equal(await editorOf(v.page).getAttribute('contenteditable'), 'false');
    assert.equal(await editorOf(v.page).getAttribute('aria-readonly'), 'true');
    assert.equal(await v.page.getByRole('button', { name: 'Bold' }).isDisabled(), true);
    assert.equal(await v.page.getByLabel('Page title').getAttribute('readonly'), '');
    await editorOf(v.page).click();
    await v.page.keyboard.type('viewer was here');
    // Positive control: the member's next line reaches the viewer, so anything the viewer's typing did is in by now.
    await b.page.keyboard.press('End');
    await b.page.keyboard.type(' today');
    await v.page.locator('.page-content p', { hasText: 'today' }).waitFor({ timeout: 10_000 });
    assert.doesNotMatch(await pageText(v.page), /viewer was here/);
    await waitForStatus(b.page, /All changes saved/);
    const after = await serverPage();
    assert.match(after.text, /Book the room docs today/);
    assert.doesNotMatch(after.text, /viewer was here/);
    await v.screenshot('page-viewer-phone');
    for (const p of [a, b, v]) assert.deepEqual(p.errors, []);
  });
});
