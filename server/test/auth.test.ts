import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { errorCode, eventually, startTestServer, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('register', () => {
  it('creates a user and never returns the password hash', async () => {
    const res = await server.call('POST', '/api/auth/register', {
      json: { username: 'Grace', email: 'Grace@Example.test', password: 'a long enough passphrase', display_name: 'Grace H' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.username, 'Grace');
    assert.equal(res.body.display_name, 'Grace H');
    assert.equal(res.body.is_active, true);
    assert.match(res.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(JSON.stringify(res.body).includes('argon2'), false);
    assert.equal('password_hash' in res.body, false);
  });

  it('refuses a username or email already taken, whatever the case', async () => {
    const base = { password: 'a long enough passphrase' };
    const byName = await server.call('POST', '/api/auth/register', {
      json: { ...base, username: 'GRACE', email: 'other@example.test' },
    });
    assert.equal(byName.status, 409);
    assert.equal(errorCode(byName), 'conflict');
    const byEmail = await server.call('POST', '/api/auth/register', {
      json: { ...base, username: 'grace2', email: 'grace@EXAMPLE.test' },
    });
    assert.equal(byEmail.status, 409);
  });

  for (const [why, body] of [
    ['short password', { username: 'shorty', email: 's@example.test', password: 'short' }],
    ['bad email', { username: 'bademail', email: 'not-an-email', password: 'a long enough passphrase' }],
    ['bad username', { username: 'a b', email: 'ab@example.test', password: 'a long enough passphrase' }],
    ['wrong types', { username: 5, email: true, password: [] }],
    ['unknown field', { username: 'extra', email: 'e@example.test', password: 'a long enough passphrase', is_admin: true }],
    ['missing fields', {}],
  ] as const) {
    it(`refuses ${why} with 422 and creates nothing`, async () => {
      const res = await server.call('POST', '/api/auth/register', { json: body });
      assert.equal(res.status, 422);
      assert.equal(errorCode(res), 'validation_failed');
      assert.ok(Array.isArray(res.body.error.details));
      const { rows } = await server.database.pool.query('SELECT count(*)::int AS n FROM users WHERE username = $1', [
        String((body as { username?: unknown }).username),
      ]);
      assert.equal(rows[0].n, 0);
    });
  }
});

describe('token', () => {
  it('logs in with the form-encoded password flow, by username or email', async () => {
    const u = await server.signUp('login');
    const byName = await server.call('POST', '/api/auth/token', {
      form: { grant_type: 'password', username: u.username.toUpperCase(), password: u.password },
    });
    assert.equal(byName.status, 200);
    assert.equal(byName.body.token_type, 'bearer');
    assert.equal(typeof byName.body.access_token, 'string');
    assert.equal(typeof byName.body.refresh_token, 'string');
    assert.equal(byName.body.expires_in, 900);
    const byEmail = await server.call('POST', '/api/auth/token', { form: { username: u.email, password: u.password } });
    assert.equal(byEmail.status, 200);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const u = await server.signUp('wrongpw');
    const wrong = await server.call('POST', '/api/auth/token', { form: { username: u.username, password: 'nope nope nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(errorCode(wrong), 'invalid_credentials');
    const unknown = await server.call('POST', '/api/auth/token', { form: { username: 'nobody-here', password: 'whatever' } });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.message, wrong.body.error.message);
  });

  it('refuses an unsupported grant type and a body that is neither form nor JSON', async () => {
    const grant = await server.call('POST', '/api/auth/token', {
      form: { grant_type: 'client_credentials', username: 'x', password: 'y' },
    });
    assert.equal(grant.status, 422);
    const text = await server.call('POST', '/api/auth/token', { raw: 'username=x', contentType: 'text/plain' });
    assert.equal(text.status, 415);
    assert.equal(errorCode(text), 'unsupported_media_type');
  });
});

describe('me and access tokens', () => {
  it('returns the calling user', async () => {
    const u = await server.signUp('me');
    const res = await server.call('GET', '/api/auth/me', { token: u.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, u.id);
    assert.equal(res.body.username, u.username);
  });

  it('refuses missing, malformed, tampered, foreign, expired and non-access tokens', async () => {
    const u = await server.signUp('tokens');
    const [head, payload, sig] = u.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url')}.${sig}`;
    const foreign = jwt.sign({ typ: 'access' }, 'another secret entirely', {
      subject: u.id, issuer: 'teamspace', audience: 'teamspace-api', expiresIn: 60,
    });
    const expired = jwt.sign({ typ: 'access', exp: Math.floor(Date.now() / 1000) - 10 }, server.jwtSecret, {
      subject: u.id, issuer: 'teamspace', audience: 'teamspace-api',
    });
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const refreshType = jwt.sign({ typ: 'refresh' }, server.jwtSecret, {
      subject: u.id, issuer: 'teamspace', audience: 'teamspace-api', expiresIn: 60,
    });
    const cases: [string, Record<string, string>, string][] = [
      ['none', {}, 'unauthorized'],
      ['basic auth', { authorization: 'Basic dXNlcjpwYXNz' }, 'unauthorized'],
      ['garbage', { authorization: 'Bearer not.a.jwt' }, 'invalid_token'],
      ['tampered', { authorization: `Bearer ${tampered}` }, 'invalid_token'],
      ['foreign', { authorization: `Bearer ${foreign}` }, 'invalid_token'],
      ['alg none', { authorization: `Bearer ${unsigned}` }, 'invalid_token'],
      ['wrong type', { authorization: `Bearer ${refreshType}` }, 'invalid_token'],
      ['refresh token', { authorization: `Bearer ${u.refreshToken}` }, 'invalid_token'],
      ['expired', { authorization: `Bearer ${expired}` }, 'token_expired'],
    ];
    for (const [name, headers, code] of cases) {
      const res = await server.call('GET', '/api/auth/me', { headers });
      assert.equal(res.status, 401, name);
      assert.equal(errorCode(res), code, name);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer', name);
    }
  });

  it('a token accepted once is refused once it expires', async () => {
    const u = await server.signUp('shortlived');
    const exp = Math.floor(Date.now() / 1000) + 1;
    const token = jwt.sign({ typ: 'access', exp }, server.jwtSecret, {
      subject: u.id, issuer: 'teamspace', audience: 'teamspace-api',
    });
    assert.equal((await server.call('GET', '/api/auth/me', { token })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const later = await server.call('GET', '/api/auth/me', { token });
    assert.equal(later.status, 401);
    assert.equal(errorCode(later), 'token_expired');
  });

  it('refuses a deactivated user everywhere, even with a valid token', async () => {
    const u = await server.signUp('inactive');
    assert.equal((await server.call('GET', '/api/auth/me', { token: u.token })).status, 200, 'now cached as active');
    // Deactivated by hand, as an operator would: the database announces the change to every instance.
    await server.database.pool.query('UPDATE users SET is_active = false WHERE id = $1', [u.id]);
    const me = await eventually(async () => {
      const res = await server.call('GET', '/api/auth/me', { token: u.token });
      assert.equal(res.status, 401);
      return res;
    });
    assert.equal(errorCode(me), 'account_inactive');
    const login = await server.call('POST', '/api/auth/token', { form: { username: u.username, password: u.password } });
    assert.equal(login.status, 401);
    assert.equal(errorCode(login), 'account_inactive');
    const refresh = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(refresh.status, 401);
    assert.equal(errorCode(refresh), 'account_inactive');
  });
});

describe('refresh', () => {
  it('rotates: the new pair works and the old refresh token is spent', async () => {
    const u = await server.signUp('rotate');
    const first = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh_token, u.refreshToken);
    const me = await server.call('GET', '/api/auth/me', { token: first.body.access_token });
    assert.equal(me.status, 200);
    const second = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: first.body.refresh_token } });
    assert.equal(second.status, 200);
  });

  it('revokes the whole family when a spent token is reused', async () => {
    const u = await server.signUp('reuse');
    const other = await server.call('POST', '/api/auth/token', { form: { username: u.username, password: u.password } });
    const rotated = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(rotated.status, 200);
    const replay = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(replay.status, 401);
    assert.equal(errorCode(replay), 'invalid_grant');
    const successor = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: rotated.body.refresh_token } });
    assert.equal(successor.status, 401, 'the legitimate successor is revoked too');
    const otherLogin = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: other.body.refresh_token } });
    assert.equal(otherLogin.status, 200, 'another login of the same user is a different family and survives');
  });

  it('refuses unknown and expired refresh tokens', async () => {
    const unknown = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: 'made-up-token' } });
    assert.equal(unknown.status, 401);
    const u = await server.signUp('expired');
    await server.database.pool.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [u.id]);
    const expired = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(expired.status, 401);
    assert.match(expired.body.error.message, /expired/);
    const wrongType = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: 42 } });
    assert.equal(wrongType.status, 422);
  });

  it('logout revokes the refresh token family', async () => {
    const u = await server.signUp('logout');
    const out = await server.call('POST', '/api/auth/logout', { json: { refresh_token: u.refreshToken } });
    assert.equal(out.status, 204);
    const refresh = await server.call('POST', '/api/auth/refresh', { json: { refresh_token: u.refreshToken } });
    assert.equal(refresh.status, 401);
  });
});

