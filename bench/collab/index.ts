// `npm run bench:collab`: the collaboration server (/collab) against bare Hocuspocus in the same run: edit
// propagation latency (ours also with its write rules' judging off), acknowledged updates per second, memory per
// document and after churn, the cold load of a real document from the database, and what validating one update
// costs on a small and a large channel. Every client writes valid page content (a DOC channel's paragraphs), so
// the rules refuse nothing. Human-readable lines first; the last line is one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import { createScratchDatabase, type ScratchDatabase } from '../../core/index.ts';
import { pageText, writeParagraph } from '../../collab/test/clients.ts';
import { loadTrace, replay } from '../../collab/test/traces.ts';
import { envInt, inBatches, serverEnv, setUp } from '../shared/setup.ts';
import { childProcesses, runBench, type Child } from '../shared/child.ts';
import { median, percentile, round } from '../shared/stats.ts';
import { acked, collabUrl, connect, refused, type BenchClient } from './clients.ts';
import { validationCost, type ValidationCost } from './validation.ts';

const TARGET_P99_RATIO = 1.5;
/** What validation may add to p99 latency: ours with the rules' judging on over ours with it off. */
const TARGET_VALIDATION_P99_RATIO = 1.2;
/** Validating an update on a 50,000-message channel against a 100-message one: a cost that follows the document would be ~500x. */
const TARGET_VALIDATION_SIZE_RATIO = 2;
const TARGET_COLD_MS = 100;
/** Acknowledged updates per second at 16 writers, ours over bare: appends are group-committed. */
const TARGET_THROUGHPUT_RATIO = 0.6;
const TARGET_THROUGHPUT_WRITERS = 16;
// "Back near the baseline": heapUsed after the churn within this much of before it (GC'd both times); 1 MiB over
// 1,000 documents would be a leak of 1 KiB each. Run-to-run noise measured here is 0.1-0.3 MiB.
const MEMORY_SLACK = (before: number) => Math.max(1024 * 1024, before * 0.025);

const counts = (variable: string, fallback: string, min: number) =>
  (process.env[variable] ?? fallback).split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < min || n > 2000) throw new Error(`${variable}: a list of client counts, ${min}..2000`);
    return n;
  });
