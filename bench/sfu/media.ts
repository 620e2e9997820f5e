// The mediasoup side of bench/sfu, inside a target child: producers on plain RTP transports that the parent's
// generator feeds, and consumers on plain transports that send to the parent's sink. Ours and bare run this
// same code on their own router, so the two differ only in how that router came to be.
import type { Consumer, PlainTransport, Producer, Router } from '../../sfu/mediasoup.ts';
import type { Commands } from '../shared/child.ts';
import { streams } from './streams.ts';

export interface FeedRequest {
  senders: number;
  /** Ours: the call's channel and the peer id of each sender's signaling client. */
  channel_id?: string;
  peer_ids?: string[];
}

export interface Target {
  router: Router;
  /** Hands a new producer of sender `sender` to whatever watches it (ours: the room, as `produce` does). */
  announce(sender: number, producer: Producer): Promise<void>;
}

const LISTEN_IP = '127.0.0.1';
/** Transports set up at once when growing: the worker answers each request in well under a millisecond. */
const PARALLEL = 16;

/**
 * `feed` (a FeedRequest): one comedia transport per sender with its audio and video producers; answers the
 * transports' ports. `consume` ({count, port}): grows or shrinks the consumers to `count`, the i-th consuming
 * producer i mod P (P = producers), P to a transport (a listener receiving everyone), each transport sending to
 * 127.0.0.1:port; answers the consumers' SSRCs by producer.
 */
export function mediaCommands(open: (request: FeedRequest) => Target): Commands {
  let target: Target | undefined;
  const producers: Producer[] = [];
  const receivers: { transport: PlainTransport; consumers: Consumer[] }[] = [];
  const count = () => receivers.reduce((n, r) => n + r.consumers.length, 0);

  async function receiver(port: number, first: number, size: number) {
    const transport = await target!.router.createPlainTransport({ listenIp: LISTEN_IP, rtcpMux: true, comedia: false });
    await transport.connect({ ip: LISTEN_IP, port });
    const consumers: Consumer[] = [];
    for (let i = first; i < first + size; i++) {
      const producer = producers[i % producers.length]!;
      consumers.push(await transport.consume({ producerId: producer.id, rtpCapabilities: target!.router.rtpCapabilities }));
    }
    return { transport, consumers };
  }

  return {
    async feed(arg) {
      const request = JSON.parse(arg ?? '{}') as FeedRequest;
      target = open(request);
      const ports: number[] = [];
      for (let sender = 0; sender < request.senders; sender++) {
        const transport = await target.router.createPlainTransport({ listenIp: LISTEN_IP, rtcpMux: true, comedia: true });
        for (const stream of streams(request.senders).filter((s) => s.sender === sender)) {
          const producer = await transport.produce({ kind: stream.kind, rtpParameters: stream.rtpParameters });
          producers.push(producer);
          await target.announce(sender, producer);
        }
        ports.push(transport.tuple.localPort);
      }
      return { ports };
    },
    async consume(arg) {
      if (!target) throw new Error('feed first');
      const { count: wanted, port } = JSON.parse(arg ?? '{}') as { count: number; port: number };
      const size = producers.length;
      while (count() > wanted) receivers.pop()!.transport.close();
      while (count() < wanted) {
        const first = count();
        const batch = Array.from({ length: Math.min(PARALLEL, Math.ceil((wanted - first) / size)) }, (_, k) =>
          receiver(port, first + k * size, Math.min(size, wanted - first - k * size)));
        receivers.push(...(await Promise.all(batch)));
      }
      const ssrcs = producers.map(() => [] as number[]);
      for (const { consumers } of receivers) {
        for (const consumer of consumers) {
          ssrcs[producers.findIndex((p) => p.id === consumer.producerId)]!.push(consumer.rtpParameters.encodings![0]!.ssrc!);
        }
      }
      return { ssrcs };
    },
  };
}
