// `npm run bench:sfu`: how many consumers one mediasoup worker forwards before it saturates, the packets per
// second it then forwards and its memory per consumer, for a call set up by our server and for a bare router on
// the same worker binary, in one run. Human-readable lines first; the last line is one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TestServer } from '../../server/test/harness.ts';
import { joinCall, rtcConnect, type RtcClient } from '../../sfu/test/rtc-client.ts';
import { childProcesses, runBench, type Child } from '../shared/child.ts';
import { envInt, serverEnv, setUp } from '../shared/setup.ts';
import { round } from '../shared/stats.ts';
import { cpuSeconds, rssBytes, startLoad, udpDrops, type Load, type Mark } from './load.ts';

const TARGET_RATIO = 0.9;
/** How late a packet may reach the sink and still count: about what a receiver's jitter buffer waits. */
const DRAIN_MS = 300;

const senders = envInt('BENCH_SENDERS', 2);
const producerCount = senders * 2;
// Counts are whole listeners (one consumer of every producer each), so the audio/video mix never changes.
const wholeListeners = (n: number) => Math.max(producerCount, Math.ceil(n / producerCount) * producerCount);
const stepCounts = [...new Set((process.env.BENCH_STEPS ?? '40,100,200,400,800,1600,3200').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1 || n > 20_000) throw new Error('BENCH_STEPS: a list of consumer counts, 1..20000');
  return wholeListeners(n);
}))].sort((a, b) => a - b);
const resolutionPct = envInt('BENCH_RESOLUTION', 5);
const stepSeconds = envInt('BENCH_STEP_SECONDS', 4);
const warmupSeconds = envInt('BENCH_WARMUP_SECONDS', 2);
const rounds = envInt('BENCH_ROUNDS', 2);
const videoPps = envInt('BENCH_VIDEO_PPS', 200);
const tries = envInt('BENCH_TRIES', 2);
const cpuLimitPct = envInt('BENCH_CPU_LIMIT', 90);
const minDeliveredPct = envInt('BENCH_MIN_DELIVERED', 99);
const here = path.dirname(fileURLToPath(import.meta.url));
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface Step {
  consumers: number;
  /** The worker's CPU (user + system) in % of one core. */
  cpu_pct: number;
  /** RTP packets of the consumers that reached the sink's socket, per second of generator ticks. */
  pps: number;
  expected_pps: number;
  /** Reached / sent by the generator times the consumers of each stream. */
  delivered: number;
  worker_rss_bytes: number;
  cpu_us_per_packet: number;
  /** The target's Node process (ours: the whole server) and this process (generator and sink). */
  node_cpu_pct: number;
  load_cpu_pct: number;
  /** Datagrams the kernel dropped at the sink (this process behind; counted as reached) and at the producers' sockets. */
  sink_drops: number;
  ingress_drops: number;
  /** Consumers that forwarded nothing in the window (video ones wait for a keyframe). */
  silent_consumers: number;
  /** Windows measured until one passed (at most BENCH_TRIES). */
  windows: number;
  ok: boolean;
}

interface Run {
  round: number;
  max_consumers: number;
  /** Why the step above max_consumers failed; null when no step did. */
  saturated_by: 'cpu' | 'loss' | 'cpu+loss' | null;
  at_max: Step | undefined;
  rss_before_bytes: number;
  memory_per_consumer_bytes: number;
  memory_measured_at: number;
  steps: Step[];
}

/** A running target: its child, and the ports of its producer transports. */
interface Opened {
  name: 'ours' | 'bare';
  child: Child;
  ports: number[];
  close(): Promise<void>;
}

const children = childProcesses(here);
const clients = new Set<RtcClient>();
let load: Load | undefined;
let dataDir: string | undefined;
const cleanup = async () => {
  for (const c of clients) c.close();
  load?.close();
  await children.stopAll();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
};

let ourEnv: NodeJS.ProcessEnv;
let team: { token: string; channelId: string } | undefined;

/**
 * Our server with one worker; one signaling client per sender joins the call over /rtc, which makes our code
 * open the room (router, observers), and the child hands the generator's producers to the room as theirs.
 */
