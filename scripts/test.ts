// `npm test`: every *.test.ts file, first on embedded PGlite, then on the PostgreSQL at DATABASE_URL.
// Outside CI a missing PostgreSQL skips its round with a loud message; with CI=true it fails the run.
import { globSync } from 'node:fs';
import os from 'node:os';
import { inspect } from 'node:util';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import pg from 'pg';
import { ensureWebClient } from './build-web-client.ts';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const files = globSync('{core,server,schema,collab,sfu,ai,e2e,scripts}/**/*.test.ts').sort();
/** The web client's browser tests drive the app, not the storage: they run once, in the first round. */
const webClientTests = (file: string) => file.startsWith('e2e/web/');
const totals = { passed: 0, failed: 0 };
/** Each failed test with its error, printed again at the very end, where a CI log's tail shows it. */
const failures: string[] = [];
let missing = false;

function loud(message: string): void {
  const bar = '!'.repeat(78);
  process.stdout.write(`\n${bar}\n${message}\n${bar}\n\n`);
}

async function postgresReachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

async function round(db: 'pglite' | 'postgres'): Promise<void> {
  const roundFiles = db === 'pglite' ? files : files.filter((file) => !webClientTests(file));
  process.stdout.write(`\n=== ${roundFiles.length} test files on ${db} ===\n`);
  process.env.TEST_DB = db;
  // A test gives up after 3 minutes, and a file whose tests are done exits even if something it opened still
  // holds its event loop: a hung test fails the run instead of stalling it.
  const stream = run({
    files: roundFiles, concurrency: Math.max(1, os.availableParallelism()), isolation: 'process', timeout: 180_000, forceExit: true,
  });
  stream.on('test:pass', (t) => {
    if (t.details.type !== 'suite') totals.passed++;
  });
  stream.on('test:fail', (t) => {
    if (t.details.type === 'suite') return;
    totals.failed++;
    const error = t.details.error as Error & { cause?: unknown };
    const message = inspect(error.cause ?? error, { depth: 3 }).split('\n').slice(0, 25).join('\n');
    failures.push(`${db}: ${t.name} (${t.file}:${t.line})\n${message}`);
  });
  await new Promise<void>((resolve, reject) => {
    stream.compose(spec).pipe(process.stdout, { end: false }).on('error', reject);
    stream.on('end', resolve);
  });
}

// Built once here, so the browser tests running side by side do not each build it.
ensureWebClient();
await round('pglite');

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  missing = true;
  loud('Redis tests SKIPPED: REDIS_URL is not set.\nRun bash scripts/install-test-deps.sh, then add REDIS_URL=redis://127.0.0.1:6379');
}

const url = process.env.DATABASE_URL;
const install = 'bash scripts/install-test-deps.sh (as root on Debian/Ubuntu)';
if (!url) {
  missing = true;
  loud(`PostgreSQL round SKIPPED: DATABASE_URL is not set.\nRun ${install}, then\n` +
    `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm test`);
} else {
  const problem = await postgresReachable(url);
  if (problem) {
    missing = true;
    loud(`PostgreSQL round SKIPPED: cannot reach DATABASE_URL (${problem}).\nStart it with ${install}.`);
  } else {
    await round('postgres');
  }
}

if (failures.length) process.stdout.write(`\nFailed:\n${failures.join('\n\n')}\n`);
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed\n`);
if (missing && ci) process.stdout.write('CI=true: a missing component is a failure, not a skip.\n');
process.exitCode = totals.failed > 0 || totals.passed === 0 || (missing && ci) ? 1 : 0;
