// Licence keys: open-source mode, a valid key, expiry with grace, refused keys, seats at registration and
// reactivation, feature checks, and the key tools.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { sign as edSign } from 'node:crypto';
import { statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { errorHandler } from '../../core/errors.ts';
import { generateLicenseKeyPair, privateKeyFromPem, publicKeyFromText, signLicense, verifyLicense, type LicensePayload } from '../license/key.ts';
import { FREE_SEATS, startLicensing, type Licensing } from '../license/licensing.ts';
import { adminClient, makeSuperuser } from './admin-client.ts';
import { errorCode, startTestServer, type TestServer } from './harness.ts';
import { captureLogs } from './log-capture.ts';

const run = promisify(execFile);
const ours = generateLicenseKeyPair();
const theirs = generateLicenseKeyPair();
const sign = (payload: LicensePayload, pair = ours) => signLicense(payload, privateKeyFromPem(pair.privateKeyPem));
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const licence = (fields: Partial<LicensePayload> = {}): LicensePayload => ({
  licensee: 'Acme Test', expires: day(365), seats: FREE_SEATS + 10, features: ['sso'], ...fields,
});

const logs = captureLogs('info');
let server: TestServer;
let fill = 0;

/** Restarts the server on the same storage with this key (and our test public key). */
async function withKey(key: string | undefined, env: Record<string, string> = {}): Promise<number> {
  const from = logs.lines().length;
  server = await server.restart({ LICENSE_PUBLIC_KEY: ours.publicKey, LICENSE_KEY: key ?? '', LICENSE_GRACE_DAYS: '', ...env });
  return from;
}
const logsSince = (from: number) => logs.lines().slice(from).filter((l) => l.license);

async function activePeople(): Promise<number> {
  const { rows } = await server.database.pool.query('SELECT count(*)::int AS n FROM users WHERE is_active AND NOT is_bot');
  return rows[0].n;
}

/** Adds active people (and two bots, which never count) until `target` active people exist. */
async function fillSeatsTo(target: number): Promise<void> {
  const missing = target - (await activePeople());
  assert.ok(missing >= 0, `already ${-missing} people over ${target}`);
  const tag = `${process.pid}x${++fill}`;
  await server.database.pool.query(
    `INSERT INTO users (username, email, password_hash, is_bot)
     SELECT 'seat' || g || 'x' || $2, 'seat' || g || 'x' || $2 || '@example.test', 'x', g > $1
     FROM generate_series(1, $1 + 2) g`,
    [missing, tag],
  );
  assert.equal(await activePeople(), target);
}

/** Makes people inactive until `target` are left, so each test starts from a known count. */
async function shrinkSeatsTo(target: number): Promise<void> {
  await server.database.pool.query(
    `UPDATE users SET is_active = false WHERE id IN (
       SELECT id FROM users WHERE is_active AND NOT is_bot ORDER BY created_at DESC LIMIT greatest(0, (
         SELECT count(*) FROM users WHERE is_active AND NOT is_bot) - $1))`,
    [target],
  );
  assert.equal(await activePeople(), target);
}

async function register(prefix = 'reg') {
  const username = `${prefix}${process.pid}x${++fill}`;
  return server.call('POST', '/api/auth/register', {
    json: { username, email: `${username}@example.test`, password: 'a long enough passphrase' },
  });
}

/** Answers GET /probe through `requireValidLicense(feature)` and the server's error handler. */
async function probe(licensing: Licensing, feature: string): Promise<{ status: number; body: any }> {
  const app = express();
  app.get('/probe', licensing.requireValidLicense(feature), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler);
  const http = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => http.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/probe`);
    return { status: res.status, body: await res.json() };
  } finally {
    http.close();
  }
}

before(async () => {
  server = await startTestServer({}, undefined, logs.log);
});
after(() => server.close());

describe('open-source mode (no LICENSE_KEY)', () => {
  it('runs everything with the free seats and no licensed features, and says so once at start', async () => {
    const from = await withKey(undefined);
    const status = await server.licensing.status();
    assert.equal(status.state, 'open_source');
    assert.deepEqual(status.features, []);
    assert.equal(status.seats.allowed, FREE_SEATS);
    assert.deepEqual(status.errors, []);
    assert.deepEqual(logsSince(from).map((l) => [l.level, l.license]), [[30, 'open_source']]);
    const refused = await probe(server.licensing, 'sso');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'license_required');
  });

  it('refuses a registration beyond the free seats with 403 license_required, counting active people only', async () => {
    await withKey(undefined);
    await shrinkSeatsTo(0);
    await fillSeatsTo(FREE_SEATS - 1);
    const last = await register();
    assert.equal(last.status, 201, JSON.stringify(last.body));
    const beyond = await register();
    assert.equal(beyond.status, 403);
    assert.equal(errorCode(beyond), 'license_required');
    assert.match(beyond.body.error.message, /seats/);
    assert.deepEqual(beyond.body.error.details, { seats_used: FREE_SEATS, seats_allowed: FREE_SEATS });
    await shrinkSeatsTo(FREE_SEATS - 1);
    assert.equal((await register()).status, 201, 'a deactivated account frees its seat');
  });
});

describe('a valid key', () => {
  it('is licensed: status for the admin console, its features pass, others do not', async () => {
    const from = await withKey(sign(licence({ features: ['sso', 'audit_export'] })));
    await shrinkSeatsTo(3);
    const status = await server.licensing.status();
    assert.deepEqual(status, {
      state: 'licensed', licensee: 'Acme Test', expires: day(365), grace_ends: day(365 + 14), in_grace: false,
      features: ['sso', 'audit_export'],
      seats: { used: 3, allowed: FREE_SEATS + 10, licensed: FREE_SEATS + 10, free: FREE_SEATS },
      errors: [], warnings: [],
    });
    assert.deepEqual(logsSince(from).map((l) => [l.level, l.license, l.licensee]), [[30, 'licensed', 'Acme Test']]);
    assert.equal((await probe(server.licensing, 'sso')).status, 200);
    const other = await probe(server.licensing, 'custom_branding');
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'license_required');
    assert.match(other.body.error.message, /custom_branding/);
  });

  it('holds registration to its seats (above the free ones)', async () => {
    await withKey(sign(licence()));
    await fillSeatsTo(FREE_SEATS + 9);
    assert.equal((await register()).status, 201);
    const beyond = await register();
    assert.equal(beyond.status, 403);
    assert.equal(errorCode(beyond), 'license_required');
    assert.deepEqual(beyond.body.error.details, { seats_used: FREE_SEATS + 10, seats_allowed: FREE_SEATS + 10 });
  });

  it('never lets registrations at once take more seats than are left', async () => {
    await withKey(sign(licence()));
    await shrinkSeatsTo(0);
    await fillSeatsTo(FREE_SEATS + 8);
    const answers = await Promise.all(Array.from({ length: 6 }, () => register('race')));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 201, 403, 403, 403, 403]);
    assert.equal(await activePeople(), FREE_SEATS + 10);
  });

  it('never gives fewer seats than open-source mode', async () => {
    await withKey(sign(licence({ seats: 5 })));
    assert.equal(server.licensing.seatsAllowed(), FREE_SEATS);
  });
});

describe('seats at reactivation (through the admin console)', () => {
  it('refuses to reactivate a person when every seat is taken, but a bot takes none', async () => {
    await withKey(sign(licence()));
    await shrinkSeatsTo(0);
    const root = await server.signUp('root');
    await makeSuperuser(server, root.id);
    const admin = adminClient(server);
    assert.equal((await admin.login(root.username, root.password)).status, 303);
    const dormant = await register();
    assert.equal(dormant.status, 201);
    await server.database.pool.query('UPDATE users SET is_active = false WHERE id = $1', [dormant.body.id]);
    const { rows: [bot] } = await server.database.pool.query(
      `INSERT INTO users (username, email, password_hash, is_bot, is_active)
       VALUES ('dormant-bot${process.pid}', 'dormant-bot${process.pid}@bot.invalid', 'x', true, false) RETURNING id`,
    );
    await fillSeatsTo(FREE_SEATS + 10);
    const activate = async (id: string) => {
      await admin.get(`/admin/users/${id}`);
      return admin.post(`/admin/users/${id}/activate`);
    };
    const refused = await activate(dormant.body.id);
    assert.equal(refused.status, 403);
    assert.match(refused.html, /seats are taken/);
    assert.equal(await activePeople(), FREE_SEATS + 10, 'nothing changed');
    assert.equal((await activate(bot.id)).status, 303, 'a bot takes no seat');
    await shrinkSeatsTo(FREE_SEATS + 9);
    assert.equal((await activate(dormant.body.id)).status, 303, 'a freed seat is taken');
    assert.equal(await activePeople(), FREE_SEATS + 10);
    const login = await server.call('POST', '/api/auth/token', {
      form: { username: dormant.body.username, password: 'a long enough passphrase' },
    });
    assert.equal(login.status, 200, 'the reactivated person signs in');
    const overview = await admin.get('/admin');
    assert.match(overview.html, /data-testid="license-state">licensed</);
    assert.match(overview.html, new RegExp(`data-testid="license-seats">${FREE_SEATS + 10} of ${FREE_SEATS + 10} used`));
  });
});

describe('expiry', () => {
  it('within the grace period: still honoured, with a warning at start and in the status', async () => {
    const from = await withKey(sign(licence({ expires: day(-3) })));
    const status = await server.licensing.status();
    assert.equal(status.state, 'grace');
    assert.equal(status.in_grace, true);
    assert.equal(status.grace_ends, day(11));
    assert.deepEqual(status.features, ['sso']);
    assert.equal(status.seats.allowed, FREE_SEATS + 10);
    assert.equal(status.warnings.length, 1);
    assert.match(status.warnings[0]!, new RegExp(`expired on ${day(-3)}.*until the end of ${day(11)}`));
    const warned = logsSince(from).filter((l) => l.level === 40);
    assert.deepEqual(warned.map((l) => l.msg), status.warnings);
    assert.equal((await probe(server.licensing, 'sso')).status, 200);
  });

  it('after the grace period: 403 license_required on its features, and back to the free seats', async () => {
    const from = await withKey(sign(licence({ expires: day(-30) })));
    const status = await server.licensing.status();
    assert.equal(status.state, 'expired');
    assert.deepEqual(status.features, []);
    assert.equal(status.seats.allowed, FREE_SEATS);
    assert.equal(status.seats.licensed, FREE_SEATS + 10);
    assert.ok(logsSince(from).some((l) => l.level === 50 && /grace ended/.test(l.msg)));
    const refused = await probe(server.licensing, 'sso');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'license_required');
    assert.match(refused.body.error.message, /expired/);
    await fillSeatsTo(Math.max(FREE_SEATS, await activePeople()));
    assert.equal((await register()).status, 403);
  });

  it('LICENSE_GRACE_DAYS sets the grace: 0 ends it the day after expiry', async () => {
    await withKey(sign(licence({ expires: day(-1) })), { LICENSE_GRACE_DAYS: '0' });
    assert.equal((await server.licensing.status()).state, 'expired');
    await withKey(sign(licence({ expires: day(-1) })), { LICENSE_GRACE_DAYS: '2' });
    assert.equal((await server.licensing.status()).state, 'grace');
  });

  it('repeats its warning on a timer while in grace, and a valid licence logs none', async () => {
    const captured = captureLogs('info');
    const options = { publicKey: ours.publicKey, graceDays: 14, pool: server.database.pool, log: captured.log, warnEveryMs: 20 };
    const lapsed = startLicensing({ ...options, key: sign(licence({ expires: day(-1) })) });
    const valid = startLicensing({ ...options, key: sign(licence({ licensee: 'Valid Co' })) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    lapsed.stop();
    valid.stop();
    const warnings = captured.lines().filter((l) => l.level === 40);
    assert.ok(warnings.length >= 3, `${warnings.length} warnings`);
    assert.ok(warnings.every((l) => /Acme Test/.test(l.msg)));
  });
});

describe('refused keys: one clear error line, and the server runs in open-source mode', () => {
  const [body, signature] = sign(licence()).split('.');
  const forged = Buffer.from(JSON.stringify(licence({ seats: 100_000 }))).toString('base64url');
  const cases: [string, string, RegExp][] = [
    ['a tampered payload', `${forged}.${signature}`, /bad signature/],
    ['a key signed by another key', sign(licence(), theirs), /bad signature/],
    ['a malformed key', 'not a licence key', /malformed/],
    ['a key with three parts', `${body}.${signature}.${signature}`, /malformed/],
    ['a truncated signature', `${body}.${signature!.slice(0, 40)}`, /malformed: the signature/],
    ['a signed payload that is not a licence', signLicenseUnchecked({ licensee: 'X', seats: -1 }), /invalid payload/],
  ];
  for (const [what, key, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const from = await withKey(key);
      const status = await server.licensing.status();
      assert.equal(status.state, 'open_source');
      assert.equal(status.licensee, null);
      assert.equal(status.seats.allowed, FREE_SEATS);
      assert.equal(status.errors.length, 1);
      assert.match(status.errors[0]!, reason);
      const lines = logsSince(from);
      assert.deepEqual(lines.map((l) => [l.level, l.license]), [[50, 'refused']]);
      assert.match(lines[0]!.msg, /LICENSE_KEY refused: .*open-source mode/);
      assert.equal((await probe(server.licensing, 'sso')).status, 403);
      assert.equal((await server.call('GET', '/health/ready')).status, 200, 'the server runs');
    });
  }

  it('accepts the same key once unaltered (the positive control)', async () => {
    await withKey(`${body}.${signature}`);
    assert.equal((await server.licensing.status()).state, 'licensed');
  });

  it('checks against the built-in public key unless LICENSE_PUBLIC_KEY replaces it', async () => {
    server = await server.restart({ LICENSE_PUBLIC_KEY: '', LICENSE_KEY: sign(licence()) });
    const status = await server.licensing.status();
    assert.equal(status.state, 'open_source');
    assert.match(status.errors[0]!, /bad signature/);
  });

  it('refuses to start with a LICENSE_PUBLIC_KEY that is not a key (a configuration error)', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'test', DATA_DIR: server.dataDir, LICENSE_PUBLIC_KEY: 'short' }), /LICENSE_PUBLIC_KEY/);
  });
});

/** Signs any JSON as a payload, to check that the server validates what a genuine signature covers. */
function signLicenseUnchecked(json: unknown): string {
  const body = Buffer.from(JSON.stringify(json)).toString('base64url');
  return `${body}.${edSign(null, Buffer.from(body), privateKeyFromPem(ours.privateKeyPem)).toString('base64url')}`;
}

describe('npm run license:keypair and license:generate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'license-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const cli = (script: string, args: string[]) =>
    run(process.execPath, [path.join('server/license', script), ...args], { cwd: process.cwd() });

  it('round-trips: a new pair, a key signed with its private half, accepted by a server given its public half', async () => {
    const pair = await cli('keypair-cli.ts', ['--out-dir', dir]);
    const publicKey = (await readFile(path.join(dir, 'license-public.txt'), 'utf8')).trim();
    assert.equal(pair.stdout.trim(), publicKey);
    assert.equal(statSync(path.join(dir, 'license-private.pem')).mode & 0o777, 0o600);
    const generated = await cli('generate-cli.ts', [
      '--private-key', path.join(dir, 'license-private.pem'), '--licensee', 'Round Trip Ltd', '--expires', day(30),
      '--seats', '75', '--features', 'sso, audit_export',
    ]);
    const key = generated.stdout.trim();
    assert.deepEqual(verifyLicense(key, publicKeyFromText(publicKey)), {
      ok: true, payload: { licensee: 'Round Trip Ltd', expires: day(30), seats: 75, features: ['sso', 'audit_export'] },
    });
    server = await server.restart({ LICENSE_PUBLIC_KEY: publicKey, LICENSE_KEY: key });
    const status = await server.licensing.status();
    assert.equal(status.state, 'licensed');
    assert.equal(status.licensee, 'Round Trip Ltd');
  });

  it('refuses bad arguments and never overwrites a private key', async () => {
    await assert.rejects(
      cli('generate-cli.ts', ['--private-key', path.join(dir, 'license-private.pem'), '--licensee', 'X', '--expires', '2026-02-30', '--seats', '5']),
      (err: any) => err.code === 2 && /--expires/.test(err.stderr),
    );
    await assert.rejects(
      cli('generate-cli.ts', ['--private-key', path.join(dir, 'missing.pem'), '--licensee', 'X', '--expires', day(1), '--seats', '5']),
      (err: any) => err.code === 2 && /cannot read the private key/.test(err.stderr),
    );
    await assert.rejects(cli('keypair-cli.ts', ['--out-dir', dir]), (err: any) => /EEXIST/.test(err.stderr));
  });
});
