// `npm run bench:collab`: the collaboration server (/collab) against bare Hocuspocus in the same run: edit
// propagation latency, acknowledged updates per second, memory per document and after churn, and the cold load
// of a real document from the database. Human-readable lines first; the last line is one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import { createScratchDatabase, type ScratchDatabase } from '../../server/index.ts';
import { loadTrace, replay } from '../../collab/test/traces.ts';
import { envInt, inBatches, serverEnv, setUp } from '../shared/setup.ts';
import { childProcesses, runBench, type Child } from '../shared/child.ts';
import { median, percentile, round } from '../shared/stats.ts';
import { acked, collabUrl, connect, type BenchClient } from './clients.ts';

const TARGET_P99_RATIO = 1.5;
const TARGET_COLD_MS = 300;
// "Back near the baseline": heapUsed after the churn within this much of before it (GC'd both times); 1 MiB over
// 1,000 documents would be a leak of 1 KiB each. Run-to-run noise measured here is 0.1-0.3 MiB.
const MEMORY_SLACK = (before: number) => Math.max(1024 * 1024, before * 0.025);

const clientCounts = (process.env.BENCH_CLIENTS ?? '10,100,500').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 2 || n > 2000) throw new Error('BENCH_CLIENTS: a list of client counts, 2..2000');
  return n;
});
const duration = envInt('BENCH_DURATION', 5);
const writers = envInt('BENCH_WRITERS', 4);
const idleDocs = envInt('BENCH_DOCS', 200);
const churnDocs = envInt('BENCH_CHURN', 1000);
const coldRuns = envInt('BENCH_COLD_RUNS', 5);
const rounds = envInt('BENCH_ROUNDS', 3);
const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface Target {
  name: 'ours' | 'bare';
  child: Child;
  url: string;
}

// Children alive now (ours is replaced on restarts); all are stopped at the end, also on Ctrl-C.
const children = childProcesses(here);
const open = new Set<BenchClient>();
let scratch: ScratchDatabase | undefined;
let dataDir: string | undefined;
const cleanup = async () => {
  for (const c of open) c.close();
  await children.stopAll();
  if (scratch) await scratch.drop().catch((err) => console.error(`dropping the scratch database failed: ${err}`));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
};

// --expose-gc so that memory is read after full collections.
const start = (script: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []) =>
  children.start(script, env, ['--expose-gc', ...nodeArgs]);
const stop = (child: Child) => children.stop(child);

async function client(target: Target, name: string, token: string, flushDelay?: number): Promise<BenchClient> {
  const c = await connect(target.url, name, token, { flushDelay });
  open.add(c);
  return c;
}

function closeAll(clients: BenchClient[]): void {
  for (const c of clients) {
    c.close();
    open.delete(c);
  }
}

/** Waits (bounded) until the server holds no documents: stored and unloaded. */
async function drained(target: Target, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await target.child.ask('docs')).documents !== 0) {
    if (Date.now() > deadline) throw new Error(`${target.name}: documents still loaded after ${ms} ms`);
    await sleep(50);
  }
}

interface Latency {
  p50_ms: number;
  p99_ms: number;
  samples: number;
  missed: number;
}

/**
 * One writer makes `edits` small edits, 20-50 ms apart, each setting a sequence number in a Y.Map; every other
 * client notes, on its 'update' event, how long after the writer's transaction the edit arrived. All clients
 * live in this process, so one clock serves all.
 */
