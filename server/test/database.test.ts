// A started server has its database connections open already, so its first request and its first document load
// wait for no connection handshake.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, testDb, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ DATABASE_POOL_SIZE: '6' });
});
after(() => server.close());

describe('database connections', () => {
  it('each PostgreSQL pool opens its two kept connections at start, and only those', { skip: testDb !== 'postgres' && 'PGlite: one session, no connections to open' }, () => {
    const { pool, storage } = server.database;
    assert.equal(pool.options.max, 6);
    assert.equal(storage.options.max, 3);
    // Opened before the start finished (the request pool's migration connection is one of its two), all idle.
    assert.equal(pool.totalCount, 2);
    assert.equal(storage.totalCount, 2);
    assert.equal(pool.idleCount + storage.idleCount, 4);
  });
});