async function openOurs(): Promise<Opened> {
  const child = await children.start('server-child.ts', ourEnv);
  if (!team) {
    const { token, channelIds } = await setUp(child.url, 'VOICE', 1);
    team = { token, channelId: channelIds[0]! };
  }
  const joined: RtcClient[] = [];
  const peerIds: string[] = [];
  for (let s = 0; s < senders; s++) {
    const client = await rtcConnect({ url: child.url } as TestServer, team.token, team.channelId);
    clients.add(client);
    joined.push(client);
    peerIds.push((await joinCall(client, `sender ${s}`)).peer_id);
  }
  const { ports } = await child.ask('feed', JSON.stringify({ senders, channel_id: team.channelId, peer_ids: peerIds }));
  return {
    name: 'ours', child, ports: ports as number[],
    async close() {
      // Proof that the room's observers read the generator's audio: what they told the signaling clients.
      const told = (method: string, match = (_data: any) => true) =>
        joined.reduce((n, c) => n + c.notifications.filter((x) => x.method === method && match(x.data)).length, 0);
      console.log(`ours: the signaling clients were sent ${told('audioLevels', (d) => d.levels.length)} audioLevels` +
        ` with levels (of ${told('audioLevels')})` +
        ` and ${told('activeSpeaker')} activeSpeaker`);
      for (const c of joined) {
        c.close();
        clients.delete(c);
      }
      await children.stop(child);
    },
  };
}

async function openBare(): Promise<Opened> {
  const child = await children.start('baseline-child.ts', { ...process.env, NODE_ENV: 'production', DATA_DIR: dataDir });
  const { ports } = await child.ask('feed', JSON.stringify({ senders }));
  return { name: 'bare', child, ports: ports as number[], close: () => children.stop(child) };
}

/** The kernel's counters of the target's worker and Node process, this process and the sockets. */
function counters(target: Opened) {
  return {
    worker: cpuSeconds(Number(target.child.info.worker_pid)),
    node: cpuSeconds(Number(target.child.info.pid)),
    self: process.cpuUsage(),
    sinkDrops: udpDrops([load!.sinkPort]),
    ingressDrops: udpDrops(target.ports),
  };
}

/**
 * One window of generator ticks: the worker's CPU over it, and the packets of those ticks that reached the sink,
 * late ones included up to DRAIN_MS after its end.
 */
async function oneWindow(target: Opened, ssrcs: number[][]): Promise<Step> {
  const a: Mark = await load!.begin();
  const before = counters(target);
  await sleep(stepSeconds * 1000);
  const b: Mark = await load!.end();
  const after = counters(target);
  await sleep(DRAIN_MS);
  const { received, perConsumer } = load!.counted();
  const seconds = (b.at - a.at) / 1000;
  const expected = ssrcs.reduce((sum, list, i) => sum + (b.sent[i]! - a.sent[i]!) * list.length, 0);
  // Drops at the sink are this process falling behind, not the worker: they count as reached.
  const sinkDrops = after.sinkDrops - before.sinkDrops;
  const reached = received + sinkDrops;
  const cpu = after.worker - before.worker;
  const self = process.cpuUsage(before.self);
  const step: Step = {
    consumers: perConsumer.length,
    cpu_pct: round((cpu / seconds) * 100, 1),
    pps: Math.round(reached / seconds),
    expected_pps: Math.round(expected / seconds),
    delivered: round(reached / expected, 4),
    worker_rss_bytes: rssBytes(Number(target.child.info.worker_pid)),
    cpu_us_per_packet: round((cpu * 1e6) / reached, 2),
    node_cpu_pct: round(((after.node - before.node) / seconds) * 100, 1),
    load_cpu_pct: round(((self.user + self.system) / 1e6 / seconds) * 100, 1),
    sink_drops: sinkDrops,
    ingress_drops: after.ingressDrops - before.ingressDrops,
    silent_consumers: perConsumer.filter((n) => n === 0).length,
    windows: 1,
    ok: false,
  };
  step.ok = step.cpu_pct < cpuLimitPct && step.delivered * 100 >= minDeliveredPct;
  return step;
}

/**
 * `count` consumers, set up while the generator pauses (a saturated worker answers requests late), then a
 * warm-up (keyframes, retransmission buffers filling), then up to BENCH_TRIES windows until one passes: a
 * neighbour taking the CPU only ever makes a window worse, so the best one shows the worker.
 */
async function measure(target: Opened, count: number): Promise<Step> {
  load!.feed(undefined);
  const { ssrcs } = (await target.child.ask('consume', JSON.stringify({ count, port: load!.sinkPort }))) as { ssrcs: number[][] };
  load!.expect(ssrcs);
  load!.feed(target.ports);
  await sleep(warmupSeconds * 1000);
  let best: Step | undefined;
  for (let i = 1; i <= tries && !best?.ok; i++) {
    const step = await oneWindow(target, ssrcs);
    step.windows = i;
    if (!best || step.ok || step.delivered > best.delivered) best = step;
  }
  return best!;
}