const clientCounts = counts('BENCH_CLIENTS', '10,100,500', 2);
const writerCounts = counts('BENCH_WRITERS', '4,16,64', 1);
const duration = envInt('BENCH_DURATION', 5);
const idleDocs = envInt('BENCH_DOCS', 200);
const churnDocs = envInt('BENCH_CHURN', 1000);
const coldRuns = envInt('BENCH_COLD_RUNS', 5);
const rounds = envInt('BENCH_ROUNDS', 3);
const validationReps = envInt('BENCH_VALIDATION_REPS', 1000);
const PARTS = ['validation', 'latency', 'throughput', 'memory', 'cold'] as const;
/** The parts this run measures (`BENCH_ONLY`, e.g. `cold`): one part can be run alone while working on it. */
const only = new Set((process.env.BENCH_ONLY ?? PARTS.join(',')).split(',').map((s) => s.trim()));
for (const part of only) {
  if (!(PARTS as readonly string[]).includes(part)) throw new Error(`BENCH_ONLY: a list of ${PARTS.join(', ')}`);
}
const measures = (part: (typeof PARTS)[number]) => only.has(part);
const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface Target {
  name: 'ours' | 'bare' | 'ours, rules off';
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
 * One writer types `edits` small edits, 20-50 ms apart, at the end of a paragraph of the page (`edit 1 `,
 * `edit 2 `, …: the paragraph's length tells which edit a client has); every other client notes, on its 'update'
 * event, how long after the writer's transaction the edit arrived. All clients live in this process, so one
 * clock serves all.
 */
async function propagation(target: Target, name: string, token: string, count: number, edits: number): Promise<Latency> {
  const clients = await inBatches([...Array(count).keys()], 25, () => client(target, name, token));
  try {
    const [writer, ...readers] = clients as [BenchClient, ...BenchClient[]];
    const warmup = 5;
    const sentAt: number[] = [];
    const samples: number[] = [];
    const arrivals = new Uint32Array(warmup + edits + 1);
    const typed = (seq: number) => `edit ${seq} `;
    const seqAtLength = new Map<number, number>();
    for (let seq = 1, length = 0; seq <= warmup + edits; seq++) seqAtLength.set((length += typed(seq).length), seq);
    const text = writeParagraph(writer.doc, '');
    await acked(writer.provider);
    for (const reader of readers) {
      const page = reader.doc.getXmlFragment('default');
      let last = 0;
      reader.doc.on('update', () => {
        const paragraph = page.get(0);
        const seq = paragraph instanceof Y.XmlElement ? seqAtLength.get((paragraph.get(0) as Y.XmlText).length) : undefined;
        if (seq === undefined || seq <= last) return;
        last = seq;
        arrivals[seq]!++;
        if (seq > warmup) samples.push(performance.now() - sentAt[seq]!);
      });
    }
    for (let seq = 1; seq <= warmup + edits; seq++) {
      sentAt[seq] = performance.now();
      text.insert(text.length, typed(seq));
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

/**
 * `writers` clients on one document, each typing into its own paragraph: its next character as soon as the last
 * one is acknowledged.
 */
async function throughput(target: Target, name: string, token: string, seconds: number, writers: number): Promise<number> {
  const clients = await inBatches([...Array(writers).keys()], writers, () => client(target, name, token));
  try {
    const paragraphs = clients.map((c) => writeParagraph(c.doc, ''));
    await Promise.all(clients.map((c) => acked(c.provider)));
    const run = async (ms: number) => {
      const end = performance.now() + ms;
      const counts = await Promise.all(clients.map(async (c, i) => {
        const text = paragraphs[i]!;
        let n = 0;
        while (performance.now() < end) {
          text.insert(text.length, 'x');
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
    writeParagraph(c.doc, `hello ${name}`);
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
  const got = pageText(c.doc);
  closeAll([c]);
  if (got !== expected) throw new Error(`${target.name}: the loaded document differs from the trace`);
  return round(ms, 1);
}

await runBench('collab', async () => {
  // Validation cost first, in this process, before any child takes the CPU.
  const validation: ValidationCost[] = [];
  for (const messages of measures('validation') ? [100, 50_000] : []) {
    for (const [perUpdate, reps] of [[1, validationReps], [10, Math.max(50, Math.round(validationReps / 5))]] as const) {
      const v = validationCost(messages, perUpdate, reps);
      validation.push(v);
      console.log(`validation: ${String(messages).padStart(6)}-message channel, ${String(perUpdate).padStart(2)} new` +
        ` message(s) per update (${v.update_bytes} B), ${reps} updates: applyChecked median ${v.median_us} p99` +
        ` ${v.p99_us} µs | plain Y.applyUpdate median ${v.plain_median_us} p99 ${v.plain_p99_us} µs`);
    }
  }
  const oneMessage = (messages: number) => validation.find((v) => v.messages === messages && v.per_update === 1)!;
  const validationSizeRatio = measures('validation') ? round(oneMessage(50_000).median_us / oneMessage(100).median_us) : NaN;
  if (measures('validation')) {
    console.log(`validation: one new message on 50,000 messages costs ${validationSizeRatio}x what it costs on 100` +
      ` (target <= ${TARGET_VALIDATION_SIZE_RATIO})`);
  }

  dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-bench-'));
  if (process.env.DATABASE_URL) scratch = await createScratchDatabase(process.env.DATABASE_URL, 'teamspace_bench');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete childEnv.DATABASE_URL;
  // The rate limits and quotas guard against floods; here the flood is the point (one user makes every channel
  // and writes every edit).
  const ourEnv = serverEnv(dataDir, scratch?.url, {
    COLLAB_MESSAGES_PER_SECOND: '1000000', COLLAB_USER_BYTES_PER_MINUTE: '1000000000',
    COLLAB_GROUP_BYTES_PER_MINUTE: '1000000000', CHANNELS_PER_HOUR_PER_USER: '1000000', CHANNELS_PER_HOUR_PER_GROUP: '1000000',
  });
  const ourArgs = process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`] : [];
  const startOurs = async (): Promise<Target> => {
    const child = await start('server-child.ts', ourEnv, ourArgs);
    return { name: 'ours', child, url: collabUrl(child.url) };
  };
  let ours = await startOurs();
  const bareChild = await start('baseline-child.ts', childEnv);
  const bare: Target = { name: 'bare', child: bareChild, url: collabUrl(bareChild.url) };
  const database = String(ours.child.info.database);

  // Documents: two per latency and throughput round (rules on, rules off; bare reuses one), the idle and churned
  // ones, one for the trace.
  const needed = ((measures('latency') ? clientCounts.length : 0) + (measures('throughput') ? writerCounts.length : 0)) * 2 * rounds +
    (measures('memory') ? idleDocs + churnDocs : 0) + 1;
  const t0 = performance.now();
  const { token, channelIds } = await setUp(ours.child.url, 'DOC', needed);
  const docs = [...channelIds];
  const take = (n: number) => docs.splice(0, n);
  console.log(`database: ${database}; ${needed} DOC channels set up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Rounds alternate the targets (ours with the rules' judging off and on, in turns), and the best round of each
  // counts: noise on a small machine only ever slows a round down (the same rule as bench:api). Every round's p99
  // is in the JSON too.
  type Best = Latency & { rounds_p99_ms: number[]; rounds_missed: number[] };
  const latency: Record<string, { ours: Best; ours_rules_off: Best; bare: Best; p99_ratio: number; p99_diff_ms: number;
    validation_p99_ratio: number; validation_p99_diff_ms: number }> = {};
  /** Runs `work` against ours with its write rules judging (`on`) or accepting every change. */
  const judging = async <T>(on: boolean, work: (target: Target) => Promise<T>): Promise<T> => {
    if (on) return work(ours);
    await ours.child.ask('rules', 'off');
    try {
      return await work({ ...ours, name: 'ours, rules off' });
    } finally {
      await ours.child.ask('rules', 'on');
    }
  };
  for (const count of measures('latency') ? clientCounts : []) {
    // Fewer edits with many clients: every edit is count-1 deliveries handled in this one process.
    const edits = Math.max(30, Math.min(200, Math.round(20_000 / count)));
    const runs: { ours: Latency[]; off: Latency[]; bare: Latency[] } = { ours: [], off: [], bare: [] };
    for (let r = 0; r < rounds; r++) {
      const [name, other] = take(2) as [string, string];
      runs.bare.push(await propagation(bare, name, token, count, edits));
      for (const on of r % 2 ? [true, false] : [false, true]) {
        (on ? runs.ours : runs.off).push(await judging(on, (t) => propagation(t, on ? name : other, token, count, edits)));
      }
    }
    const best = (list: Latency[]): Best => ({
      ...list.reduce((a, b) => (b.p99_ms < a.p99_ms ? b : a)), rounds_p99_ms: list.map((l) => l.p99_ms),
      rounds_missed: list.map((l) => l.missed),
    });
    const o = best(runs.ours);
    const f = best(runs.off);
    const b = best(runs.bare);
    const l = (latency[count] = {
      ours: o, ours_rules_off: f, bare: b, p99_ratio: round(o.p99_ms / b.p99_ms), p99_diff_ms: round(o.p99_ms - b.p99_ms),
      validation_p99_ratio: round(o.p99_ms / f.p99_ms), validation_p99_diff_ms: round(o.p99_ms - f.p99_ms),
    });
    console.log(`latency ${String(count).padStart(4)} clients, ${edits} edits: ours p50 ${o.p50_ms} p99 ${o.p99_ms} ms` +
      ` | rules off p50 ${f.p50_ms} p99 ${f.p99_ms} ms | bare p50 ${b.p50_ms} p99 ${b.p99_ms} ms | p99 ratio to rules off` +
      ` ${l.validation_p99_ratio}, to bare ${l.p99_ratio} (p99 per round: ours ${o.rounds_p99_ms.join(', ')}; rules off` +
      ` ${f.rounds_p99_ms.join(', ')}; bare ${b.rounds_p99_ms.join(', ')})` +
      Object.entries({ ours: o, 'rules off': f, bare: b }).filter(([, x]) => x.rounds_missed.some(Boolean))
        .map(([label, x]) => ` | ${label}: SOME EDITS NEVER ARRIVED (per round ${x.rounds_missed.join(', ')})`).join(''));
  }

  // Acknowledged updates per second by writer count; rounds alternate the targets as above.
  const throughputs: Record<number, {
    ours_updates_per_s: number; rules_off_updates_per_s: number; bare_updates_per_s: number; ratio: number;
    rules_off_ratio: number; rounds_ours: number[]; rounds_rules_off: number[]; rounds_bare: number[];
  }> = {};
  for (const writers of measures('throughput') ? writerCounts : []) {
    const rates: { ours: number[]; off: number[]; bare: number[] } = { ours: [], off: [], bare: [] };
    for (let r = 0; r < rounds; r++) {
      const [name, other] = take(2) as [string, string];
      rates.bare.push(await throughput(bare, name, token, duration, writers));
      for (const on of r % 2 ? [true, false] : [false, true]) {
        (on ? rates.ours : rates.off).push(await judging(on, (t) => throughput(t, on ? name : other, token, duration, writers)));
      }
    }
    const bareRate = Math.max(...rates.bare);
    const ourRate = Math.max(...rates.ours);
    const offRate = Math.max(...rates.off);
    throughputs[writers] = {
      ours_updates_per_s: Math.round(ourRate), rules_off_updates_per_s: Math.round(offRate),
      bare_updates_per_s: Math.round(bareRate), ratio: round(ourRate / bareRate), rules_off_ratio: round(ourRate / offRate),
      rounds_ours: rates.ours.map(Math.round), rounds_rules_off: rates.off.map(Math.round), rounds_bare: rates.bare.map(Math.round),
    };
    console.log(`throughput, ${String(writers).padStart(2)} writers, ${rounds} x ${duration} s: ours ${ourRate.toFixed(0)} |` +
      ` rules off ${offRate.toFixed(0)} | bare ${bareRate.toFixed(0)} acknowledged updates/s (ours / bare` +
      ` ${(ourRate / bareRate).toFixed(2)}, ours / rules off ${(ourRate / offRate).toFixed(2)})`);
  }
  const targetThroughput = throughputs[TARGET_THROUGHPUT_WRITERS];

  const idle = take(measures('memory') ? idleDocs : 0);
  const churn = take(measures('memory') ? churnDocs : 0);
  const memOurs = measures('memory') ? await memory(ours, idle, churn, token) : undefined;
  const memBare = measures('memory') ? await memory(bare, idle, churn, token) : undefined;
  for (const [label, m] of memOurs && memBare ? [['ours', memOurs], ['bare', memBare]] as const : []) {
    console.log(`memory ${label}: ${idleDocs} idle docs ${(m.per_doc_heap_bytes / 1024).toFixed(1)} KiB heap` +
      ` / ${(m.per_doc_rss_bytes / 1024).toFixed(1)} KiB RSS each; heap ${mib(m.before.heapUsed)} before,` +
      ` ${mib(m.after.heapUsed)} after ${churnDocs} opened and closed (rss ${mib(m.before.rss)} -> ${mib(m.after.rss)})`);
  }

  // Cold load: the automerge-paper trace replayed into one document, then read by a fresh client from a freshly
  // started server each time. For scale, the same state synced from servers that hold it in memory already.
  const measureCold = async () => {
    const [paper] = take(1) as [string];
    const trace = loadTrace('automerge-paper.json.gz');
    const writer = await client(ours, paper, token, 20);
    const t1 = performance.now();
    await replay(trace, writeParagraph(writer.doc, ''));
    await acked(writer.provider, 300_000);
    const replayMs = performance.now() - t1;
    if (pageText(writer.doc) !== trace.endContent) throw new Error('replay did not reach the trace end');
    const state = Y.encodeStateAsUpdate(writer.doc);
    // Killed as soon as the last edit is acknowledged, so the log holds what the live thresholds left uncompacted
    // (no final store, no compaction on unload). Each run kills the server again before its client closes (which
    // would unload, and so compact, the document); then the same after an explicit compaction.
    const crash = async () => {
      await ours.child.ask('crash').catch(() => {});
      await stop(ours.child);
    };
    await crash();
    closeAll([writer]);
    const coldRunsOf = async () => {
      const runs: number[] = [];
      let stored: Record<string, unknown> = {};
      for (let i = 0; i < coldRuns; i++) {
        ours = await startOurs();
        const t0 = performance.now();
        const c = await client(ours, paper, token);
        runs.push(round(performance.now() - t0, 1));
        if (pageText(c.doc) !== trace.endContent) throw new Error('ours: the loaded document differs from the trace');
        if (i === 0) stored = await ours.child.ask('stored', paper);
        await crash();
        closeAll([c]);
      }
      return { runs, stored_bytes: Number(stored.bytes), stored_rows: Number(stored.rows) };
    };
    const fromLog = await coldRunsOf();
    ours = await startOurs();
    await ours.child.ask('compact', paper, 120_000);
    await crash();
    const compacted = await coldRunsOf();
    ours = await startOurs();
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
    const summary = (c: typeof fromLog) => ({ median_ms: median(c.runs), runs_ms: c.runs, stored_bytes: c.stored_bytes,
      stored_rows: c.stored_rows, target_met: median(c.runs) < TARGET_COLD_MS });
    const cold = {
      after_replay: summary(fromLog), compacted: summary(compacted), target_ms: TARGET_COLD_MS,
      target_met: median(fromLog.runs) < TARGET_COLD_MS && median(compacted.runs) < TARGET_COLD_MS,
      unloaded_median_ms: median(unloaded), ours_warm_median_ms: median(oursWarm), bare_warm_median_ms: median(bareWarm),
      state_bytes: state.length, text_chars: trace.endContent.length, replay_ms: Math.round(replayMs),
    };
    for (const [label, c] of [['right after the replay', cold.after_replay], ['after compaction', cold.compacted]] as const) {
      console.log(`cold load of automerge-paper ${label} (${c.stored_bytes} B stored in ${c.stored_rows} rows, state` +
        ` ${cold.state_bytes} B): median ${c.median_ms} ms, runs ${c.runs_ms.join(', ')} ms (target < ${TARGET_COLD_MS})`);
    }
    console.log(`load of automerge-paper by a warm server, unloaded document ${cold.unloaded_median_ms} ms; already` +
      ` loaded: ours ${cold.ours_warm_median_ms} ms, bare ${cold.bare_warm_median_ms} ms`);
    return cold;
  };
  const cold = measures('cold') ? await measureCold() : undefined;

  if (refused.changes) console.log(`REFUSED: the write rules refused ${refused.changes} changes (${[...refused.rules].join(', ')})`);
  const targets = {
    ...(measures('latency') ? {
      latency_p99_ratio: Object.values(latency).every((l) => l.p99_ratio <= TARGET_P99_RATIO),
      validation_p99_ratio: Object.values(latency).every((l) => l.validation_p99_ratio <= TARGET_VALIDATION_P99_RATIO),
    } : {}),
    ...(measures('validation') ? { validation_follows_update: validationSizeRatio <= TARGET_VALIDATION_SIZE_RATIO } : {}),
    nothing_refused: refused.changes === 0,
    ...(memOurs ? { memory_returns: memOurs.returned } : {}),
    ...(targetThroughput ? { throughput_ratio: targetThroughput.ratio >= TARGET_THROUGHPUT_RATIO } : {}),
    ...(cold ? { cold_load: cold.target_met } : {}),
  };
  console.log(`targets: ${Object.entries(targets).map(([k, v]) => `${k} ${v ? 'met' : 'MISSED'}`).join(', ')}`);
  console.log(JSON.stringify({
    bench: 'collab', database, parts: [...only], clients: clientCounts, duration_s: duration, rounds,
    latency, p99_ratio_target: TARGET_P99_RATIO, validation_p99_ratio_target: TARGET_VALIDATION_P99_RATIO,
    validation: {
      updates: validation, size_ratio: validationSizeRatio, size_ratio_target: TARGET_VALIDATION_SIZE_RATIO,
    },
    refused_changes: refused.changes,
    throughput: {
      by_writers: throughputs, ratio_target: TARGET_THROUGHPUT_RATIO, target_writers: TARGET_THROUGHPUT_WRITERS,
    },
    memory: { idle_docs: idleDocs, churned_docs: churnDocs, ours: memOurs, bare: memBare },
    cold_load: cold,
    targets_met: targets,
    target_met: Object.values(targets).every(Boolean),
  }));
}, cleanup);
