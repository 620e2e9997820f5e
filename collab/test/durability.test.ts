// kill -9 of the server loses no acknowledged edit: the server runs as a child process that is killed mid-write.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createScratchDatabase, type ScratchDatabase } from '../../core/index.ts';
import { testDb, type TestServer } from '../../server/test/harness.ts';
import { connect, pageText, paragraphs, refusalsOf, writeParagraph, type Client } from './clients.ts';
import { api, kill9 as killChild, startServerChild, type ServerChild } from './server-child.ts';

let dataDir: string;
let scratch: ScratchDatabase | undefined;
let child: ChildProcess | undefined;
const env: Record<string, string> = {};

async function startChild(): Promise<TestServer> {
  const server = await startServerChild(env);
  child = server.child;
  return server;
}

async function kill9(): Promise<void> {
  await killChild({ child } as ServerChild);
}

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-kill-'));
  if (testDb === 'postgres') scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'teamspace_test');
  Object.assign(env, {
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'), AUTH_RATE_LIMIT: '100000',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  });
});
after(async () => {
  if (child && child.exitCode === null) await kill9();
  await scratch?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('durability', () => {
  it('every acknowledged edit survives kill -9', async () => {
    let server = await startChild();
    const password = 'a long enough passphrase';
    await api(server, 'POST', '/api/auth/register', { username: 'killer', email: 'k@example.test', password });
    const login = await api(server, 'POST', '/api/auth/token', { username: 'killer', password });
    const group = await api(server, 'POST', '/api/groups', { name: 'Durable' }, login.access_token);
    const channel = await api(server, 'POST', `/api/groups/${group.id}/channels`, { name: 'doc', type: 'DOC' }, login.access_token);

    const writer: Client = await connect(server, channel.id, login.access_token);
    const notices = refusalsOf(writer);
    const text = writeParagraph(writer.doc, '');
    for (let i = 0; i < 60; i++) {
      text.insert(text.length, `${i},`);
      if (i % 3 === 0) await writer.saved();
    }
    await writer.saved();
    assert.deepEqual(notices, [], 'nothing refused');
    const acknowledged = pageText(writer.doc);
    // More edits in flight, then the process dies without any chance to flush.
    for (let i = 0; i < 40; i++) text.insert(text.length, `late${i},`);
    await kill9();
    writer.close();

    server = await startChild();
    const reader = await connect(server, channel.id, login.access_token);
    const stored = pageText(reader.doc);
    reader.close();
    assert.ok(stored.startsWith(acknowledged), `lost acknowledged edits: had ${acknowledged.length}, got ${stored.length}`);
    await kill9();
  });

  it('every acknowledged edit of many writers on several documents survives kill -9 amid group commits', async () => {
    let server = await startChild();
    const password = 'a long enough passphrase';
    await api(server, 'POST', '/api/auth/register', { username: 'crowd', email: 'c@example.test', password });
    const { access_token: token } = await api(server, 'POST', '/api/auth/token', { username: 'crowd', password });
    const group = await api(server, 'POST', '/api/groups', { name: 'Crowd' }, token);
    const documents: string[] = [];
    for (let d = 0; d < 4; d++) {
      documents.push((await api(server, 'POST', `/api/groups/${group.id}/channels`, { name: `doc${d}`, type: 'DOC' }, token)).id);
    }
    // Four writers per document, each typing `n,` into its own paragraph and the next as soon as the last is
    // acknowledged: their appends arrive together, so they are committed in shared batches.
    const writers = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      const client = await connect(server, documents[i % documents.length]!, token);
      const text = writeParagraph(client.doc, `w${i}|`);
      return { client, text, notices: refusalsOf(client) };
    }));
    const acknowledged = writers.map(() => -1);
    const typing = writers.map(async ({ client, text }, i) => {
      for (let n = 0; ; n++) {
        text.insert(text.length, `${n},`);
        try {
          await client.saved(5000);
        } catch {
          return; // the server is gone
        }
        acknowledged[i] = n;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await kill9();
    const acked = [...acknowledged];
    for (const { client } of writers) client.close();
    await Promise.all(typing);
    for (const { notices } of writers) assert.deepEqual(notices, [], 'nothing refused');
    assert.ok(acked.every((n) => n >= 0), `every writer had edits acknowledged (${acked.join(', ')})`);

    server = await startChild();
    const stored = new Map<number, string>();
    for (const name of documents) {
      const reader = await connect(server, name, token);
      for (const text of paragraphs(reader.doc)) {
        const writer = /^w(\d+)\|/.exec(text);
        if (writer) stored.set(Number(writer[1]), text);
      }
      reader.close();
    }
    for (const [i, n] of acked.entries()) {
      const expected = `w${i}|${Array.from({ length: n + 1 }, (_, k) => `${k},`).join('')}`;
      assert.ok(stored.get(i)?.startsWith(expected), `writer ${i} lost acknowledged edits: acknowledged up to ${n}, stored ${stored.get(i)}`);
    }
    await kill9();
  });
});
