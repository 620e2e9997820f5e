// `npm run bench:api`: req/s and latency of an authenticated GET /api/groups on our real server against a bare
// express 5 handler answering the same JSON body. Human-readable lines first; the last line is one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { childProcesses, runBench } from '../shared/child.ts';
import { call, envInt, serverEnv } from '../shared/setup.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../core/index.ts';

const TARGET_RATIO = 1 / 3;
const WARMUP_SECONDS = 2;

const duration = envInt('BENCH_DURATION', 10);
const rounds = envInt('BENCH_ROUNDS', 2);
const connections = envInt('BENCH_CONNECTIONS', 50);
const here = path.dirname(fileURLToPath(import.meta.url));

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

let current: autocannon.Instance | undefined;

async function load(url: string, token: string | undefined, seconds: number): Promise<Run> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  // The callback form, because only it hands back an instance that SIGINT can stop.
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    current = autocannon({ url: `${url}/api/groups`, connections, duration: seconds, headers }, (err, result) =>
      err ? reject(err) : resolve(result));
  });
  current = undefined;
  return {
    rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx,
  };
}

/** Registers a user, logs in, creates a few groups; returns the token and the list body as served. */
async function setUp(base: string): Promise<{ token: string; body: string }> {
  const username = `bench${process.pid}`;
  const password = 'a long enough benchmark passphrase';
  await call(`${base}/api/auth/register`, { method: 'POST', json: { username, email: `${username}@example.test`, password } });
  const login = JSON.parse(await call(`${base}/api/auth/token`, { method: 'POST', form: { username, password } }));
  const token: string = login.access_token;
  for (let i = 1; i <= 5; i++) {
    await call(`${base}/api/groups`, { method: 'POST', token, json: { name: `Team ${i}`, description: `Benchmark group ${i}` } });
  }
  return { token, body: await call(`${base}/api/groups`, { token }) };
}

const children = childProcesses(here);
let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
const cleanup = async () => {
  current?.stop();
  await children.stopAll();
  if (scratch) await scratch.drop().catch((err) => console.error(`dropping the scratch database failed: ${err}`));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
};

await runBench('api', async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-bench-'));
  if (process.env.DATABASE_URL) scratch = await createScratchDatabase(process.env.DATABASE_URL, 'teamspace_bench');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete childEnv.DATABASE_URL;
  const ours = await children.start('server-child.ts', serverEnv(dataDir, scratch?.url), process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`] : []);
  const database = String(ours.info.database);
  const { token, body } = await setUp(ours.url);
  const bare = await children.start('baseline-child.ts', { ...childEnv, BENCH_BODY: body });
  // Both must answer byte-for-byte the same body, or the comparison means nothing.
  if ((await call(`${bare.url}/api/groups`, {})) !== body) throw new Error('baseline body differs from ours');

  console.log(`database: ${database}; ${connections} connections, ${rounds} rounds of ${duration} s, ${body.length} B body`);
  await load(bare.url, undefined, WARMUP_SECONDS);
  await load(ours.url, token, WARMUP_SECONDS);
  const runs: { baseline: Run[]; ours: Run[] } = { baseline: [], ours: [] };
  // Alternate the two so that machine noise hits both alike.
  for (let round = 1; round <= rounds; round++) {
    for (const [name, child, auth] of [['baseline', bare, undefined], ['ours', ours, token]] as const) {
      const run = await load(child.url, auth, duration);
      runs[name].push(run);
      console.log(`round ${round} ${name.padEnd(8)} ${run.rps.toFixed(0).padStart(7)} req/s  p50 ${run.p50} ms  p99 ${run.p99} ms` +
        (run.errors + run.non2xx ? `  errors ${run.errors} timeouts ${run.timeouts} non2xx ${run.non2xx}` : ''));
    }
  }

  // The best round of each: noise on a 2-core machine only ever slows a run down.
  const best = (list: Run[]) => list.reduce((a, b) => (b.rps > a.rps ? b : a));
  const sum = (list: Run[], key: 'errors' | 'timeouts' | 'non2xx') => list.reduce((n, r) => n + r[key], 0);
  const summary = (list: Run[]) => ({
    rps: Math.round(best(list).rps), p50_ms: best(list).p50, p99_ms: best(list).p99,
    rounds_rps: list.map((r) => Math.round(r.rps)),
    errors: sum(list, 'errors'), timeouts: sum(list, 'timeouts'), non2xx: sum(list, 'non2xx'),
  });
  const baseline = summary(runs.baseline);
  const ourSummary = summary(runs.ours);
  const ratio = ourSummary.rps / baseline.rps;
  const clean = [baseline, ourSummary].every((s) => s.errors + s.non2xx === 0);
  console.log(`ours/baseline = ${ratio.toFixed(3)} (target >= ${TARGET_RATIO.toFixed(3)})${clean ? '' : '; RUN HAD ERRORS'}`);
  console.log(JSON.stringify({
    bench: 'api', endpoint: 'GET /api/groups', database, connections, duration_s: duration, rounds, body_bytes: body.length,
    baseline, ours: ourSummary, ratio: Number(ratio.toFixed(3)), target_ratio: Number(TARGET_RATIO.toFixed(3)),
    target_met: clean && ratio >= TARGET_RATIO, errors: !clean,
  }));
}, cleanup);
