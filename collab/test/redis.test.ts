// Several instances share documents through Redis: clients on different instances converge, and each update
// is stored once. Instances share one database, so this runs in the PostgreSQL round.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { setUpTeam, startTestServer, testDb, type TestServer } from '../../server/test/harness.ts';
import { connect, pageText, paragraphText, refusalsOf, waitFor, writeParagraph, type Client } from './clients.ts';

const redisUrl = process.env.REDIS_URL;
const ci = process.env.CI === 'true' || process.env.CI === '1';
// Without REDIS_URL outside CI, scripts/test.ts has already said loudly that Redis tests are skipped.
const skip = testDb !== 'postgres' ? 'instances share PostgreSQL' : !redisUrl && !ci ? 'REDIS_URL is not set' : false;

describe('scaling out through Redis', { skip }, () => {
  let one: TestServer;
  let two: TestServer;
  const open: Client[] = [];
  before(async () => {
    if (!redisUrl) throw new Error('REDIS_URL is not set: run scripts/install-test-deps.sh and set it');
    const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await probe.connect();
    await probe.ping();
    probe.disconnect();
    one = await startTestServer({ REDIS_URL: redisUrl });
    two = await startTestServer({ REDIS_URL: redisUrl, DATABASE_URL: one.databaseUrl!, JWT_SECRET: one.jwtSecret });
  });
  after(async () => {
    for (const c of open) c.close();
    await two?.close();
    await one?.close();
  });

  it('clients on two instances converge, and every update is stored once', async () => {
    const team = await setUpTeam(one, ['DOC']);
    const name = team.channels.DOC!;
    const a = await connect(one, name, team.owner.token);
    const b = await connect(two, name, team.member.token);
    open.push(a, b);
    const notices = [a, b].map(refusalsOf);
    const stored = async () =>
      (await one.database.pool.query('SELECT count(*)::int AS n FROM document_updates WHERE document_name = $1', [name]))
        .rows[0].n as number;
    // The paragraph both edit, made first and counted apart.
    writeParagraph(a.doc, '');
    await a.saved();
    await waitFor(() => b.doc.getXmlFragment('default').length === 1, 'the paragraph on the other instance');
    const before = await stored();
    for (let i = 0; i < 5; i++) {
      paragraphText(a.doc, 0).insert(0, 'a');
      await a.saved();
      paragraphText(b.doc, 0).insert(0, 'b');
      await b.saved();
    }
    await waitFor(
      () => pageText(a.doc).length === 10 && pageText(b.doc) === pageText(a.doc),
      'convergence across instances',
    );
    assert.equal(b.doc.getXmlFragment('default').toJSON(), a.doc.getXmlFragment('default').toJSON());
    assert.deepEqual(notices.flat(), [], 'nothing refused');
    assert.equal((await stored()) - before, 10, 'one row per client update, none relayed twice');
  });
});
