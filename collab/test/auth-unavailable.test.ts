// A database that cannot answer while a /collab connection authenticates is `unavailable`, never a denial.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type pg from 'pg';
import { setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { collabUrl } from './clients.ts';

let server: TestServer;
let team: Team;
before(async () => {
  server = await startTestServer({ DATABASE_POOL_SIZE: '2' });
  team = await setUpTeam(server, ['DOC']);
});
after(() => server.close());

/**
 * Opens a document and resolves with `synced` or the refusal's reason. The pool gives up on a connection after
 * 10 s, so this waits longer than `connect()` in clients.ts does.
 */
async function outcome(token: string): Promise<string> {
  const socket = new HocuspocusProviderWebsocket({ url: collabUrl(server) });
  let provider: HocuspocusProvider | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      provider = new HocuspocusProvider({
        websocketProvider: socket, name: team.channels.DOC!, token,
        onAuthenticationFailed: ({ reason }) => resolve(reason),
        onSynced: () => resolve('synced'),
      });
      provider.attach();
      setTimeout(() => reject(new Error('no outcome within 30 s')), 30_000).unref();
    });
  } finally {
    provider?.destroy();
    socket.destroy();
  }
}

describe('authentication while the database cannot answer', () => {
  it('is `unavailable` for a member and an outsider alike, and works again once the database answers', async () => {
    // Positive controls first: with the database answering, a member syncs and an outsider is not-found.
    assert.equal(await outcome(team.member.token), 'synced');
    assert.equal(await outcome(team.outsider.token), 'not-found');

    // Every pooled connection taken: the membership lookup waits for the pool's timeout, then fails.
    const pool = server.database.pool as pg.Pool;
    const held = await Promise.all(Array.from({ length: pool.options.max }, () => pool.connect()));
    try {
      const [member, outsider] = await Promise.all([outcome(team.member.token), outcome(team.outsider.token)]);
      assert.equal(member, 'unavailable');
      assert.equal(outsider, 'unavailable', 'nothing is known about anyone while the database is away');
    } finally {
      for (const client of held) client.release();
    }

    assert.equal(await outcome(team.member.token), 'synced');
    assert.equal(await outcome(team.outsider.token), 'not-found');
  });
});