function describe(name: string, r: number, s: Step): string {
  return `${name} round ${r} ${String(s.consumers).padStart(5)} consumers: worker ${String(s.cpu_pct).padStart(5)}% cpu,` +
    ` ${String(s.pps).padStart(7)} pps of ${s.expected_pps} (${(s.delivered * 100).toFixed(2)}%), ${s.cpu_us_per_packet} µs/packet,` +
    ` rss ${mib(s.worker_rss_bytes)}; node ${s.node_cpu_pct}%, load ${s.load_cpu_pct}%` +
    (s.sink_drops ? `, sink drops ${s.sink_drops}` : '') + (s.ingress_drops ? `, ingress drops ${s.ingress_drops}` : '') +
    (s.silent_consumers ? `, ${s.silent_consumers} silent` : '') + (s.windows > 1 ? `, window ${s.windows}` : '') +
    (s.ok ? '' : '  SATURATED');
}

/** One target's search in a round: the climb through BENCH_STEPS, then the bisection. */
interface Search {
  name: 'ours' | 'bare';
  target: Opened;
  rssBefore: number;
  steps: Step[];
  good?: Step;
  bad?: Step;
  /** The last good step of the climb (or the first step): where memory is read. */
  memory?: Step;
}

/**
 * The next consumer count of a search, or undefined when it is done: BENCH_STEPS up to the first saturated step
 * (CPU at the limit, or too little delivered), then bisection between the last good step and the first bad one
 * until they are BENCH_RESOLUTION % apart.
 */
function next(search: Search): number | undefined {
  const { good, bad } = search;
  if (!bad) return stepCounts[search.steps.length];
  const low = good?.consumers ?? 0;
  if (bad.consumers - low <= Math.max(producerCount, (low * resolutionPct) / 100)) return undefined;
  return wholeListeners((low + bad.consumers) / 2);
}

async function advance(search: Search, r: number, count: number): Promise<void> {
  const step = await measure(search.target, count);
  console.log(describe(search.name, r, step));
  search.steps.push(step);
  const climbing = !search.bad;
  if (step.ok) search.good = step;
  else search.bad = step;
  // Memory from the climb only: the allocator keeps what closed consumers freed, so after a smaller step
  // the worker's RSS stays at its high-water mark.
  if (climbing) search.memory = search.good ?? search.steps[0];
}

/**
 * One round on fresh processes (a clean heap for the memory figure), both targets running; the two searches go
 * in lockstep, one step of each in turn, so that a neighbour's burst of load falls on both alike.
 */
async function runRound(r: number): Promise<Record<'ours' | 'bare', Run>> {
  const searches: Search[] = [];
  try {
    for (const open of [openBare, openOurs]) {
      const target = await open();
      searches.push({ name: target.name, target, rssBefore: 0, steps: [] });
    }
    for (const search of searches) {
      load!.feed(search.target.ports);
      await sleep(warmupSeconds * 1000);
      search.rssBefore = rssBytes(Number(search.target.child.info.worker_pid));
    }
    for (let turn = 0; ; turn++) {
      // Each target goes first every other turn, so neither always runs just after the other's heavier load.
      const order = turn % 2 ? [...searches].reverse() : searches;
      let moved = false;
      for (const search of order) {
        const count = next(search);
        if (count === undefined) continue;
        await advance(search, r, count);
        moved = true;
      }
      if (!moved) break;
    }
    const run = (search: Search): Run => ({
      round: r,
      max_consumers: search.good?.consumers ?? 0,
      saturated_by: !search.bad ? null
        : search.bad.cpu_pct >= cpuLimitPct && search.bad.delivered * 100 < minDeliveredPct ? 'cpu+loss'
        : search.bad.cpu_pct >= cpuLimitPct ? 'cpu' : 'loss',
      at_max: search.good,
      rss_before_bytes: search.rssBefore,
      memory_per_consumer_bytes: Math.round((search.memory!.worker_rss_bytes - search.rssBefore) / search.memory!.consumers),
      memory_measured_at: search.memory!.consumers,
      steps: search.steps,
    });
    return { bare: run(searches[0]!), ours: run(searches[1]!) };
  } finally {
    load!.feed(undefined);
    for (const search of searches) await search.target.close();
  }
}

/**
 * Ours' CPU per forwarded packet over bare's, for each consumer count both measured in the same round (good
 * steps only: a saturated worker's cost per packet says little): the median, and how many pairs.
 */
function pairedCostRatio(results: Record<'ours' | 'bare', Run>[]): { median: number | null; pairs: number } {
  const ratios: number[] = [];
  for (const { ours, bare } of results) {
    for (const o of ours.steps) {
      const b = bare.steps.find((s) => s.consumers === o.consumers && s.ok);
      if (o.ok && b) ratios.push(o.cpu_us_per_packet / b.cpu_us_per_packet);
    }
  }
  ratios.sort((a, b) => a - b);
  return { median: ratios.length ? round(ratios[Math.floor(ratios.length / 2)]!, 3) : null, pairs: ratios.length };
}