describe('rate limits', () => {
  let limited: TestServer;
  before(async () => {
    limited = await startTestServer({ AUTH_RATE_LIMIT: '3', AUTH_RATE_WINDOW_SECONDS: '60' });
  });
  after(() => limited.close());

  it('limits login attempts and says when to retry', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await limited.call('POST', '/api/auth/token', { form: { username: 'victim', password: `guess ${i}` } });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    assert.equal(errorCode(last!), 'rate_limited');
    assert.ok(last!.headers.get('ratelimit'), 'standard RateLimit header is sent');
  });

  it('limits registration per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await limited.call('POST', '/api/auth/register', {
        headers: { 'x-forwarded-for': '203.0.113.7' },
        json: { username: `flood${i}`, email: `flood${i}@example.test`, password: 'a long enough passphrase' },
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    const elsewhere = await limited.call('POST', '/api/auth/register', {
      headers: { 'x-forwarded-for': '203.0.113.8' },
      json: { username: 'calm', email: 'calm@example.test', password: 'a long enough passphrase' },
    });
    assert.equal(elsewhere.status, 201, 'another address is not affected');
  });

  it('limits attempts on one account from many addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await limited.call('POST', '/api/auth/token', {
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
        form: { username: 'Target', password: `guess ${i}` },
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });
});
