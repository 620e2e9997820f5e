// The web client at `/`: what is cached how long, the app for any path a browser opens, and the server's own
// paths never answered with the app.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './harness.ts';

const html = { accept: 'text/html,application/xhtml+xml' };
let dir: string;
let server: TestServer;

const codeOf = async (res: globalThis.Response) => ((await res.json()) as { error: { code: string } }).error.code;
const get = (urlPath: string, headers: Record<string, string> = html) => fetch(server.url + urlPath, { headers });

describe('web client serving', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-web-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'sw.js'), 'self.x = 1');
    server = await startTestServer({ WEB_CLIENT_DIR: dir });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the app at / and at any app path, never cached, under a policy without an http upgrade', async () => {
    for (const p of ['/', '/channels/0b9d7a36-5a43-4bb1-8a51-5b8d8e1c2f10', '/groups/x/y', '/login']) {
      const res = await get(p);
      assert.equal(res.status, 200, p);
      assert.match(await res.text(), /<title>app<\/title>/, p);
      assert.equal(res.headers.get('cache-control'), 'no-cache', p);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    }
  });

  it('caches hashed assets for a year and revalidates the service worker', async () => {
    const asset = await get('/assets/index-abc123.js', {});
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const sw = await get('/sw.js', {});
    assert.equal(sw.status, 200);
    assert.equal(sw.headers.get('cache-control'), 'no-cache');
  });

  it("never answers the server's own paths with the app", async () => {
    for (const p of ['/api/nothing-here', '/api', '/collab', '/rtc', '/health/nothing']) {
      const res = await get(p);
      assert.equal(res.status, 404, p);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/, p);
      assert.equal(await codeOf(res), 'not_found', p);
    }
    // The admin console answers its own paths (its login, for a browser without a console session).
    for (const p of ['/admin', '/admin/users', '/admin/nothing-here']) {
      const res = await get(p);
      assert.equal(res.url, `${server.url}/admin/login`, p);
      assert.match(await res.text(), /Teamspace admin/, p);
    }
    const health = await get('/health');
    assert.equal(health.status, 200);
    assert.match(health.headers.get('content-type') ?? '', /application\/json/);
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /http_requests_total/);
  });

  it('answers a missing file that is not a page with a JSON 404', async () => {
    const res = await get('/assets/missing.js', { accept: 'application/javascript' });
    assert.equal(res.status, 404);
    assert.equal(await codeOf(res), 'not_found');
  });

  it('without a built client, / is a JSON 404 and the API still answers', async () => {
    const bare = await startTestServer({ WEB_CLIENT_DIR: path.join(dir, 'not-built') });
    try {
      const res = await fetch(bare.url + '/', { headers: html });
      assert.equal(res.status, 404);
      assert.equal(await codeOf(res), 'not_found');
      assert.equal((await fetch(bare.url + '/health')).status, 200);
    } finally {
      await bare.close();
    }
  });
});
