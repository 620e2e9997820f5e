// The indexing queue: several workers share it without taking a job twice; failures are retried, then parked;
// `npm run ai:worker` works it from its own process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../core/index.ts';
import { eventually, setUpTeam, startTestServer, testDb, type TestServer } from '../../server/test/harness.ts';
import type { Indexer } from '../indexer.ts';
import { startJobWorker } from '../job-worker.ts';
import { enqueue } from '../queue.ts';
import { writeTestModel } from './model-folder.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const log = createLogger('silent');
const options = { pollMs: 60_000, maxAttempts: 2, staleAfterMs: 60_000 };

/** An indexer that records what it was asked to do (the queue is under test here, not indexing). */
function recordingIndexer(fail: (id: string) => boolean = () => false) {
  const seen: string[] = [];
  const indexer: Indexer = {
    async indexDocument(channelId) {
      seen.push(channelId);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail(channelId)) throw new Error(`cannot index ${channelId}`);
      return { chunks: 0, embedded: 0, deleted: 0 };
    },
    async indexFile(fileId) {
      seen.push(fileId);
      return { chunks: 0, embedded: 0, deleted: 0 };
    },
  };
  return { indexer, seen };
}

async function jobs() {
  return (await server.database.pool.query<{ dedupe_key: string; status: string; attempts: number }>(
    `SELECT dedupe_key, status, attempts FROM jobs WHERE kind LIKE 'index_%' ORDER BY id`,
  )).rows;
}

describe('indexing queue', () => {
  it('folds repeated requests for one document into one waiting job, and two workers take each job once', async () => {
    const pool = server.database.pool;
    const ids = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const id of ids) {
      await enqueue(pool, { kind: 'index_document', name: id });
      await enqueue(pool, { kind: 'index_document', name: id });
    }
    assert.equal((await jobs()).length, 30);
    const one = recordingIndexer();
    const two = recordingIndexer();
    const workers = [startJobWorker(pool, one.indexer, options, log), startJobWorker(pool, two.indexer, options, log)];
    await Promise.all(workers.map((w) => w.drain()));
    await Promise.all(workers.map((w) => w.stop()));
    assert.deepEqual([...one.seen, ...two.seen].sort(), ids);
    assert.deepEqual(await jobs(), []);
  });

  it('retries a failing job with backoff, then marks it failed without blocking the rest', async () => {
    const pool = server.database.pool;
    const bad = '00000000-0000-4000-8000-00000000bad0';
    const good = '00000000-0000-4000-8000-00000000900d';
    await enqueue(pool, { kind: 'index_document', name: bad });
    await enqueue(pool, { kind: 'index_document', name: good });
    const { indexer, seen } = recordingIndexer((id) => id === bad);
    const worker = startJobWorker(pool, indexer, options, log);
    await worker.drain();
    assert.deepEqual((await jobs()).map((j) => [j.dedupe_key, j.status, j.attempts]), [[bad, 'queued', 1]]);
    assert.deepEqual(seen.sort(), [bad, good].sort());
    // Due again only after its backoff; pretend that time has passed.
    await pool.query(`UPDATE jobs SET run_at = now() WHERE dedupe_key = $1`, [bad]);
    await worker.drain();
    await worker.stop();
    assert.deepEqual((await jobs()).map((j) => [j.dedupe_key, j.status, j.attempts]), [[bad, 'failed', 2]]);
    await pool.query(`DELETE FROM jobs WHERE dedupe_key = $1`, [bad]);
  });
});

describe('npm run ai:worker', { skip: testDb !== 'postgres' && 'it needs PostgreSQL (the PostgreSQL round runs it)' }, () => {
  it('indexes queued documents from its own process, and serves its health and metrics (AI_WORKER_METRICS_PORT)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-aiworker-'));
    const metricsToken = 'worker-metrics-token-0123456789';
    const model = await writeTestModel(dir);
    const team = await setUpTeam(server, ['TODO']);
    const task = await server.call('POST', `/api/channels/${team.channels.TODO}/tasks`, {
      token: team.member.token, json: { content: 'Water the ficus in the lobby' },
    });
    assert.equal(task.status, 201);
    const child = spawn(process.execPath, ['server/cli/ai-worker.ts'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: {
        ...process.env, DATABASE_URL: server.databaseUrl!, DATA_DIR: server.dataDir, JWT_SECRET: server.jwtSecret,
        ENCRYPTION_KEY: '', MODELS_DIR: model.modelsDir, EMBEDDING_MODEL: model.name, LOG_LEVEL: 'info',
        OLLAMA_HOST: 'http://127.0.0.1:9', AI_WORKER_METRICS_PORT: '0', METRICS_TOKEN: metricsToken, HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    try {
      await enqueue(server.database.pool, { kind: 'index_document', name: team.channels.TODO! });
      await eventually(async () => {
        assert.match(output, /AI worker running/);
        const left = await server.database.pool.query(`SELECT 1 FROM jobs WHERE dedupe_key = $1`, [team.channels.TODO]);
        assert.equal(left.rowCount, 0, 'the worker took the job');
      }, 30_000);
      const port = Number(/"port":(\d+),"msg":"AI worker metrics listening"/.exec(output)?.[1]);
      const at = (route: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${route}`, { headers });
      assert.deepEqual(await (await at('/health')).json(), { status: 'ok' });
      assert.equal((await at('/health/ready')).status, 200);
      for (const headers of [{}, { authorization: 'Bearer not-the-metrics-token' }] as Record<string, string>[]) {
        const refused = await at('/metrics', headers);
        assert.equal(refused.status, 401);
        assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unauthorized');
      }
      const scraped = await at('/metrics', { authorization: `Bearer ${metricsToken}` });
      assert.equal(scraped.status, 200);
      const text = await scraped.text();
      // What only this process counts: the embeddings of the document it indexed.
      const embedded = Number(/^ai_embedded_texts_total (\d+)/m.exec(text)?.[1]);
      assert.ok(embedded > 0, text);
      // And the queue's figures, read from the database.
      assert.match(text, /^ai_queue_jobs\{kind="index_document",status="queued"\} \d+$/m);
      assert.match(text, /^ai_index_lag_seconds [\d.]+$/m);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    }
    assert.doesNotMatch(output, /"level":50/, output);
  });
});
