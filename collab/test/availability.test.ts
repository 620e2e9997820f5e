// Availability under a hostile member: while one member floods a document up to its size limit, readiness, REST and
// other documents stay responsive; write quotas per user and per group refuse with the time to retry, and leave
// everyone else writing; channel and DM creation have hourly quotas.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  errorCode, eventually, setUpTeam, startTestServer, type Team, type TestServer,
} from '../../server/test/harness.ts';
import { connect, refusalsOf, writeParagraph, writeValid, type Client } from './clients.ts';
import { flood, flooderInWorker } from './flooder.ts';

const MiB = 1024 * 1024;
const CHUNK = MiB / 2;
const LIMIT = 16 * MiB;

let server: TestServer;
const open: Client[] = [];
before(async () => {
  server = await startTestServer({
    COLLAB_MAX_UPDATE_BYTES: String(MiB),
    // The default document limit, which PGlite must absorb; quotas that let one member fill one document, not two.
    COLLAB_MAX_DOCUMENT_BYTES: String(LIMIT),
    COLLAB_USER_BYTES_PER_MINUTE: String(24 * MiB),
    COLLAB_GROUP_BYTES_PER_MINUTE: String(32 * MiB),
    CHANNELS_PER_HOUR_PER_USER: '5',
    CHANNELS_PER_HOUR_PER_GROUP: '7',
    DMS_PER_HOUR_PER_USER: '2',
  });
});
// Clients left open by a failed assertion would keep reconnecting, and the test process would never end.
after(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function client(name: string, token: string): Promise<Client> {
  const c = await connect(server, name, token);
  open.push(c);
  return c;
}

/** Runs `probe` again and again until stopped, recording how long each run took. */
function keepProbing(probe: () => Promise<void>) {
  const times: number[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const start = performance.now();
      await probe();
      times.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return times;
    },
  };
}

const p99 = (times: number[]) => [...times].sort((a, b) => a - b)[Math.ceil(times.length * 0.99) - 1]!;

