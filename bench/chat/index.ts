// `npm run bench:chat`: a chat channel of a million messages beside one of a thousand, in the same run, on our real
// server (a child process): its cold open by a new client (client and server side, bytes sent, heap), heap per open
// chat channel, a page of older messages deep in history over REST and over /collab, posting latency, and a
// rollover. Human-readable lines first; the last line is one JSON object.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chat, segmentName } from '../../collab/index.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../core/index.ts';
import { acked, collabUrl, connect, type BenchClient } from '../collab/clients.ts';
import { childProcesses, runBench, type Child } from '../shared/child.ts';
import { call, envInt, inBatches, serverEnv, setUp } from '../shared/setup.ts';
import { median, percentile, round } from '../shared/stats.ts';
import type { Landmark, Written } from './history.ts';

const TARGET_OPEN_RATIO = 1.5;
const TARGET_SERVER_LOAD_MS = 100;
const TARGET_OPEN_BYTES = 1024 * 1024;
const TARGET_PAGE_MS = 50;
const TARGET_HEAP_PER_CHANNEL = 10 * 1024 * 1024;
const LIVE_LIMIT = 1000;

const segments = envInt('BENCH_SEGMENTS', 2000);
const segmentMessages = envInt('BENCH_SEGMENT_MESSAGES', 500);
const liveMessages = envInt('BENCH_LIVE', 750);
const smallMessages = envInt('BENCH_SMALL', 1000);
const openChannels = envInt('BENCH_OPEN_CHANNELS', 20);
const coldRuns = envInt('BENCH_COLD_RUNS', 4);
const reopens = envInt('BENCH_REOPENS', 5);
const pages = envInt('BENCH_PAGES', 20);
const posts = envInt('BENCH_POSTS', 200);
const usePglite = process.env.BENCH_DB === 'pglite';
if (smallMessages <= liveMessages) throw new Error('BENCH_SMALL must exceed BENCH_LIVE (the small channel has a segment too)');
if (liveMessages + posts > LIVE_LIMIT) throw new Error(`BENCH_LIVE + BENCH_POSTS must stay within ${LIVE_LIMIT}: the rollover is timed on its own`);

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const stats = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { p50_ms: round(percentile(sorted, 0.5)), p95_ms: round(percentile(sorted, 0.95)), p99_ms: round(percentile(sorted, 0.99)), n: list.length };
};

// Bytes every WebSocket of this process received: the providers take the global WebSocket when they connect.
const received = { bytes: 0 };
globalThis.WebSocket = class CountingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.addEventListener('message', ({ data }) => {
      received.bytes += typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBuffer).byteLength;
    });
  }
};

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

interface Opened {
  client: BenchClient;
  ms: number;
  bytes: number;
}

/** Connects a fresh client and times it until synced, counting the bytes it received meanwhile. */
async function opened(server: Child, name: string, token: string): Promise<Opened> {
  const before = received.bytes;
  const t0 = performance.now();
  const client = await connect(collabUrl(server.url), name, token);
  const ms = performance.now() - t0;
  open.add(client);
  return { client, ms, bytes: received.bytes - before };
}

function close(...clients: BenchClient[]): void {
  for (const c of clients) {
    c.close();
    open.delete(c);
  }
}

/** Waits (bounded) until the server holds no documents: stored and unloaded. */
async function drained(server: Child, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await server.ask('docs')).documents !== 0) {
    if (Date.now() > deadline) throw new Error(`documents still loaded after ${ms} ms`);
    await sleep(50);
  }
}

const heapUsed = async (server: Child) => Number((await server.ask('mem')).heapUsed);

/** The server-side load time of `name` since the last `loads` asked. */
async function serverLoad(server: Child, name: string): Promise<number> {
  const { loads } = (await server.ask('loads')) as unknown as { loads: { document: string; ms: number }[] };
  const load = loads.find((l) => l.document === name);
  if (!load) throw new Error(`the server did not load ${name}`);
  return load.ms;
}

/** The newest 50 messages as a client shows them; checks the newest is the one expected. */
function lastFifty(client: BenchClient, lastId: string, label: string): number {
  const messages = chat.inReceiptOrder(chat.readMessages(client.doc));
  if (messages.length < 50 || messages.at(-1)!.id !== lastId) {
    throw new Error(`${label}: the client got ${messages.length} messages, newest ${messages.at(-1)?.id}, not ${lastId}`);
  }
  return messages.length;
}