async function propagation(target: Target, name: string, token: string, count: number, edits: number): Promise<Latency> {
  const clients = await inBatches([...Array(count).keys()], 25, () => client(target, name, token));
  try {
    const [writer, ...readers] = clients as [BenchClient, ...BenchClient[]];
    const warmup = 5;
    const sentAt: number[] = [];
    const samples: number[] = [];
    const arrivals = new Uint32Array(warmup + edits + 1);
    for (const reader of readers) {
      const map = reader.doc.getMap<number>('bench');
      let last = 0;
      reader.doc.on('update', () => {
        const seq = map.get('seq');
        if (seq === undefined || seq <= last) return;
        last = seq;
        arrivals[seq]!++;
        if (seq > warmup) samples.push(performance.now() - sentAt[seq]!);
      });
    }
    const text = writer.doc.getText('text');
    const map = writer.doc.getMap<number>('bench');
    for (let seq = 1; seq <= warmup + edits; seq++) {
      sentAt[seq] = performance.now();
      writer.doc.transact(() => {
        text.insert(text.length, `edit ${seq} `);
        map.set('seq', seq);
      });
      await sleep(20 + Math.random() * 30);
    }
    const deadline = Date.now() + 30_000;
    while (arrivals[warmup + edits]! < readers.length && Date.now() < deadline) await sleep(20);
    samples.sort((a, b) => a - b);
    return {
      p50_ms: round(percentile(samples, 0.5)), p99_ms: round(percentile(samples, 0.99)), samples: samples.length,
      missed: readers.length * edits - samples.length,
    };
  } finally {
    closeAll(clients);
  }
}

/** `writers` clients on one document, each sending its next small edit as soon as the last one is acknowledged. */
async function throughput(target: Target, name: string, token: string, seconds: number): Promise<number> {
  const clients = await inBatches([...Array(writers).keys()], writers, () => client(target, name, token));
  try {
    const run = async (ms: number) => {
      const end = performance.now() + ms;
      const counts = await Promise.all(clients.map(async (c, i) => {
        const map = c.doc.getMap<number>('counters');
        let n = 0;
        while (performance.now() < end) {
          map.set(`w${i}`, n);
          await acked(c.provider, 10_000);
          n++;
        }
        return n;
      }));
      return counts.reduce((a, b) => a + b, 0);
    };
    await run(1000);
    const start = performance.now();
    const total = await run(seconds * 1000);
    return total / ((performance.now() - start) / 1000);
  } finally {
    closeAll(clients);
  }
}

interface Mem {
  rss: number;
  heapUsed: number;
}
const mem = async (target: Target): Promise<Mem> => {
  const m = await target.child.ask('mem');
  return { rss: Number(m.rss), heapUsed: Number(m.heapUsed) };
};

/**
 * The server's memory (after GC) before, with `idle` documents each held open by one idle client that wrote one
 * small edit, once those closed, and after `churn` more documents were each opened, edited once and closed.
 */
async function memory(target: Target, idle: string[], churn: string[], token: string) {
  const edit = async (name: string) => {
    const c = await client(target, name, token);
    c.doc.getText('text').insert(0, `hello ${name}`);
    await acked(c.provider);
    return c;
  };
  await drained(target);
  const before = await mem(target);
  const clients = await inBatches(idle, 25, edit);
  const loaded = await mem(target);
  closeAll(clients);
  await drained(target);
  const closed = await mem(target);
  await inBatches(churn, 20, async (name) => closeAll([await edit(name)]));
  await drained(target);
  const after = await mem(target);
  const slack = MEMORY_SLACK(before.heapUsed);
  return {
    before, loaded, closed, after,
    per_doc_heap_bytes: Math.round((loaded.heapUsed - before.heapUsed) / idle.length),
    per_doc_rss_bytes: Math.round((loaded.rss - before.rss) / idle.length),
    heap_delta_after_churn_bytes: after.heapUsed - before.heapUsed,
    rss_delta_after_churn_bytes: after.rss - before.rss,
    heap_slack_bytes: Math.round(slack),
    returned: after.heapUsed - before.heapUsed <= slack,
  };
}

/** Connect-to-synced time of a fresh client, checking that it got the whole document. */
async function timeSync(target: Target, name: string, token: string, expected: string): Promise<number> {
  const t0 = performance.now();
  const c = await client(target, name, token);
  const ms = performance.now() - t0;
  const got = c.doc.getText('paper').toString();
  closeAll([c]);
  if (got !== expected) throw new Error(`${target.name}: the loaded document differs from the trace`);
  return round(ms, 1);
}