async function ok(path: string, token?: string): Promise<void> {
  const res = await server.call('GET', path, { token });
  assert.equal(res.status, 200, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
}

describe('availability under a hostile member', () => {
  let hostile: Team;
  let bystanders: Team;
  let bystanderChat: Client;
  before(async () => {
    [hostile, bystanders] = await Promise.all([
      setUpTeam(server, ['DOC', 'TEXT']),
      setUpTeam(server, ['DOC', 'TEXT', 'TODO']),
    ]);
    bystanderChat = await client(bystanders.channels.TEXT!, bystanders.owner.token);
  });

  it('a flood up to the document size limit leaves readiness, REST and other documents responsive', async () => {
    const name = hostile.channels.DOC!;
    const { owner } = bystanders;
    const flooder = await flooderInWorker(server, [{ name, token: hostile.member.token }], CHUNK, 3 * LIMIT);
    let n = 0;
    const probes = {
      ready: keepProbing(() => ok('/health/ready')),
      me: keepProbing(() => ok('/api/auth/me', owner.token)),
      tasks: keepProbing(() => ok(`/api/channels/${bystanders.channels.TODO}/tasks`, owner.token)),
      sync: keepProbing(async () => {
        writeValid(bystanderChat.doc, 'TEXT', owner.id, `still here ${n++}`);
        await bystanderChat.saved(30_000);
      }),
    };
    const [reason] = await flooder.start();
    // The storage work the flood left behind (the last appends, compacting the log) happens while probing too.
    await eventually(async () => {
      const { rows } = await server.database.pool.query(
        'SELECT count(*)::int AS n FROM document_updates WHERE document_name = $1',
        [name],
      );
      assert.equal(rows[0].n, 0);
    }, 30_000);
    const times = Object.fromEntries(
      await Promise.all(Object.entries(probes).map(async ([probe, p]) => [probe, await p.stop()] as const)),
    );
    const figures = Object.fromEntries(
      Object.entries(times).map(([probe, t]) => [probe, { n: t.length, p99: Math.round(p99(t)) }]),
    );
    console.log(`probe latencies while flooding (ms, ${process.env.TEST_DB ?? 'pglite'}): ${JSON.stringify(figures)}`);
    assert.equal(reason, 'document too large');
    for (const [probe, { n: runs, p99: ms }] of Object.entries(figures)) {
      assert.ok(runs >= 5, `${probe} ran during the flood (${runs} times)`);
      assert.ok(ms < 1000, `${probe}: p99 ${ms} ms`);
    }
    const { rows } = await server.database.pool.query(
      'SELECT octet_length(payload) AS bytes FROM document_snapshots WHERE document_name = $1',
      [name],
    );
    const kept = rows[0].bytes;
    assert.ok(kept > LIMIT - 2 * CHUNK && kept <= LIMIT + 1024, `what was accepted is kept, and no more (${kept})`);
  });

  /** A new DOC channel in the hostile team's group, to fill. */
  async function newDoc(name: string): Promise<string> {
    const res = await server.call('POST', `/api/groups/${hostile.groupId}/channels`, {
      token: hostile.owner.token, json: { name, type: 'DOC' },
    });
    assert.equal(res.status, 201);
    return res.body.id;
  }

  it('a user over their write quota is refused with the time to retry, and does not reconnect in a loop', async () => {
    const name = await newDoc('user-quota');
    let attempts = 0;
    server.collab.hocuspocus.configuration.extensions.push({
      async onConnect({ documentName }) {
        if (documentName === name) attempts++;
      },
    });
    const writer = await client(name, hostile.member.token);
    const notices = refusalsOf(writer);
    const [reason] = await flood([writer], CHUNK, 3 * LIMIT);
    const retry = /^user write quota exceeded: retry in (\d+) s$/.exec(reason!);
    assert.ok(retry, reason);
    assert.ok(Number(retry[1]) >= 1 && Number(retry[1]) <= 60, reason);
    assert.deepEqual(notices, [], 'nothing refused by the write rules');
    const before = attempts;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.ok(attempts - before <= 1, `the refused client did not reconnect in a loop (${attempts - before} attempts)`);

    // Positive controls: someone in another group writes as much, and another member of the same group writes on.
    const other = await client(bystanders.channels.DOC!, bystanders.member.token);
    writeParagraph(other.doc, randomBytes(CHUNK / 2).toString('hex'));
    await other.saved(15_000);
    const teammate = await client(hostile.channels.TEXT!, hostile.owner.token);
    writeValid(teammate.doc, 'TEXT', hostile.owner.id, 'a teammate is not refused for what the flooder wrote');
    await teammate.saved(15_000);
  });

  it('a group over its write quota is refused, and other groups write on', async () => {
    // Three members of a fresh group write in turn, each well within their own quota and document limit.
    const t = await setUpTeam(server, ['DOC']);
    const newcomer = await server.signUp('newcomer');
    await server.call('POST', `/api/groups/${t.groupId}/members`, {
      token: t.owner.token, json: { user_id: newcomer.id, role: 'member' },
    });
    const docs = [t.channels.DOC!];
    for (const name of ['second', 'third']) {
      const res = await server.call('POST', `/api/groups/${t.groupId}/channels`, {
        token: t.owner.token, json: { name, type: 'DOC' },
      });
      docs.push(res.body.id);
    }
    const writers = [t.owner, t.member, newcomer].map((user, i) => ({ name: docs[i]!, token: user.token }));
    const reasons = await (await flooderInWorker(server, writers, CHUNK, 3 * LIMIT)).start();
    for (const reason of reasons) assert.match(reason, /^group write quota exceeded: retry in \d+ s$/);
    writeValid(bystanderChat.doc, 'TEXT', bystanders.owner.id, 'another group is not refused');
    await bystanderChat.saved(15_000);
  });
});

describe('creation quotas', () => {
  it('channels per hour per user and per group, with Retry-After', async () => {
    const t = await setUpTeam(server);
    const create = (token: string, name: string) =>
      server.call('POST', `/api/groups/${t.groupId}/channels`, { token, json: { name, type: 'TEXT' } });
    for (let i = 0; i < 5; i++) assert.equal((await create(t.owner.token, `owner-${i}`)).status, 201);
    const refused = await create(t.owner.token, 'one too many');
    assert.equal(refused.status, 429);
    assert.equal(errorCode(refused), 'rate_limited');
    assert.equal(refused.body.error.details.scope, 'user');
    assert.ok(Number(refused.headers.get('retry-after')) > 3500, 'the oldest leaves the hour in about an hour');
    // Another member still may, until the group's quota is used up.
    assert.equal((await create(t.member.token, 'member-1')).status, 201);
    assert.equal((await create(t.member.token, 'member-2')).status, 201);
    const full = await create(t.member.token, 'member-3');
    assert.equal(full.status, 429);
    assert.equal(full.body.error.details.scope, 'group');
    // Nothing was created by the refused requests, and another group is not affected.
    const listed = await server.call('GET', `/api/groups/${t.groupId}/channels`, { token: t.owner.token });
    assert.equal(listed.body.length, 7);
    const other = await setUpTeam(server);
    const elsewhere = await server.call('POST', `/api/groups/${other.groupId}/channels`, {
      token: other.owner.token, json: { name: 'fine', type: 'DOC' },
    });
    assert.equal(elsewhere.status, 201);
  });

  it('deleting channels (one, or their group) frees no place in the hour; once they leave the hour, room comes back', async () => {
    const t = await setUpTeam(server);
    const create = (groupId: string, name: string) =>
      server.call('POST', `/api/groups/${groupId}/channels`, { token: t.owner.token, json: { name, type: 'VOICE' } });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await create(t.groupId, `c-${i}`)).body.id);
    const deleted = await server.call('DELETE', `/api/channels/${made[0]}`, { token: t.owner.token });
    assert.equal(deleted.status, 204);
    const refused = await create(t.groupId, 'after a delete');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.details.scope, 'user');
    assert.ok(Number(refused.headers.get('retry-after')) > 3500, 'the deleted one still counts from its creation');

    assert.equal((await server.call('DELETE', `/api/groups/${t.groupId}`, { token: t.owner.token })).status, 204);
    const fresh = await server.call('POST', '/api/groups', { token: t.owner.token, json: { name: 'Fresh' } });
    assert.equal(fresh.status, 201);
    assert.equal((await create(fresh.body.id, 'after the group')).status, 429);

    // An hour later (the creations moved back): the deleted channels no longer count.
    const { pool } = server.database;
    await pool.query(`UPDATE deleted_channel_creations SET created_at = created_at - interval '61 minutes' WHERE created_by = $1`, [t.owner.id]);
    const later = await create(fresh.body.id, 'an hour later');
    assert.equal(later.status, 201);
    // Each deletion drops what has left the hour: only the one just deleted is remembered.
    assert.equal((await server.call('DELETE', `/api/channels/${later.body.id}`, { token: t.owner.token })).status, 204);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM deleted_channel_creations WHERE created_by = $1', [t.owner.id]);
    assert.equal(rows[0].n, 1);
  });

  it('DMs opened per hour per user; reopening an existing DM is not counted', async () => {
    const t = await setUpTeam(server);
    const third = await server.signUp('third');
    await server.call('POST', `/api/groups/${t.groupId}/members`, {
      token: t.owner.token, json: { user_id: third.id, role: 'member' },
    });
    const dm = (token: string, userId: string) => server.call('POST', '/api/dms', { token, json: { user_id: userId } });
    assert.equal((await dm(t.member.token, t.owner.id)).status, 201);
    assert.equal((await dm(t.member.token, t.viewer.id)).status, 201);
    const refused = await dm(t.member.token, third.id);
    assert.equal(refused.status, 429);
    assert.equal(errorCode(refused), 'rate_limited');
    assert.equal((await dm(t.member.token, t.owner.id)).status, 200, 'an existing DM still opens');
    assert.equal((await dm(third.token, t.member.id)).status, 201, 'the other side may still open it');
  });
});
