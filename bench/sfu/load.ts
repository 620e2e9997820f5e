// The parent's side of bench/sfu: an RTP generator feeding a target's producers, a sink counting what its
// consumers forward, and the kernel's figures of a process (CPU, RSS) and of UDP sockets (drops).
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { AUDIO_LEVEL_EXTENSION_ID, streams, type Stream } from './streams.ts';

/** The generator's clock: a batch every 20 ms, the packet time of an Opus frame. */
const TICK_MS = 20;
/** A VP8 frame every other tick (25 fps), split into equal packets. */
const TICKS_PER_FRAME = 2;
/** A keyframe every second: a new video consumer forwards nothing until it sees one. */
const FRAMES_PER_KEYFRAME = 25;
/** Opus at 32 kbit/s in 20 ms frames. */
const AUDIO_PAYLOAD_BYTES = 80;
/** A full video packet, as browsers send them (about 1,200 B on the wire). */
const VIDEO_PAYLOAD_BYTES = 1100;
/** A late timer catches up by at most this many ticks; a longer gap is a stall, not a backlog to burst out. */
const MAX_CATCH_UP = 10;
/** RTP timestamp units per tick: Opus at 48 kHz, video at 90 kHz. */
const AUDIO_TIMESTAMP_PER_TICK = (48_000 * TICK_MS) / 1000;
const VIDEO_TIMESTAMP_PER_TICK = (90_000 * TICK_MS) / 1000;
const HOST = '127.0.0.1';

/** The generator's counters at a tick boundary: the tick about to be sent, and the packets sent before it. */
export interface Mark {
  at: number;
  tick: number;
  sent: number[];
}

export interface Load {
  sinkPort: number;
  /** Packets per second the generator sends of each stream (audio 50; video as asked, in whole packets per frame). */
  pps: number[];
  /** Starts sending to each sender's producer transport, or stops (undefined). */
  feed(ports: number[] | undefined): void;
  /**
   * The consumers' SSRCs by stream: the sink counts only these (mediasoup also sends bandwidth probes and RTCP
   * to it).
   */
  expect(ssrcs: number[][]): void;
  /** At the next tick boundary: the sink counts packets of the ticks from there on (and forgets older counts). */
  begin(): Promise<Mark>;
  /** At the next tick boundary: the sink stops counting packets of the ticks from there on. */
  end(): Promise<Mark>;
  /** Packets counted, in all and by consumer, of the ticks between begin and end, whenever they arrived. */
  counted(): { received: number; perConsumer: Uint32Array };
  close(): void;
}

function rtpPacket(stream: Stream, seq: number, timestamp: number, marker: boolean, extension: Buffer | undefined, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = extension ? 0x90 : 0x80;
  header[1] = stream.payloadType | (marker ? 0x80 : 0);
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(stream.ssrc, 8);
  return Buffer.concat(extension ? [header, extension, payload] : [header, payload]);
}

/** A one-byte header extension (RFC 8285) with the audio level: voice, at -level dBov. */
function audioLevel(level: number): Buffer {
  return Buffer.from([0xbe, 0xde, 0x00, 0x01, AUDIO_LEVEL_EXTENSION_ID << 4, 0x80 | level, 0, 0]);
}

/** A VP8 payload: the descriptor (RFC 7741, with a 15-bit picture id) and, for a frame's first packet, its header. */
function vp8Payload(first: boolean, pictureId: number, keyframe: boolean): Buffer {
  const payload = Buffer.alloc(VIDEO_PAYLOAD_BYTES, 0x5a);
  payload[0] = first ? 0x90 : 0x80;
  payload[1] = 0x80;
  payload[2] = 0x80 | ((pictureId >> 8) & 0x7f);
  payload[3] = pictureId & 0xff;
  // The frame header's P bit: 0 for a keyframe.
  payload[4] = keyframe ? 0x00 : 0x01;
  return payload;
}