await runBench('chat', async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-bench-chat-'));
  if (!usePglite) {
    scratch = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'teamspace_bench_chat');
  }
  const env = serverEnv(dataDir, scratch?.url, {
    AI_ENABLED: 'false', COLLAB_CHAT_LIVE_MESSAGES: String(LIVE_LIMIT), COLLAB_CHAT_SEGMENT_MESSAGES: String(segmentMessages),
    CHANNELS_PER_HOUR_PER_USER: '1000000', CHANNELS_PER_HOUR_PER_GROUP: '1000000', COLLAB_MESSAGES_PER_SECOND: '1000000',
  });
  const start = () => children.start('server-child.ts', env, ['--expose-gc']);

  // Channels made through the API, then their histories written while no server runs.
  let server = await start();
  const database = String(server.info.database);
  const { token, channelIds } = await setUp(server.url, 'TEXT', 2 + openChannels);
  const me = JSON.parse(await call(`${server.url}/api/auth/me`, { token })) as { id: string };
  await children.stop(server);
  const [large, small, ...others] = channelIds as [string, string, ...string[]];
  const authors = [me.id, ...Array.from({ length: 19 }, () => crypto.randomUUID())];
  const seeder = await children.start('seed-child.ts', env);
  const smallShape = { segments: 1, segmentMessages: smallMessages - liveMessages, live: liveMessages, authors };
  const seed = async (channelId: string, shape: typeof smallShape, n: number) =>
    (await seeder.ask('seed', JSON.stringify({ channelId, ...shape, seed: n }), 3_600_000)) as unknown as Written;
  console.log(`database: ${database}; writing ${segments} segments of ${segmentMessages} messages and a live part of ${liveMessages}...`);
  const largeWritten = await seed(large, { segments, segmentMessages, live: liveMessages, authors }, 1);
  const smallWritten = await seed(small, smallShape, 2);
  await inBatches(others, 4, (id, i) => seed(id, smallShape, 3 + i));
  const storedOf = async (channelId: string) => {
    const { live_bytes, total_bytes, documents } = await seeder.ask('stored', channelId);
    return { live_bytes: Number(live_bytes), total_bytes: Number(total_bytes), documents: Number(documents) };
  };
  const largeStored = await storedOf(large);
  const smallStored = await storedOf(small);
  await children.stop(seeder);
  const writeRate = Math.round(largeWritten.messages / (largeWritten.ms / 1000));
  console.log(`written: ${largeWritten.messages} messages in ${(largeWritten.ms / 1000).toFixed(1)} s (${writeRate}/s),` +
    ` ${mib(largeStored.total_bytes)} encrypted in ${largeStored.documents} documents (live part` +
    ` ${kib(largeStored.live_bytes)}); small channel ${smallWritten.messages} messages, live part ${kib(smallStored.live_bytes)}`);

  // Cold opens: each round a fresh server process opens another channel (which takes what any first open after a
  // start pays: JIT, the database's caches), then both channels for the first time, each first in turn.
  const channels = { large: { id: large, written: largeWritten }, small: { id: small, written: smallWritten } };
  type Side = keyof typeof channels;
  const cold: Record<Side, { client_ms: number[]; server_ms: number[]; bytes: number[]; heap_bytes: number[] }> = {
    large: { client_ms: [], server_ms: [], bytes: [], heap_bytes: [] },
    small: { client_ms: [], server_ms: [], bytes: [], heap_bytes: [] },
  };
  const openOnce = async (side: Side, into: typeof cold) => {
    const { id, written } = channels[side];
    const heapBefore = await heapUsed(server);
    const o = await opened(server, id, token);
    lastFifty(o.client, written.lastId, side);
    into[side].heap_bytes.push(await heapUsed(server) - heapBefore);
    into[side].client_ms.push(round(o.ms));
    into[side].server_ms.push(round(await serverLoad(server, id)));
    into[side].bytes.push(o.bytes);
    close(o.client);
    await drained(server);
  };
  const firstOpens: number[] = [];
  for (let r = 0; r < coldRuns; r++) {
    server = await start();
    const first = await opened(server, others[0]!, token);
    firstOpens.push(round(first.ms));
    close(first.client);
    await drained(server);
    for (const side of (r % 2 ? ['small', 'large'] : ['large', 'small']) as Side[]) await openOnce(side, cold);
    if (r < coldRuns - 1) await children.stop(server);
  }
  // The same by a warm server (JIT, pools): the documents were unloaded in between.
  const warm: typeof cold = {
    large: { client_ms: [], server_ms: [], bytes: [], heap_bytes: [] },
    small: { client_ms: [], server_ms: [], bytes: [], heap_bytes: [] },
  };
  for (let r = 0; r < reopens; r++) {
    for (const side of (r % 2 ? ['small', 'large'] : ['large', 'small']) as Side[]) await openOnce(side, warm);
  }
  const openFigures = (c: typeof cold, side: Side) => ({
    client_median_ms: median(c[side].client_ms), server_median_ms: median(c[side].server_ms),
    max_bytes: Math.max(...c[side].bytes), heap_median_bytes: median(c[side].heap_bytes), runs: c[side],
  });
  const open1m = { cold: openFigures(cold, 'large'), warm: openFigures(warm, 'large') };
  const open1k = { cold: openFigures(cold, 'small'), warm: openFigures(warm, 'small') };
  console.log(`first open after a server start (a 1k channel, every run): median ${median(firstOpens)} ms (runs ${firstOpens.join(', ')})`);
  const openRatio = { cold: round(open1m.cold.client_median_ms / open1k.cold.client_median_ms), warm: round(open1m.warm.client_median_ms / open1k.warm.client_median_ms) };
  for (const [label, key] of [['cold (fresh server, second document it opens)', 'cold'], ['after unload (warm server)', 'warm']] as const) {
    const [l, s] = [open1m[key], open1k[key]];
    console.log(`open ${label}: 1M channel ${l.client_median_ms} ms to synced (server load ${l.server_median_ms} ms, ${kib(l.max_bytes)}` +
      ` sent, heap +${mib(l.heap_median_bytes)}) | 1k channel ${s.client_median_ms} ms (server ${s.server_median_ms} ms,` +
      ` ${kib(s.max_bytes)}, heap +${mib(s.heap_median_bytes)}) | ratio ${openRatio[key]} (runs 1M ${l.runs.client_ms.join(', ')}; 1k ${s.runs.client_ms.join(', ')})`);
  }

  // Heap per open chat channel: one client on each of `openChannels` channels shaped like the small one.
  await drained(server);
  const heapIdle = await heapUsed(server);
  const holders = await inBatches(others, 5, async (id) => (await opened(server, id, token)).client);
  const heapHeld = await heapUsed(server);
  close(...holders);
  await drained(server);
  const heapPerChannel = Math.round((heapHeld - heapIdle) / others.length);
  console.log(`heap per open chat channel (${others.length} channels of ${liveMessages} live messages, one client each):` +
    ` ${mib(heapPerChannel)} (${mib(heapIdle)} -> ${mib(heapHeld)})`);

  // A page of 50 older messages deep in history: over REST before a message from the middle, and over /collab
  // the segment that holds it. Each landmark is a different place (the server unloads segments after a page).
  const landmarks = largeWritten.middle.slice(0, pages + 3);
  const restPage = async (channelId: string, before: Landmark) => {
    const t0 = performance.now();
    const page = JSON.parse(await call(`${server.url}/api/channels/${channelId}/messages?before=${before.id}&limit=50`, { token }));
    const ms = performance.now() - t0;
    if (page.messages.length !== Math.min(50, before.seq)) throw new Error(`a page before seq ${before.seq} held ${page.messages.length} messages`);
    return ms;
  };
  for (const l of landmarks.slice(0, 3)) await restPage(large, l);
  const restLarge: number[] = [];
  const restSmall: number[] = [];
  const smallLandmark = smallWritten.middle.at(-1)!;
  for (const l of landmarks.slice(3)) {
    restLarge.push(await restPage(large, l));
    restSmall.push(await restPage(small, smallLandmark));
  }
  const segmentOpens: number[] = [];
  const segmentBytes: number[] = [];
  for (const l of landmarks.slice(3)) {
    await drained(server);
    const o = await opened(server, segmentName(large, l.part), token);
    if (!chat.readMessageById(o.client.doc, l.id)) throw new Error(`segment ${l.part} lacks message ${l.id}`);
    segmentOpens.push(o.ms);
    segmentBytes.push(o.bytes);
    close(o.client);
  }
  const history = {
    rest_1m: stats(restLarge), rest_1k: stats(restSmall),
    collab_segment_1m: { ...stats(segmentOpens), bytes: median(segmentBytes) },
  };
  console.log(`history page of 50 over REST, before a message from the middle: 1M channel p50 ${history.rest_1m.p50_ms}` +
    ` p95 ${history.rest_1m.p95_ms} ms | 1k channel p50 ${history.rest_1k.p50_ms} p95 ${history.rest_1k.p95_ms} ms`);
  console.log(`history over /collab, opening the segment that holds it: p50 ${history.collab_segment_1m.p50_ms}` +
    ` p95 ${history.collab_segment_1m.p95_ms} ms to synced, ${kib(history.collab_segment_1m.bytes)} sent`);

  // Posting: one provider on each channel, in turns, each message waited for until acknowledged (stored).
  await drained(server);
  const writers = { large: (await opened(server, large, token)).client, small: (await opened(server, small, token)).client };
  const latency: Record<Side, number[]> = { large: [], small: [] };
  for (let i = 0; i < posts + 10; i++) {
    for (const side of ['large', 'small'] as Side[]) {
      const t0 = performance.now();
      chat.writeMessage(writers[side].doc, { author_id: me.id, text: `bench message ${i}` });
      await acked(writers[side].provider);
      if (i >= 10) latency[side].push(performance.now() - t0);
    }
  }
  close(writers.large, writers.small);
  const posting = { '1m': stats(latency.large), '1k': stats(latency.small) };
  console.log(`posting until acknowledged (${posts} each, after 10 warm-up): 1M channel p50 ${posting['1m'].p50_ms}` +
    ` p99 ${posting['1m'].p99_ms} ms | 1k channel p50 ${posting['1k'].p50_ms} p99 ${posting['1k'].p99_ms} ms`);

  // A rollover of each live part (now ~live + posts messages), timed in the server, after one of another channel
  // (so neither pays for the first run of its code).
  await drained(server);
  await server.ask('rollover', others[0]!, 120_000);
  const rollovers = {} as Record<Side, Record<string, unknown>>;
  for (const side of ['small', 'large'] as Side[]) rollovers[side] = await server.ask('rollover', channels[side].id, 120_000);
  const metrics = await call(`${server.url}/metrics`);
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
  // RolledOver.segments: the segments made (their names, or their count in older versions of rollover.ts).
  const made = ({ ms, sealed, kept, segments }: Record<string, unknown>) =>
    ({ ms: round(Number(ms)), sealed, kept, segments: Array.isArray(segments) ? segments.length : segments });
  const rollover = {
    '1m': made(rollovers.large), '1k': made(rollovers.small),
    metric_sum_s: metric('collab_chat_rollover_seconds_sum'), metric_count: metric('collab_chat_rollover_seconds_count'),
  };
  console.log(`rollover: 1M channel ${rollover['1m'].ms} ms (sealed ${rollover['1m'].sealed} into ${rollover['1m'].segments}` +
    ` segment(s), kept ${rollover['1m'].kept}) | 1k channel ${rollover['1k'].ms} ms (sealed ${rollover['1k'].sealed},` +
    ` kept ${rollover['1k'].kept}) | collab_chat_rollover_seconds: ${rollover.metric_count} in ${round(rollover.metric_sum_s, 3)} s (with the warm-up)`);

  const targets = {
    open_ratio: openRatio.cold <= TARGET_OPEN_RATIO && openRatio.warm <= TARGET_OPEN_RATIO,
    open_server_load: open1m.cold.server_median_ms < TARGET_SERVER_LOAD_MS && open1m.warm.server_median_ms < TARGET_SERVER_LOAD_MS,
    open_bytes: open1m.cold.max_bytes < TARGET_OPEN_BYTES,
    history_page: history.rest_1m.p50_ms < TARGET_PAGE_MS && history.collab_segment_1m.p50_ms < TARGET_PAGE_MS,
    heap_per_channel: heapPerChannel < TARGET_HEAP_PER_CHANNEL,
  };
  console.log(`targets: 1M open within ${TARGET_OPEN_RATIO}x of 1k (cold ${openRatio.cold}, warm ${openRatio.warm}):` +
    ` ${targets.open_ratio ? 'pass' : 'FAIL'}; server load < ${TARGET_SERVER_LOAD_MS} ms (cold ${open1m.cold.server_median_ms},` +
    ` warm ${open1m.warm.server_median_ms}): ${targets.open_server_load ? 'pass' : 'FAIL'}; < 1 MiB to a new client` +
    ` (${kib(open1m.cold.max_bytes)}): ${targets.open_bytes ? 'pass' : 'FAIL'}; history page p50 < ${TARGET_PAGE_MS} ms` +
    ` (REST ${history.rest_1m.p50_ms}, /collab ${history.collab_segment_1m.p50_ms}): ${targets.history_page ? 'pass' : 'FAIL'};` +
    ` heap per channel < 10 MiB (${mib(heapPerChannel)}): ${targets.heap_per_channel ? 'pass' : 'FAIL'}`);
  console.log(JSON.stringify({
    bench: 'chat', database, cpus: os.cpus().length,
    channels: {
      '1m': { messages: largeWritten.messages, segments, segment_messages: segmentMessages, live: liveMessages, ...largeStored },
      '1k': { messages: smallWritten.messages, segments: 1, live: liveMessages, ...smallStored },
    },
    write: { ms: largeWritten.ms, messages_per_s: writeRate },
    open: { '1m': open1m, '1k': open1k, ratio: openRatio, first_after_start_ms: firstOpens },
    heap_per_channel: { channels: others.length, bytes: heapPerChannel, idle_bytes: heapIdle, held_bytes: heapHeld },
    history, posting, rollover,
    targets: {
      open_ratio: TARGET_OPEN_RATIO, server_load_ms: TARGET_SERVER_LOAD_MS, open_bytes: TARGET_OPEN_BYTES,
      page_ms: TARGET_PAGE_MS, heap_per_channel_bytes: TARGET_HEAP_PER_CHANNEL,
    },
    targets_met: targets,
    target_met: Object.values(targets).every(Boolean),
  }));
}, cleanup);
