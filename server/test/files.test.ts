import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { keyringFromBase64 } from '../../collab/index.ts';
import { pdfPages } from '../files/pdf-text.ts';
import { readFileText, rotateFileKeys } from '../index.ts';
import { errorCode, setUpTeam, startTestServer, type Team, type TestServer } from './harness.ts';
import { makePdf } from './make-pdf.ts';

// The standard security handler with an owner and user hash that no empty password matches: pdf.js asks for one.
const hex = (byte: number, n: number) => Buffer.alloc(n, byte).toString('hex');
const encryptedPdf = makePdf(
  ['Top secret'],
  `/Encrypt << /Filter /Standard /V 1 /R 2 /O <${hex(1, 32)}> /U <${hex(2, 32)}> /P -4 >> ` +
    `/ID [<${hex(3, 16)}> <${hex(3, 16)}>] `,
);
const brokenPdf = Buffer.from(`%PDF-1.4\n${'not a pdf body '.repeat(40)}`);
// A Windows executable's header: "MZ", then what file-type recognises.
const exe = Buffer.concat([Buffer.from('MZ'), randomBytes(510)]);

const MAX_BYTES = 64 * 1024;
const oldKey = randomBytes(32).toString('base64');

let server: TestServer;
let team: Team;

before(async () => {
  server = await startTestServer({ FILE_MAX_BYTES: String(MAX_BYTES), FILE_MAX_PAGES: '3', ENCRYPTION_KEY: oldKey });
  team = await setUpTeam(server, ['TEXT', 'DOC', 'VOICE']);
});
after(() => server?.close());

function form(filename: string, bytes: Buffer, claimedType = 'application/octet-stream'): FormData {
  const body = new FormData();
  body.append('file', new Blob([bytes], { type: claimedType }), filename);
  return body;
}

const upload = (token: string, channelId: string, multipart: FormData) =>
  server.call('POST', `/api/files/upload/${channelId}`, { token, multipart });

