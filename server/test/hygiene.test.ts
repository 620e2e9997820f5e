// Log hygiene: credentials in query strings never reach the request log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './harness.ts';
import { captureLogs } from './log-capture.ts';

const logs = captureLogs('info');
let server: TestServer;
before(async () => {
  server = await startTestServer({}, undefined, logs.log);
});
after(() => server.close());

describe('request log', () => {
  it('redacts token, access_token and refresh_token query parameters, and keeps the rest of the URL', async () => {
    const u = await server.signUp('logs');
    const paths = [
      '/api/groups?token=secret-one&keep=visible',
      '/api/groups?access_token=secret-two',
      '/api/groups?x=1&Refresh_Token=secret-three&acc%65ss_token=secret-four',
      '/rtc?token=secret-five&channel_id=c1',
    ];
    for (const path of paths) await server.call('GET', path, { token: u.token });
    await new Promise((resolve) => setImmediate(resolve));
    const urls = logs.lines().filter((l) => l.req).map((l) => l.req.url);
    assert.ok(urls.includes('/api/groups?token=[redacted]&keep=visible'), JSON.stringify(urls));
    assert.ok(urls.includes('/api/groups?access_token=[redacted]'));
    assert.ok(urls.includes('/api/groups?x=1&Refresh_Token=[redacted]&acc%65ss_token=[redacted]'));
    assert.ok(urls.includes('/rtc?token=[redacted]&channel_id=c1'));
    assert.doesNotMatch(logs.text(), /secret-/);
  });
});
