// A channel's files in Chromium: uploads through the file field and by dropping, the server's refusals (415 for
// an image, 422 for an empty file, 413 for one over the limit) shown beside the files it took, the list newest
// first, downloads with the same bytes, a search citation's file highlighted, a viewer who only reads, offline.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { setUpTeam, type Team } from '../../server/test/harness.ts';
import { makePdf } from '../../server/test/make-pdf.ts';
import { skipWithoutChromium, startWebApp, type WebApp } from './harness.ts';

const MAX_BYTES = 64 * 1024;

let app: WebApp;
let team: Team;

const markdown = Buffer.from('# Release notes\n\n- faster sync\n- offline pages\n');
const pdf = makePdf(['Quarterly report', 'Hiring plan']);
// The PNG signature and the start of an IHDR chunk: what the server recognises as an image.
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

const uploadField = (page: Page) => page.getByLabel(/Upload files/);
const listedNames = (page: Page) => page.getByTestId('file').locator('.file-name').allTextContents();

interface StoredFile {
  id: string;
  filename: string;
  size_bytes: number;
  page_count: number | null;
  uploader_id: string;
}

async function storedFiles(): Promise<StoredFile[]> {
  const res = await app.server.call('GET', `/api/channels/${team.channels.TEXT}/files`, { token: team.owner.token });
  assert.equal(res.status, 200);
  return res.body;
}

/** Clicks a file's download button and returns the name the browser saves it under and its bytes. */
async function download(page: Page, filename: string): Promise<{ name: string; bytes: Buffer }> {
  const [saved] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${filename}` }).click()]);
  return { name: saved.suggestedFilename(), bytes: await readFile((await saved.path())!) };
}

describe('files in the web client', { skip: skipWithoutChromium() }, () => {
  before(async () => {
    app = await startWebApp({ FILE_MAX_BYTES: String(MAX_BYTES) });
    team = await setUpTeam(app.server, ['TEXT']);
  });
  after(async () => {
    await app?.close();
  });

  it('uploads Markdown and a PDF, shows what the server refused beside them, lists and downloads them', async () => {
    const path = `/channels/${team.channels.TEXT}/files`;
    const m = await app.open(team.member, path);
    await m.page.getByText('No files yet.').waitFor();
    await m.screenshot('files-empty');

    await uploadField(m.page).setInputFiles([
      { name: 'notes.md', mimeType: 'text/markdown', buffer: markdown },
      { name: 'photo.png', mimeType: 'image/png', buffer: png },
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
      { name: 'huge.txt', mimeType: 'text/plain', buffer: Buffer.alloc(MAX_BYTES + 1, 'a') },
    ]);
    await m.page.getByRole('status').filter({ hasText: 'Uploaded: notes.md, report.pdf' }).waitFor();
    const refused = m.page.getByTestId('refused-file');
    await refused.first().waitFor();
    assert.deepEqual(await refused.allTextContents(), [
      'photo.png: only PDF files, and plain text or Markdown in UTF-8 without NUL bytes, are accepted; this file looks like image/png',
      'empty.txt: the file is empty',
      `huge.txt: the file is larger than the limit of ${MAX_BYTES} bytes`,
    ]);

    // Listed newest first, with kind, size, pages and who uploaded them, as the server stored them.
    await m.page.getByTestId('file').nth(1).waitFor();
    assert.deepEqual(await listedNames(m.page), ['report.pdf', 'notes.md']);
    const stored = await storedFiles();
    assert.deepEqual(stored.map((f) => f.filename), ['report.pdf', 'notes.md']);
    assert.deepEqual(stored.map((f) => [f.size_bytes, f.page_count, f.uploader_id]), [[pdf.length, 2, team.member.id], [markdown.length, null, team.member.id]]);
    const pdfRow = m.page.getByTestId('file').filter({ hasText: 'report.pdf' });
    await pdfRow.getByText(`PDF · ${pdf.length} B · 2 pages · ${team.member.username}`).waitFor();
    await m.page.getByTestId('file').filter({ hasText: 'notes.md' }).getByText(`Markdown · ${markdown.length} B · ${team.member.username}`).waitFor();
    await m.screenshot('files-uploaded');

    // Downloads are the same bytes, under the files' own names.
    assert.deepEqual(await download(m.page, 'notes.md'), { name: 'notes.md', bytes: markdown });
    assert.deepEqual(await download(m.page, 'report.pdf'), { name: 'report.pdf', bytes: pdf });

    // Dropping a file on the area uploads it too.
    const dropped = await m.page.evaluateHandle(() => {
      const browser = globalThis as unknown as { DataTransfer: new () => { items: { add(file: unknown): void } }; File: new (parts: string[], name: string) => unknown };
      const transfer = new browser.DataTransfer();
      transfer.items.add(new browser.File(['dropped text'], 'dropped.txt'));
      return transfer;
    });
    await m.page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: dropped });
    await m.page.getByRole('status').filter({ hasText: 'Uploaded: dropped.txt' }).waitFor();
    await m.page.getByTestId('file').nth(2).waitFor();
    assert.deepEqual(await listedNames(m.page), ['dropped.txt', 'report.pdf', 'notes.md']);
    assert.equal((await storedFiles())[0]!.filename, 'dropped.txt');

    // Offline, the list stays and the page says that files need the network.
    await m.context.setOffline(true);
    await m.page.getByText('You are offline: uploading and downloading files need the network').waitFor();
    assert.equal(await m.page.getByRole('button', { name: 'Download notes.md' }).isDisabled(), true);
    assert.equal(await uploadField(m.page).isDisabled(), true);
    await m.screenshot('files-offline');
    await m.context.setOffline(false);
    await m.page.getByRole('button', { name: 'Download notes.md' }).and(m.page.locator(':enabled')).waitFor();
    assert.deepEqual(m.errors.filter((e) => !/Failed to load resource/.test(e)), []);
  });

  it('highlights a cited file, and shows a viewer the list without an upload field', async () => {
    // Its own file, uploaded by the member over REST, so this test does not depend on the one above.
    const form = new FormData();
    form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'cited.pdf');
    const upload = await app.server.call('POST', `/api/files/upload/${team.channels.TEXT}`, { token: team.member.token, multipart: form });
    assert.equal(upload.status, 201);
    const cited = upload.body as StoredFile;
    const v = await app.open(team.viewer, `/channels/${team.channels.TEXT}/files?focus=${cited.id}`, { viewport: { width: 390, height: 844 } });
    const row = v.page.locator(`#item-${cited.id}`);
    await row.and(v.page.locator('.focused')).waitFor();
    assert.equal(await v.page.locator('.file-list .focused').count(), 1);
    assert.match((await row.textContent()) ?? '', /cited\.pdf/);
    // The viewer reads and downloads (positive control), but has nothing to upload with.
    assert.deepEqual(await download(v.page, 'cited.pdf'), { name: 'cited.pdf', bytes: pdf });
    assert.equal(await uploadField(v.page).count(), 0);
    await v.screenshot('files-cited-viewer-phone');
    assert.deepEqual(v.errors, []);
  });
});
