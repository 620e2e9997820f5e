import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { errorHandler } from '../../core/errors.ts';
import { createLogger, loadConfig } from '../../core/index.ts';
import { startServer } from '../index.ts';
import { errorCode, startTestServer, testDb, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({
    BODY_LIMIT: '16kb',
    CORS_ORIGINS: 'https://app.example.test',
    METRICS_TOKEN: 'metrics-token-for-tests-0123456789',
  });
});
after(() => server.close());

describe('bad requests', () => {
  it('malformed JSON is a 400 and changes nothing', async () => {
    const u = await server.signUp('json');
    const res = await server.call('POST', '/api/groups', {
      token: u.token, raw: '{"name": "half', contentType: 'application/json',
    });
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'invalid_json');
    assert.deepEqual((await server.call('GET', '/api/groups', { token: u.token })).body, []);
  });

  it('an oversize body is a 413', async () => {
    const u = await server.signUp('big');
    const res = await server.call('POST', '/api/groups', {
      token: u.token, json: { name: 'x', description: 'y'.repeat(64 * 1024) },
    });
    assert.equal(res.status, 413);
    assert.equal(errorCode(res), 'payload_too_large');
  });

  it('a JSON endpoint refuses other content types with 415', async () => {
    const u = await server.signUp('ctype');
    const res = await server.call('POST', '/api/groups', { token: u.token, form: { name: 'x' } });
    assert.equal(res.status, 415);
    assert.equal(errorCode(res), 'unsupported_media_type');
  });

  it('a JSON array or scalar where an object belongs is a 422', async () => {
    const u = await server.signUp('shape');
    for (const raw of ['[]', '[{"name":"x"}]']) {
      const res = await server.call('POST', '/api/groups', { token: u.token, raw, contentType: 'application/json' });
      assert.equal(res.status, 422, raw);
    }
    const scalar = await server.call('POST', '/api/groups', { token: u.token, raw: '"x"', contentType: 'application/json' });
    assert.equal(scalar.status, 400, 'strict JSON parsing refuses a bare scalar');
  });

  it('a malformed percent-encoding in the path is a 400, not a 500', async () => {
    const u = await server.signUp('pct');
    const res = await server.call('GET', '/api/groups/%ZZ', { token: u.token });
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'bad_request');
  });

  it('a corrupt compressed body is a 400', async () => {
    const u = await server.signUp('gzip');
    const res = await server.call('POST', '/api/groups', {
      token: u.token, raw: Buffer.from('definitely not gzip'), contentType: 'application/json',
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(res.status, 400);
    errorCode(res);
  });

  it('NUL characters are refused with 422 wherever text is accepted', async () => {
    const u = await server.signUp('nul');
    const login = await server.call('POST', '/api/auth/token', { form: { username: 'a\u0000b', password: 'x' } });
    assert.equal(login.status, 422);
    const group = await server.call('POST', '/api/groups', { token: u.token, json: { name: 'bad\u0000name' } });
    assert.equal(group.status, 422);
    const register = await server.call('POST', '/api/auth/register', {
      json: { username: 'nulname', email: 'nul@example.test', password: 'a long enough passphrase', display_name: 'x\u0000' },
    });
    assert.equal(register.status, 422);
    assert.deepEqual((await server.call('GET', '/api/groups', { token: u.token })).body, []);
  });

  it('a form with repeated keys is a 422, not a 500', async () => {
    const res = await server.call('POST', '/api/auth/token', {
      raw: 'username=a&username=b&password=x', contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(res.status, 422);
  });

  it('unknown routes answer 404 in the error shape', async () => {
    const res = await server.call('GET', '/api/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(errorCode(res), 'not_found');
  });

  it('an unexpected failure is a 500 with no stack trace or internal message', async () => {
    const app = express();
    const log = createLogger('silent');
    app.use((req, _res, next) => {
      (req as unknown as { log: typeof log }).log = log;
      next();
    });
    app.get('/boom', () => {
      throw new Error('relation "secret_table" does not exist');
    });
    app.use(errorHandler);
    const http = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    try {
      const { port } = http.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/boom`);
      const body = await res.json();
      assert.equal(res.status, 500);
      assert.deepEqual(body, { error: { code: 'internal', message: 'internal server error' } });
    } finally {
      http.close();
    }
  });
});

describe('operations', () => {
  it('health and readiness', async () => {
    assert.deepEqual((await server.call('GET', '/health')).body, { status: 'ok' });
    const ready = await server.call('GET', '/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.checks.database, 'ok');
  });

  it('metrics count requests by route pattern, behind the metrics token', async () => {
    const u = await server.signUp('metrics');
    await server.call('GET', '/api/groups', { token: u.token });
    await server.call('GET', '/api/groups/4a0c2d9e-0d55-4a65-9f7a-6b9a1c2d3e4f', { token: u.token });
    const denied = await server.call('GET', '/metrics');
    assert.equal(denied.status, 401);
    const res = await server.call('GET', '/metrics', { headers: { authorization: 'Bearer metrics-token-for-tests-0123456789' } });
    assert.equal(res.status, 200);
    assert.match(res.body, /http_requests_total\{method="GET",route="\/api\/groups",status="200"\} \d+/);
    assert.match(res.body, /http_requests_total\{method="GET",route="\/api\/groups\/:id",status="404"\} 1/);
    assert.match(res.body, /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/groups"/);
    assert.doesNotMatch(res.body, /4a0c2d9e/, 'ids never become labels');
  });

  it('echoes a request id, or makes one', async () => {
    const given = await server.call('GET', '/health', { headers: { 'x-request-id': 'trace-abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-abc-123');
    const made = await server.call('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('sends security headers', async () => {
    const res = await server.call('GET', '/health');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('content-security-policy'));
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('allows CORS only from configured origins', async () => {
    const allowed = await server.call('OPTIONS', '/api/groups', {
      headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.test');
    const other = await server.call('OPTIONS', '/api/groups', {
      headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('serves an OpenAPI document generated from the request schemas', async () => {
    const res = await server.call('GET', '/api/openapi.json');
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, '3.1.0');
    const paths = Object.keys(res.body.paths);
    for (const p of ['/api/auth/register', '/api/auth/token', '/api/groups/{id}/members', '/api/dms']) {
      assert.ok(paths.includes(p), p);
    }
    const token = res.body.paths['/api/auth/token'].post;
    assert.ok(token.requestBody.content['application/x-www-form-urlencoded']);
    assert.deepEqual(res.body.components.schemas.RegisterRequest.required.sort(), ['email', 'password', 'username']);
  });
});

describe('embedded database', { skip: testDb !== 'pglite' && 'PGlite only' }, () => {
  it('refuses a second process on the same data directory', async () => {
    await assert.rejects(
      startServer(loadConfig({ DATA_DIR: server.dataDir, PORT: '0', HOST: '127.0.0.1' }), createLogger('silent')),
      /in use by another process/,
    );
    assert.equal((await server.call('GET', '/health/ready')).status, 200, 'the first one is unharmed');
  });
});

describe('readiness without a database', () => {
  it('reports 503 when the database is gone', async () => {
    const lonely = await startTestServer();
    try {
      await lonely.database.close();
      const res = await lonely.call('GET', '/health/ready');
      assert.equal(res.status, 503);
      assert.equal(errorCode(res), 'unavailable');
      assert.deepEqual((await lonely.call('GET', '/health')).body, { status: 'ok' });
    } finally {
      await lonely.close();
    }
  });
});