/** The raw answer of a download: the harness would decode the bytes as text. */
async function download(token: string, fileId: string) {
  const res = await fetch(`${server.url}/api/files/${fileId}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function stored(): Promise<{ files: number; jobs: number }> {
  const { rows } = await server.database.pool.query<{ files: number; jobs: number }>(
    `SELECT (SELECT count(*)::int FROM files) AS files,
            (SELECT count(*)::int FROM jobs WHERE kind = 'index_file') AS jobs`,
  );
  return rows[0]!;
}

describe('file uploads', () => {
  const pdf = makePdf(['Quarterly report: revenue grew', 'Second page about hiring']);
  const txt = Buffer.from('Meeting notes\nThe launch moves to May.\n');
  const md = Buffer.from('# Résumé\n\n- **bold** plan for the *offsite*\n');
  const uploaded: Record<string, any> = {};

  it('accepts a PDF, a text and a Markdown file, typed by their content', async () => {
    const channel = team.channels.TEXT!;
    const cases = [
      ['pdf', 'report.pdf', pdf, 'application/pdf', 2],
      // What the client claims is ignored: this is text whatever it says.
      ['txt', 'notes.txt', txt, 'application/pdf', null],
      ['md', 'Résumé plan.md', md, 'text/plain', null],
    ] as const;
    for (const [key, filename, bytes, claimed, pages] of cases) {
      const res = await upload(team.member.token, channel, form(filename, bytes, claimed));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const expectedType = { pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown' }[key];
      assert.equal(res.body.content_type, expectedType);
      assert.equal(res.body.filename, filename);
      assert.equal(res.body.size_bytes, bytes.length);
      assert.equal(res.body.page_count, pages);
      assert.equal(res.body.uploader_id, team.member.id);
      assert.equal(res.body.channel_id, channel);
      uploaded[key] = { ...res.body, bytes };
    }
  });

  it('lists them for every member, viewers included, newest first', async () => {
    const res = await server.call('GET', `/api/channels/${team.channels.TEXT}/files`, { token: team.viewer.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.map((f: any) => f.id), [uploaded.md.id, uploaded.txt.id, uploaded.pdf.id]);
    const { bytes: _bytes, ...pdfInfo } = uploaded.pdf;
    assert.deepEqual(res.body[2], pdfInfo);
  });

  it('downloads the original bytes as an attachment', async () => {
    for (const key of ['pdf', 'txt', 'md']) {
      const file = uploaded[key];
      const res = await download(team.viewer.token, file.id);
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(file.bytes), `${key} comes back byte for byte`);
      assert.equal(res.headers.get('content-type')?.split(';')[0], file.content_type);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('content-disposition')!, /^attachment; filename="[^"]*"; filename\*=UTF-8''/);
    }
    const disposition = (await download(team.member.token, uploaded.md.id)).headers.get('content-disposition')!;
    assert.ok(disposition.endsWith("filename*=UTF-8''R%C3%A9sum%C3%A9%20plan.md"), disposition);
  });

  it('stores them encrypted, bound to their id, and queues each for indexing', async () => {
    const { rows } = await server.database.pool.query(
      'SELECT id, key_id, payload, text_key_id, text_payload, sha256 FROM files WHERE channel_id = $1',
      [team.channels.TEXT],
    );
    const keyring = keyringFromBase64(oldKey);
    for (const row of rows) {
      assert.equal(row.key_id, keyring.currentKeyId);
      for (const plain of ['Quarterly report', 'launch moves to May', 'offsite']) {
        assert.ok(!row.payload.includes(plain), 'the payload is not the plaintext');
        assert.ok(!row.text_payload?.includes(plain), 'nor is the extracted text');
      }
    }
    const text = await readFileText(server.database.pool, keyring, uploaded.pdf.id);
    assert.deepEqual(text?.pages, ['Quarterly report: revenue grew', 'Second page about hiring']);
    assert.equal(text?.channelId, team.channels.TEXT);
    assert.equal((await readFileText(server.database.pool, keyring, uploaded.md.id))?.text, md.toString());
    // A row copied under another id does not decrypt there.
    const { rows: [copy] } = await server.database.pool.query(
      `INSERT INTO files (channel_id, uploader_id, filename, content_type, size_bytes, sha256, key_id, payload)
       SELECT channel_id, uploader_id, filename, content_type, size_bytes, sha256, key_id, payload FROM files
        WHERE id = $1 RETURNING id`,
      [uploaded.txt.id],
    );
    await assert.rejects(readFileText(server.database.pool, keyring, copy.id));
    await server.database.pool.query('DELETE FROM files WHERE id = $1', [copy.id]);

    const jobs = await server.database.pool.query(`SELECT payload FROM jobs WHERE kind = 'index_file'`);
    assert.deepEqual(
      jobs.rows.map((j) => j.payload.fileId).sort(),
      [uploaded.pdf.id, uploaded.txt.id, uploaded.md.id].sort(),
    );
  });

  it('lets DM participants share files', async () => {
    const dm = await server.call('POST', '/api/dms', { token: team.owner.token, json: { user_id: team.member.id } });
    const res = await upload(team.member.token, dm.body.id, form('dm.txt', Buffer.from('between us')));
    assert.equal(res.status, 201);
    const list = await server.call('GET', `/api/channels/${dm.body.id}/files`, { token: team.owner.token });
    assert.deepEqual(list.body.map((f: any) => f.id), [res.body.id]);
    assert.equal((await download(team.viewer.token, res.body.id)).status, 404, 'a group viewer is not in the DM');
  });
});

describe('refused uploads', () => {
  const channel = () => team.channels.DOC!;

  async function refused(
    expect: { status: number; code: string; message?: RegExp },
    send: () => Promise<{ status: number; body: any }>,
  ) {
    const before = await stored();
    const res = await send();
    assert.equal(res.status, expect.status, JSON.stringify(res.body));
    assert.equal(errorCode(res as any), expect.code);
    if (expect.message) assert.match(res.body.error.message, expect.message);
    assert.deepEqual(await stored(), before, 'nothing is stored or queued');
  }

  it('refuses content that is not PDF or UTF-8 text, whatever its name', async () => {
    const binary = Buffer.concat([Buffer.from('looks like text'), Buffer.from([0, 1, 2, 0xff, 0xfe])]);
    await refused({ status: 415, code: 'unsupported_media_type', message: /UTF-8/ }, () =>
      upload(team.member.token, channel(), form('notes.txt', binary, 'text/plain')));
    await refused({ status: 415, code: 'unsupported_media_type', message: /x-msdownload/ }, () =>
      upload(team.member.token, channel(), form('invoice.pdf', exe, 'application/pdf')));
    await refused({ status: 415, code: 'unsupported_media_type', message: /named as a PDF/ }, () =>
      upload(team.member.token, channel(), form('invoice.pdf', Buffer.from('just text'), 'application/pdf')));
    await refused({ status: 422, code: 'validation_failed', message: /empty/ }, () =>
      upload(team.member.token, channel(), form('empty.txt', Buffer.alloc(0))));
  });

  it('refuses files over FILE_MAX_BYTES, while streaming or from the declared length', async () => {
    for (const size of [MAX_BYTES + 1, 4 * MAX_BYTES]) {
      await refused({ status: 413, code: 'payload_too_large' }, () =>
        upload(team.member.token, channel(), form('big.txt', Buffer.alloc(size, 'a'))));
    }
    const res = await upload(team.member.token, channel(), form('fits.txt', Buffer.alloc(MAX_BYTES, 'a')));
    assert.equal(res.status, 201, 'exactly the limit is accepted');
  });

  it('refuses PDFs with too many pages, a password or a broken structure', async () => {
    await refused({ status: 413, code: 'payload_too_large', message: /4 pages; at most 3/ }, () =>
      upload(team.member.token, channel(), form('long.pdf', makePdf(['a', 'b', 'c', 'd']))));
    await refused({ status: 422, code: 'pdf_encrypted' }, () =>
      upload(team.member.token, channel(), form('locked.pdf', encryptedPdf)));
    await refused({ status: 422, code: 'pdf_unreadable' }, () =>
      upload(team.member.token, channel(), form('broken.pdf', brokenPdf)));
  });

  it('gives up on a PDF that takes too long, ending its reader', async () => {
    await assert.rejects(pdfPages(makePdf(['slow']), 10, 1), { status: 422, code: 'pdf_unreadable' });
  });

  it('needs exactly one file, in the field "file", as multipart/form-data', async () => {
    const two = form('a.txt', Buffer.from('a'));
    two.append('file', new Blob(['b']), 'b.txt');
    await refused({ status: 422, code: 'validation_failed', message: /more than one file/ }, () =>
      upload(team.member.token, channel(), two));
    const none = new FormData();
    none.append('title', 'no file here');
    await refused({ status: 422, code: 'validation_failed' }, () => upload(team.member.token, channel(), none));
    await refused({ status: 422, code: 'validation_failed', message: /no file/ }, () =>
      upload(team.member.token, channel(), new FormData()));
    const misnamed = new FormData();
    misnamed.append('document', new Blob(['x']), 'x.txt');
    await refused({ status: 422, code: 'validation_failed', message: /"document"/ }, () =>
      upload(team.member.token, channel(), misnamed));
    await refused({ status: 415, code: 'unsupported_media_type' }, () =>
      server.call('POST', `/api/files/upload/${channel()}`, { token: team.member.token, json: { file: 'x' } }));
    const truncated = '--b\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhalf a fi';
    await refused({ status: 400, code: 'bad_request' }, () =>
      server.call('POST', `/api/files/upload/${channel()}`, {
        token: team.member.token, raw: truncated, contentType: 'multipart/form-data; boundary=b',
      }));
  });

  it('keeps files to their channel: viewers read only, outsiders see nothing', async () => {
    const file = (await upload(team.member.token, channel(), form('plan.md', Buffer.from('# plan')))).body;
    await refused({ status: 403, code: 'forbidden' }, () =>
      upload(team.viewer.token, channel(), form('v.txt', Buffer.from('v'))));
    await refused({ status: 404, code: 'not_found' }, () =>
      upload(team.outsider.token, channel(), form('o.txt', Buffer.from('o'))));
    await refused({ status: 404, code: 'not_found' }, () =>
      upload(team.member.token, team.channels.VOICE!, form('call.txt', Buffer.from('c'))));
    await refused({ status: 401, code: 'unauthorized' }, () =>
      server.call('POST', `/api/files/upload/${channel()}`, { multipart: form('anon.txt', Buffer.from('a')) }));

    const list = await server.call('GET', `/api/channels/${channel()}/files`, { token: team.outsider.token });
    assert.equal(list.status, 404);
    const outsider = await download(team.outsider.token, file.id);
    const unknown = await download(team.outsider.token, '00000000-0000-4000-8000-000000000000');
    assert.equal(outsider.status, 404);
    assert.deepEqual(outsider.bytes, unknown.bytes, 'the same answer as for a file that does not exist');
    assert.equal((await server.call('GET', `/api/files/${file.id}`)).status, 401);
  });
});

describe('the API document', () => {
  it('describes the upload as multipart and the download as bytes', async () => {
    const { body } = await server.call('GET', '/api/openapi.json');
    const upload = body.paths['/api/files/upload/{channel_id}'].post;
    assert.equal(upload.requestBody.content['multipart/form-data'].schema.$ref, '#/components/schemas/UploadForm');
    assert.ok(upload.responses['413'] && upload.responses['415']);
    const download = body.paths['/api/files/{id}'].get.responses['200'].content;
    assert.deepEqual(Object.keys(download).sort(), ['application/pdf', 'text/markdown', 'text/plain']);
    assert.equal(download['application/pdf'].schema.format, 'binary');
  });
});

describe('key rotation', () => {
  it('re-encrypts files under the new key, after which the old one can go', async () => {
    const file = (await upload(team.member.token, team.channels.TEXT!, form('keep.pdf', makePdf(['kept'])))).body;
    const newKey = randomBytes(32).toString('base64');
    server = await server.restart({ ENCRYPTION_KEY: newKey, ENCRYPTION_OLD_KEYS: oldKey });
    const keyring = keyringFromBase64(newKey, [oldKey]);
    assert.ok((await rotateFileKeys(server.database.pool, keyring)).files >= 1);
    const { rows } = await server.database.pool.query(
      'SELECT count(*)::int AS n FROM files WHERE key_id <> $1 OR text_key_id <> $1',
      [keyring.currentKeyId],
    );
    assert.equal(rows[0].n, 0);

    server = await server.restart({ ENCRYPTION_KEY: newKey, ENCRYPTION_OLD_KEYS: '' });
    const res = await download(team.member.token, file.id);
    assert.ok(res.bytes.equals(makePdf(['kept'])));
    const text = await readFileText(server.database.pool, keyringFromBase64(newKey), file.id);
    assert.deepEqual(text?.pages, ['kept']);
  });
});