export async function startLoad(senders: number, videoPps: number): Promise<Load> {
  const list = streams(senders);
  const perFrame = Math.max(1, Math.round((videoPps * TICK_MS * TICKS_PER_FRAME) / 1000));
  const pps = list.map((s) => (s.kind === 'audio' ? 1000 / TICK_MS : (perFrame * 1000) / (TICK_MS * TICKS_PER_FRAME)));
  const audioPayload = Buffer.alloc(AUDIO_PAYLOAD_BYTES, 0x3c);
  // Different levels, so the active-speaker observer has a dominant speaker to find.
  const levels = list.map((s) => audioLevel(20 + 10 * s.sender));

  const sink = dgram.createSocket('udp4');
  sink.bind(0, HOST);
  await once(sink, 'listening');
  // Room for bursts while this process is busy elsewhere (the kernel caps it at net.core.rmem_max).
  sink.setRecvBufferSize(4 * 1024 * 1024);
  let index = new Map<number, number>();
  let video = new Uint8Array(0);
  let perConsumer = new Uint32Array(0);
  let received = 0;
  let from = Infinity;
  let to = Infinity;
  sink.on('message', (packet) => {
    // RTCP (payload types 192-223 with rtcp-mux) is not counted; nor are SSRCs of no consumer (probes).
    if (packet.length < 12 || (packet[1]! >= 192 && packet[1]! <= 223)) return;
    const i = index.get(packet.readUInt32BE(8));
    if (i === undefined) return;
    // Consumers rewrite SSRC and sequence number but keep the timestamp, which names the tick that sent the packet.
    const timestamp = packet.readUInt32BE(4);
    const tick = timestamp / (video[i] ? VIDEO_TIMESTAMP_PER_TICK : AUDIO_TIMESTAMP_PER_TICK);
    if (tick < from || tick >= to) return;
    perConsumer[i]!++;
    received++;
  });

  const generator = dgram.createSocket('udp4');
  generator.bind(0, HOST);
  await once(generator, 'listening');
  const sent = list.map(() => 0);
  const seq = list.map(() => 0);
  let ports: number[] | undefined;
  let tick = 0;
  let startedAt = 0;
  let marks: ((mark: Mark) => void)[] = [];
  const mark = () => new Promise<Mark>((resolve) => marks.push(resolve));

  function batch(t: number): void {
    const frame = t / TICKS_PER_FRAME;
    list.forEach((stream, i) => {
      const port = ports![stream.sender]!;
      if (stream.kind === 'audio') {
        generator.send(rtpPacket(stream, seq[i]!++, t * AUDIO_TIMESTAMP_PER_TICK, false, levels[i], audioPayload), port, HOST);
        sent[i]!++;
      } else if (t % TICKS_PER_FRAME === 0) {
        for (let p = 0; p < perFrame; p++) {
          const payload = vp8Payload(p === 0, frame & 0x7fff, frame % FRAMES_PER_KEYFRAME === 0);
          generator.send(rtpPacket(stream, seq[i]!++, t * VIDEO_TIMESTAMP_PER_TICK, p === perFrame - 1, undefined, payload), port, HOST);
          sent[i]!++;
        }
      }
    });
  }

  // One timer sends everything; the batches due are counted from the clock, so a late timer does not lower the rate.
  const timer = setInterval(() => {
    if (!ports) return;
    const due = Math.floor((performance.now() - startedAt) / TICK_MS);
    tick = Math.max(tick, due - MAX_CATCH_UP);
    while (tick <= due) {
      if (marks.length) {
        const now = { at: performance.now(), tick, sent: [...sent] };
        for (const resolve of marks) resolve(now);
        marks = [];
      }
      batch(tick++);
    }
  }, TICK_MS / 2);

  return {
    sinkPort: sink.address().port,
    pps,
    feed(destination) {
      ports = destination;
      // Time and sequence numbers go on from where they stopped, as after a muted camera.
      startedAt = performance.now() - tick * TICK_MS;
    },
    expect(ssrcs) {
      index = new Map(ssrcs.flat().map((ssrc, i) => [ssrc, i]));
      video = Uint8Array.from(ssrcs.flatMap((consumers, s) => consumers.map(() => (list[s]!.kind === 'video' ? 1 : 0))));
      from = to = Infinity;
    },
    async begin() {
      const now = await mark();
      [from, to, received, perConsumer] = [now.tick, Infinity, 0, new Uint32Array(index.size)];
      return now;
    },
    async end() {
      const now = await mark();
      to = now.tick;
      return now;
    },
    counted: () => ({ received, perConsumer }),
    close() {
      clearInterval(timer);
      sink.close();
      generator.close();
    },
  };
}

/** Linux's USER_HZ, the unit of utime and stime in /proc (100 on x86 and arm). */
const USER_HZ = 100;

/** CPU seconds a process has used (user + system). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN) * 1024;
}

/** Datagrams the kernel dropped because these 127.0.0.1 UDP sockets' buffers were full. */
export function udpDrops(ports: number[]): number {
  const wanted = new Set(ports.map((p) => `0100007F:${p.toString(16).toUpperCase().padStart(4, '0')}`));
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (wanted.has(fields[1] ?? '')) drops += Number(fields[12]);
  }
  return drops;
}
