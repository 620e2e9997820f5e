// Instances that start together: four `npm run migrate` processes (the code every instance runs at start) on a
// fresh database all come up, and the migrations run once. Several instances share a PostgreSQL server only,
// so this runs in the PostgreSQL round.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runner, PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import { createScratchDatabase, type ScratchDatabase } from '../../core/index.ts';
import { testDb } from '../../server/test/harness.ts';

const skip = testDb !== 'postgres' ? 'instances share PostgreSQL (the embedded database is one process\'s)' : false;

interface Run {
  code: number | null;
  messages: string[];
  stderr: string;
}

/** One `npm run migrate` as its own process, resolving when it exits. */
function migrateProcess(databaseUrl: string, dataDir: string): { exited: Promise<Run>; running: () => boolean } {
  const child = spawn(process.execPath, ['server/cli/migrate.ts'], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<Run>((resolve) =>
    child.once('exit', (code) => {
      const messages = stdout.split('\n').filter(Boolean).map((line) => {
        try {
          return String(JSON.parse(line).msg);
        } catch {
          return line;
        }
      });
      resolve({ code, messages, stderr });
    }),
  );
  return { exited, running: () => child.exitCode === null && child.signalCode === null };
}

describe('instances starting together', { skip }, () => {
  let scratch: ScratchDatabase;
  let dataDir: string;
  before(async () => {
    scratch = await createScratchDatabase(process.env.DATABASE_URL!, 'teamspace_test');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-migrate-'));
  });
  after(async () => {
    await scratch?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('four instances migrating at once wait for the lock, all come up, and the migrations run once', async () => {
    const files = (await readdir(new URL('../migrations', import.meta.url))).filter((f) => f.endsWith('.sql'));
    // The test holds the migration lock while the four start, so all four are certainly contending for it (a race
    // left to timing passes by luck): with node-pg-migrate's default they would exit at once.
    const holder = new pg.Client({ connectionString: scratch.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
      const runs = Array.from({ length: 4 }, () => migrateProcess(scratch.url, dataDir));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(runs.map((r) => r.running()), [true, true, true, true], 'all four wait for the lock');
      await holder.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]);
      const results = await Promise.all(runs.map((r) => r.exited));
      for (const result of results) assert.equal(result.code, 0, `an instance failed to start: ${result.stderr}`);
      const messages = results.map((r) => r.messages.find((m) => /migrations|up to date/.test(m)));
      assert.equal(messages.filter((m) => m?.startsWith('applied migrations:')).length, 1, `one applied: ${messages}`);
      assert.equal(messages.filter((m) => m === 'database schema is up to date').length, 3, `three found it done: ${messages}`);
      const applied = await holder.query<{ name: string; n: number }>(
        'SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name',
      );
      assert.deepEqual(applied.rows, files.sort().map((f) => ({ name: f.replace(/\.sql$/, ''), n: 1 })), 'each migration once');
    } finally {
      await holder.end();
    }
  });

  it('the lock is real: node-pg-migrate\'s default mode refuses while it is held', async () => {
    const holder = new pg.Client({ connectionString: scratch.url });
    const other = new pg.Client({ connectionString: scratch.url });
    await Promise.all([holder.connect(), other.connect()]);
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
      const options = {
        dbClient: other, dir: 'schema/migrations', direction: 'up' as const, migrationsTable: 'schema_migrations',
        log: () => {},
      };
      await assert.rejects(runner(options), /Another migration is already running/);
      // Positive control: the same run once the lock is free.
      await holder.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]);
      assert.ok(Array.isArray(await runner(options)), 'it runs once the lock is free');
    } finally {
      await Promise.all([holder.end(), other.end()]);
    }
  });
});