/** The best round (most consumers, then most packets): noise on a shared machine only ever lowers a round. */
function summary(runs: Run[]) {
  const best = runs.reduce((a, b) =>
    b.max_consumers > a.max_consumers || (b.max_consumers === a.max_consumers && (b.at_max?.pps ?? 0) > (a.at_max?.pps ?? 0)) ? b : a);
  return {
    max_consumers: best.max_consumers,
    saturated_by: best.saturated_by,
    pps: best.at_max?.pps ?? 0,
    cpu_pct: best.at_max?.cpu_pct ?? 0,
    cpu_us_per_packet: best.at_max?.cpu_us_per_packet ?? 0,
    worker_rss_bytes: best.at_max?.worker_rss_bytes ?? 0,
    memory_per_consumer_bytes: best.memory_per_consumer_bytes,
    memory_measured_at: best.memory_measured_at,
    rss_before_bytes: best.rss_before_bytes,
    rounds_max_consumers: runs.map((x) => x.max_consumers),
    rounds_pps: runs.map((x) => x.at_max?.pps ?? 0),
    best_round: best.round,
    steps: best.steps,
  };
}

await runBench('sfu', async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-bench-'));
  // Every sender is one account's connection, and consumers are made as fast as the server allows: the per-user
  // call caps and rate (meant for people) are lifted so they do not limit the measurement.
  ourEnv = serverEnv(dataDir, undefined, {
    SFU_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1',
    SFU_MAX_CONNECTIONS_PER_USER: String(senders + 2), SFU_MAX_PEERS_PER_USER_PER_ROOM: String(senders),
    SFU_MAX_TRANSPORTS_PER_USER: String(4 * senders), SFU_USER_REQUESTS_PER_SECOND: '100000',
  });
  load = await startLoad(senders, videoPps);
  const [audioPps, streamVideoPps] = load.pps as [number, number];
  console.log(`${senders} senders, each Opus ${audioPps} pps + VP8 ${streamVideoPps} pps; consumers in listeners of` +
    ` ${producerCount} (one of each stream, ${(audioPps + streamVideoPps) / 2} pps per consumer on average); steps` +
    ` ${stepCounts.join(', ')}, then bisected to ${resolutionPct}%; ${warmupSeconds} s warm-up + ${stepSeconds} s per step;` +
    ` saturated at ${cpuLimitPct}% worker cpu or < ${minDeliveredPct}% delivered; ${os.availableParallelism()} cores`);

  const results: Record<'ours' | 'bare', Run>[] = [];
  for (let r = 1; r <= rounds; r++) results.push(await runRound(r));
  const ours = summary(results.map((x) => x.ours));
  const bare = summary(results.map((x) => x.bare));
  const paired = pairedCostRatio(results);
  const ratio = (a: number, b: number) => (b ? round(a / b, 3) : null);
  const ratios = {
    max_consumers: ratio(ours.max_consumers, bare.max_consumers),
    pps: ratio(ours.pps, bare.pps),
    memory_per_consumer: ratio(ours.memory_per_consumer_bytes, bare.memory_per_consumer_bytes),
    // At the same consumer counts in the same rounds (the figures at each one's maximum are at different counts).
    cpu_us_per_packet: paired.median,
    cpu_pairs: paired.pairs,
  };
  const targetMet = (ratios.max_consumers ?? 0) >= TARGET_RATIO && (ratios.pps ?? 0) >= TARGET_RATIO;
  for (const [name, s] of [['ours', ours], ['bare', bare]] as const) {
    console.log(`${name}: ${s.max_consumers} consumers before saturation (${s.saturated_by ?? 'never saturated'}),` +
      ` ${s.pps} pps at ${s.cpu_pct}% cpu, ${s.cpu_us_per_packet} µs/packet; ${(s.memory_per_consumer_bytes / 1024).toFixed(0)} KiB` +
      ` rss per consumer (at ${s.memory_measured_at}); rounds ${s.rounds_max_consumers.join(', ')}`);
  }
  console.log(`ours/bare: consumers ${ratios.max_consumers}, pps ${ratios.pps}, memory ${ratios.memory_per_consumer},` +
    ` cpu per packet ${ratios.cpu_us_per_packet} (median of ${paired.pairs} same-count pairs) (target >= ${TARGET_RATIO} on consumers and pps: ${targetMet ? 'met' : 'MISSED'})`);
  console.log(JSON.stringify({
    bench: 'sfu', senders, audio_pps: audioPps, video_pps: streamVideoPps, step_seconds: stepSeconds,
    warmup_seconds: warmupSeconds, rounds, resolution_pct: resolutionPct, tries, cpu_limit_pct: cpuLimitPct, min_delivered_pct: minDeliveredPct,
    cores: os.availableParallelism(), ours, bare, ratios, target_ratio: TARGET_RATIO, target_met: targetMet,
  }));
}, cleanup);
