// "Acknowledged means stored" with several instances: two real server processes share documents through Redis;
// instance A's appends stall on the database while its client writes, A dies (kill -9), and the author's provider
// comes back. Whatever it then reports saved must be in the database, whichever instance acknowledged it. The
// instances share one database, so this runs in the PostgreSQL round.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import * as Y from 'yjs';
import { createScratchDatabase, type ScratchDatabase } from '../../core/index.ts';
import { testDb, type TestServer } from '../../server/test/harness.ts';
import { createDocumentStore, createKeyring } from '../index.ts';
import { connect, pageText, refusalsOf, waitFor, writeParagraph, type Client } from './clients.ts';
import { api, kill9, startServerChild, type ServerChild } from './server-child.ts';

const redisUrl = process.env.REDIS_URL;
const ci = process.env.CI === 'true' || process.env.CI === '1';
const skip = testDb !== 'postgres' ? 'instances share PostgreSQL' : !redisUrl && !ci ? 'REDIS_URL is not set' : false;

describe('acknowledged means stored, on several instances', { skip }, () => {
  let scratch: ScratchDatabase;
  let pool: pg.Pool;
  const dirs: string[] = [];
  const running = new Set<ServerChild>();
  const open: Client[] = [];
  const encryptionKey = randomBytes(32).toString('base64');
  const env: Record<string, string> = {};

  async function start(): Promise<ServerChild> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-instances-'));
    dirs.push(dataDir);
    const instance = await startServerChild({ ...env, DATA_DIR: dataDir });
    running.add(instance);
    return instance;
  }

  async function stop(instance: ServerChild): Promise<void> {
    await kill9(instance);
    running.delete(instance);
  }

  /** The page text of the document as stored: snapshot and log read and decrypted through the document store. */
  async function storedText(name: string): Promise<string> {
    const store = createDocumentStore(pool, createKeyring(Buffer.from(encryptionKey, 'base64')));
    const doc = new Y.Doc();
    for (const part of (await store.load(name)).parts) Y.applyUpdate(doc, part);
    return pageText(doc);
  }

  /**
   * The scenario of the issue, up to A's death: 10 acknowledged edits, then 5 made while A's appends wait on a
   * lock, seen by a client of B; A is killed and the lock released. Returns the author's document.
   */
  async function stallAndKill(a: ServerChild, b: ServerChild, token: string, channel: string): Promise<Y.Doc> {
    const author = await connect(a, channel, token);
    const watcher = await connect(b, channel, token);
    open.push(author, watcher);
    const notices = refusalsOf(author);
    const text = writeParagraph(author.doc, '');
    for (let i = 1; i <= 10; i++) {
      text.insert(text.length, `e${i},`);
      await author.saved();
    }
    const lock = await pool.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE document_updates IN EXCLUSIVE MODE');
      for (let i = 11; i <= 15; i++) text.insert(text.length, `e${i},`);
      await waitFor(() => pageText(watcher.doc).includes('e15,'), 'B sees the edits A could not store');
      assert.ok(author.provider.unsyncedChanges > 0, 'nothing stalled was acknowledged');
      await stop(a);
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    author.close();
    assert.deepEqual(notices, [], 'nothing refused');
    return author.doc;
  }

  async function newChannel(server: TestServer, token: string, name: string): Promise<string> {
    const group = await api(server, 'POST', '/api/groups', { name }, token);
    return (await api(server, 'POST', `/api/groups/${group.id}/channels`, { name: 'doc', type: 'DOC' }, token)).id;
  }

  const edits = Array.from({ length: 15 }, (_, i) => `e${i + 1},`).join('');
  let token: string;

  before(async () => {
    if (!redisUrl) throw new Error('REDIS_URL is not set: run scripts/install-test-deps.sh and set it');
    scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'teamspace_test');
    pool = new pg.Pool({ connectionString: scratch.url, max: 3 });
    // An idle connection the database ends (its scratch database dropped at the end) is no failure of the test.
    pool.on('error', () => {});
    Object.assign(env, {
      NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: scratch.url,
      REDIS_URL: redisUrl, JWT_SECRET: randomBytes(32).toString('hex'), ENCRYPTION_KEY: encryptionKey,
      AUTH_RATE_LIMIT: '100000', SFU_WORKERS: '0', AI_ENABLED: 'false',
    });
    const server = await start();
    const password = 'a long enough passphrase';
    await api(server, 'POST', '/api/auth/register', { username: 'author', email: 'a@example.test', password });
    token = (await api(server, 'POST', '/api/auth/token', { username: 'author', password })).access_token;
    await stop(server);
  });
  after(async () => {
    for (const c of open) c.close();
    for (const instance of [...running]) await stop(instance);
    await pool?.end();
    await scratch?.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('the author reconnecting first to the restarted instance: all it is told is saved is stored', async () => {
    const a = await start();
    const b = await start();
    const channel = await newChannel(a, token, 'first');
    const doc = await stallAndKill(a, b, token, channel);
    assert.equal(pageText(doc), edits);
    // The restarted A loads the 10 stored edits and gets the other 5 from B over Redis: the author sends nothing.
    const restarted = await start();
    const author = await connect(restarted, channel, token, { doc });
    open.push(author);
    await author.saved();
    assert.equal(await storedText(channel), edits, 'every edit the provider counts as saved is stored');
    await stop(restarted);
    await stop(b);
  });

  it('the author reconnecting to the other instance, after someone else reconnected: the same', async () => {
    const a = await start();
    const b = await start();
    const channel = await newChannel(a, token, 'second');
    const doc = await stallAndKill(a, b, token, channel);
    const restarted = await start();
    const other = await connect(restarted, channel, token);
    open.push(other);
    await other.saved();
    const author = await connect(b, channel, token, { doc });
    open.push(author);
    await author.saved();
    assert.equal(await storedText(channel), edits, 'every edit the provider counts as saved is stored');
    await stop(restarted);
    await stop(b);
  });
});
