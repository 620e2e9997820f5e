// kill -9 of the server loses no acknowledged edit: the server runs as a child process that is killed mid-write.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createScratchDatabase, type ScratchDatabase } from '../../server/index.ts';
import { testDb, type TestServer } from '../../server/test/harness.ts';
import { connect, pageText, refusalsOf, writeParagraph, type Client } from './clients.ts';
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
});
