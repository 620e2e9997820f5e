import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../core/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-config-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('configuration', () => {
  it('has working defaults', () => {
    const cfg = loadConfig({ DATA_DIR: dir });
    assert.equal(cfg.PORT, 8080);
    assert.equal(cfg.DATABASE_URL, undefined);
    assert.deepEqual(cfg.CORS_ORIGINS, []);
  });

  it('creates a development JWT secret once and keeps it under DATA_DIR', async () => {
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    assert.ok(first.JWT_SECRET.length >= 32);
    assert.equal(first.JWT_SECRET, second.JWT_SECRET);
    assert.equal(await readFile(path.join(dir, 'jwt-secret'), 'utf8'), first.JWT_SECRET);
    assert.equal((await stat(path.join(dir, 'jwt-secret'))).mode & 0o777, 0o600);
  });

  it('refuses to start in production without a strong JWT_SECRET', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }), /JWT_SECRET is required/);
    for (const weak of ['short', 'changeme-changeme-changeme-changeme', 'a'.repeat(40)]) {
      assert.throws(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir, JWT_SECRET: weak }), ConfigError, weak);
    }
    const key = Buffer.alloc(32, 7).toString('base64');
    const ok = loadConfig({
      NODE_ENV: 'production', DATA_DIR: dir, JWT_SECRET: 'k7Qp2vX9mL4tR8wZ1nB6cF3hJ5gD0sAe', ENCRYPTION_KEY: key,
    });
    assert.equal(ok.NODE_ENV, 'production');
  });

  it('needs an encryption key in production and checks every key it is given', () => {
    const base = { NODE_ENV: 'production', DATA_DIR: dir, JWT_SECRET: 'k7Qp2vX9mL4tR8wZ1nB6cF3hJ5gD0sAe' };
    assert.throws(() => loadConfig(base), /ENCRYPTION_KEY is required/);
    assert.throws(() => loadConfig({ ...base, ENCRYPTION_KEY: 'c2hvcnQ=' }), /ENCRYPTION_KEY.*32 bytes/);
    assert.throws(
      () => loadConfig({ ...base, ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), ENCRYPTION_OLD_KEYS: 'bad' }),
      /ENCRYPTION_OLD_KEYS/,
    );
    const dev = loadConfig({ DATA_DIR: dir });
    assert.equal(Buffer.from(dev.ENCRYPTION_KEY, 'base64').length, 32, 'development makes one');
    assert.equal(loadConfig({ DATA_DIR: dir }).ENCRYPTION_KEY, dev.ENCRYPTION_KEY, 'and keeps it');
  });

  it('treats an empty variable as unset and refuses a weak secret in any mode', async () => {
    const cfg = loadConfig({ DATA_DIR: dir, JWT_SECRET: '', PORT: '' });
    assert.equal(cfg.PORT, 8080);
    assert.equal(cfg.JWT_SECRET, (await readFile(path.join(dir, 'jwt-secret'), 'utf8')), 'the stored one, not ""');
    assert.throws(() => loadConfig({ DATA_DIR: dir, JWT_SECRET: 'short' }), /at least 32/);
    const empty = await mkdtemp(path.join(os.tmpdir(), 'teamspace-config-'));
    await writeFile(path.join(empty, 'jwt-secret'), '');
    assert.throws(() => loadConfig({ DATA_DIR: empty }), /is empty/);
    await rm(empty, { recursive: true });
  });

  it('lists every invalid variable in one clear message', () => {
    assert.throws(
      () => loadConfig({ DATA_DIR: dir, PORT: 'eighty', DATABASE_URL: 'mysql://x', BODY_LIMIT: 'huge' }),
      (err: Error) =>
        err instanceof ConfigError && /PORT/.test(err.message) && /DATABASE_URL/.test(err.message) &&
        /BODY_LIMIT/.test(err.message),
    );
  });

  it('parses CORS origins', () => {
    const cfg = loadConfig({ DATA_DIR: dir, CORS_ORIGINS: 'https://a.test, https://b.test' });
    assert.deepEqual(cfg.CORS_ORIGINS, ['https://a.test', 'https://b.test']);
  });

  it('reads call settings and refuses inconsistent ones', () => {
    const cfg = loadConfig({
      DATA_DIR: dir, RTC_ENABLE_TCP: 'false', TURN_URIS: 'turn:a.test:3478, turns:a.test:5349?transport=tcp',
      TURN_SECRET: 'sixteen-chars-at-least',
    });
    assert.equal(cfg.RTC_ENABLE_TCP, false);
    assert.deepEqual(cfg.TURN_URIS, ['turn:a.test:3478', 'turns:a.test:5349?transport=tcp']);
    assert.ok(cfg.SFU_WORKERS >= 1);
    assert.throws(
      () => loadConfig({ DATA_DIR: dir, TURN_TTL_SECONDS: '604800', TURN_URIS: 'http://x' }),
      (err: Error) => err instanceof ConfigError && /TURN_TTL_SECONDS: at most a day/.test(err.message) && /TURN_URIS/.test(err.message),
    );
    assert.throws(() => loadConfig({ DATA_DIR: dir, RTC_MIN_PORT: '50000', RTC_MAX_PORT: '40000' }), /RTC_MAX_PORT: must not be below RTC_MIN_PORT/);
    assert.throws(() => loadConfig({ DATA_DIR: dir, RTC_ENABLE_TCP: 'maybe' }), /RTC_ENABLE_TCP/);
  });
});