await runBench('collab', async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-bench-'));
  if (process.env.DATABASE_URL) scratch = await createScratchDatabase(process.env.DATABASE_URL, 'teamspace_bench');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete childEnv.DATABASE_URL;
  // The rate limit guards against floods; here the flood is the point.
  const ourEnv = serverEnv(dataDir, scratch?.url, { COLLAB_MESSAGES_PER_SECOND: '1000000' });
  const ourArgs = process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`] : [];
  const startOurs = async (): Promise<Target> => {
    const child = await start('server-child.ts', ourEnv, ourArgs);
    return { name: 'ours', child, url: collabUrl(child.url) };
  };
  let ours = await startOurs();
  const bareChild = await start('baseline-child.ts', childEnv);
  const bare: Target = { name: 'bare', child: bareChild, url: collabUrl(bareChild.url) };
  const database = String(ours.child.info.database);

  // Documents: one per latency and throughput round, the idle and churned ones, one for the trace.
  const needed = (clientCounts.length + 1) * rounds + idleDocs + churnDocs + 1;
  const t0 = performance.now();
  const { token, channelIds } = await setUp(ours.child.url, 'DOC', needed);
  const docs = [...channelIds];
  const take = (n: number) => docs.splice(0, n);
  console.log(`database: ${database}; ${needed} DOC channels set up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Rounds alternate the two targets, and the best round of each counts: noise on a small machine only ever
  // slows a round down (the same rule as bench:api). Every round's p99 is in the JSON too.
  const latency: Record<string, { ours: Latency & { rounds_p99_ms: number[] }; bare: Latency & { rounds_p99_ms: number[] };
    p99_ratio: number; p99_diff_ms: number }> = {};
  for (const count of clientCounts) {
    // Fewer edits with many clients: every edit is count-1 deliveries handled in this one process.
    const edits = Math.max(30, Math.min(200, Math.round(20_000 / count)));
    const runs: { ours: Latency[]; bare: Latency[] } = { ours: [], bare: [] };
    for (let r = 0; r < rounds; r++) {
      const [name] = take(1) as [string];
      runs.bare.push(await propagation(bare, name, token, count, edits));
      runs.ours.push(await propagation(ours, name, token, count, edits));
    }
    const best = (list: Latency[]) => ({
      ...list.reduce((a, b) => (b.p99_ms < a.p99_ms ? b : a)), rounds_p99_ms: list.map((l) => l.p99_ms),
    });
    const o = best(runs.ours);
    const b = best(runs.bare);
    latency[count] = { ours: o, bare: b, p99_ratio: round(o.p99_ms / b.p99_ms), p99_diff_ms: round(o.p99_ms - b.p99_ms) };
    console.log(`latency ${String(count).padStart(4)} clients, ${edits} edits: ours p50 ${o.p50_ms} p99 ${o.p99_ms} ms` +
      ` | bare p50 ${b.p50_ms} p99 ${b.p99_ms} ms | p99 ratio ${latency[count].p99_ratio}` +
      ` (p99 per round: ours ${o.rounds_p99_ms.join(', ')}; bare ${b.rounds_p99_ms.join(', ')})` +
      (runs.ours.concat(runs.bare).some((l) => l.missed) ? ' | SOME EDITS NEVER ARRIVED' : ''));
  }

  const rates: { ours: number[]; bare: number[] } = { ours: [], bare: [] };
  for (let r = 0; r < rounds; r++) {
    const [name] = take(1) as [string];
    rates.bare.push(await throughput(bare, name, token, duration));
    rates.ours.push(await throughput(ours, name, token, duration));
  }
  const bareRate = Math.max(...rates.bare);
  const ourRate = Math.max(...rates.ours);
  console.log(`throughput, ${writers} writers, ${rounds} x ${duration} s: ours ${ourRate.toFixed(0)} | bare` +
    ` ${bareRate.toFixed(0)} acknowledged updates/s (${(ourRate / bareRate).toFixed(2)})`);

  const idle = take(idleDocs);
  const churn = take(churnDocs);
  const memOurs = await memory(ours, idle, churn, token);
  const memBare = await memory(bare, idle, churn, token);
  for (const [label, m] of [['ours', memOurs], ['bare', memBare]] as const) {
    console.log(`memory ${label}: ${idleDocs} idle docs ${(m.per_doc_heap_bytes / 1024).toFixed(1)} KiB heap` +
      ` / ${(m.per_doc_rss_bytes / 1024).toFixed(1)} KiB RSS each; heap ${mib(m.before.heapUsed)} before,` +
      ` ${mib(m.after.heapUsed)} after ${churnDocs} opened and closed (rss ${mib(m.before.rss)} -> ${mib(m.after.rss)})`);
  }

  // Cold load: the automerge-paper trace replayed into one document, then read by a fresh client from a freshly
  // started server each time. For scale, the same state synced from servers that hold it in memory already.
  const [paper] = take(1) as [string];
  const trace = loadTrace('automerge-paper.json.gz');
  const writer = await client(ours, paper, token, 20);
  const t1 = performance.now();
  await replay(trace, writer.doc.getText('paper'));
  await acked(writer.provider, 300_000);
  const replayMs = performance.now() - t1;
  if (writer.doc.getText('paper').toString() !== trace.endContent) throw new Error('replay did not reach the trace end');
  const state = Y.encodeStateAsUpdate(writer.doc);
  closeAll([writer]);
  await drained(ours);
  const stored = await ours.child.ask('stored', paper);
  const runs: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    await stop(ours.child);
    ours = await startOurs();
    runs.push(await timeSync(ours, paper, token, trace.endContent));
  }
  const warm = async (target: Target) => {
    const holder = await client(target, paper, token);
    try {
      if (target.name === 'bare') {
        Y.applyUpdate(holder.doc, state);
        await acked(holder.provider);
      }
      const times: number[] = [];
      for (let i = 0; i < coldRuns; i++) times.push(await timeSync(target, paper, token, trace.endContent));
      return times;
    } finally {
      closeAll([holder]);
    }
  };
  // Loaded from the database again, by a server that is warm (JIT, pool, caches): what a restart adds.
  const unloaded: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    await drained(ours);
    unloaded.push(await timeSync(ours, paper, token, trace.endContent));
  }
  const oursWarm = await warm(ours);
  const bareWarm = await warm(bare);
  const cold = {
    median_ms: median(runs), runs_ms: runs, target_ms: TARGET_COLD_MS, target_met: median(runs) < TARGET_COLD_MS,
    unloaded_median_ms: median(unloaded), ours_warm_median_ms: median(oursWarm), bare_warm_median_ms: median(bareWarm),
    stored_bytes: Number(stored.bytes), stored_rows: Number(stored.rows), state_bytes: state.length,
    text_chars: trace.endContent.length, replay_ms: Math.round(replayMs),
  };
  console.log(`cold load of automerge-paper (${cold.stored_bytes} B stored in ${cold.stored_rows} rows, state` +
    ` ${cold.state_bytes} B): median ${cold.median_ms} ms, runs ${runs.join(', ')} ms (target < ${TARGET_COLD_MS});` +
    ` warm server, unloaded document ${cold.unloaded_median_ms} ms; already loaded: ours ${cold.ours_warm_median_ms} ms,` +
    ` bare ${cold.bare_warm_median_ms} ms`);

  const targets = {
    latency_p99_ratio: Object.values(latency).every((l) => l.p99_ratio <= TARGET_P99_RATIO),
    memory_returns: memOurs.returned,
    cold_load: cold.target_met,
  };
  console.log(`targets: ${Object.entries(targets).map(([k, v]) => `${k} ${v ? 'met' : 'MISSED'}`).join(', ')}`);
  console.log(JSON.stringify({
    bench: 'collab', database, clients: clientCounts, duration_s: duration, rounds,
    latency, p99_ratio_target: TARGET_P99_RATIO,
    throughput: {
      writers, ours_updates_per_s: Math.round(ourRate), bare_updates_per_s: Math.round(bareRate),
      ratio: round(ourRate / bareRate), rounds_ours: rates.ours.map(Math.round), rounds_bare: rates.bare.map(Math.round),
    },
    memory: { idle_docs: idleDocs, churned_docs: churnDocs, ours: memOurs, bare: memBare },
    cold_load: cold,
    targets_met: targets,
    target_met: Object.values(targets).every(Boolean),
  }));
}, cleanup);
