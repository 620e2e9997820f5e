import type { Logger } from '../core/index.ts';
import { mediaCodecs } from './codecs.ts';
import type { AudioLevelObserverVolume, Consumer, Producer, Router, RtpCapabilities, WebRtcTransport, Worker } from './mediasoup.ts';
import type { NotificationMethod, Notifications, PeerInfo, Source } from './protocol.ts';

/** One participant of a call: one signaling connection, with what it owns on the router. */
export interface Peer {
  id: string;
  userId: string;
  username: string;
  /** Cleaned (display-name.ts); always shown with the verified user id and username. */
  displayName: string;
  joinedAt: Date;
  rtpCapabilities: RtpCapabilities;
  transports: Map<string, { transport: WebRtcTransport; direction: 'send' | 'recv' }>;
  producers: Map<string, Producer>;
  consumers: Map<string, Consumer>;
  notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void;
}

export interface ProducerAppData {
  peerId: string;
  source: Source;
}

export function peerInfo(peer: Peer): PeerInfo {
  return {
    id: peer.id,
    user_id: peer.userId,
    username: peer.username,
    display_name: peer.displayName,
    joined_at: peer.joinedAt.toISOString(),
    producers: [...peer.producers.values()].map((p) => ({
      id: p.id, kind: p.kind, source: (p.appData as ProducerAppData).source, paused: p.paused,
    })),
  };
}

export function recvTransport(peer: Peer): WebRtcTransport | undefined {
  for (const { transport, direction } of peer.transports.values()) if (direction === 'recv') return transport;
  return undefined;
}

/** A connection attached to a room, told when the room is gone under it. */
export interface RoomMember {
  roomLost(reason: string): void;
}

/**
 * A call in one VOICE channel: a router on one worker, its peers, and observers of who speaks. Every producer is
 * consumed by every other peer that can receive it; consumers start paused and the client resumes them.
 */
export class Room {
  readonly peers = new Map<string, Peer>();
  /** Connections that use this room's router (joined or about to); the room closes when none is left. */
  readonly sessions = new Set<RoomMember>();
  /**
   * The producers each receiving transport consumes or is about to. `addProducer` and `consumeAll` can both reach
   * one producer for one peer (its receiving transport created while that producer is being announced); without
   * this the peer would get it twice.
   */
  private readonly consumed = new WeakMap<WebRtcTransport, Set<string>>();
  private closed = false;

  readonly channelId: string;
  readonly worker: Worker;
  readonly router: Router;
  private readonly log: Logger;

  private constructor(channelId: string, worker: Worker, router: Router, log: Logger) {
    this.channelId = channelId;
    this.worker = worker;
    this.router = router;
    this.log = log;
  }

  static async open(channelId: string, worker: Worker, log: Logger): Promise<Room> {
    const router = await worker.createRouter({ mediaCodecs, appData: { channelId } });
    try {
      return await Room.observed(new Room(channelId, worker, router, log));
    } catch (err) {
      router.close();
      throw err;
    }
  }

  /** Adds the observers of who speaks, which every audio producer joins. */
  private static async observed(room: Room): Promise<Room> {
    const { router } = room;
    const levels = await router.createAudioLevelObserver({ maxEntries: 10, threshold: -70, interval: 800 });
    levels.on('volumes', (volumes: AudioLevelObserverVolume[]) => {
      room.broadcast('audioLevels', {
        levels: volumes.map((v) => ({ peer_id: (v.producer.appData as ProducerAppData).peerId, volume: v.volume })),
      });
    });
    levels.on('silence', () => room.broadcast('audioLevels', { levels: [] }));
    const speaker = await router.createActiveSpeakerObserver({ interval: 300 });
    speaker.on('dominantspeaker', ({ producer }) => {
      room.broadcast('activeSpeaker', { peer_id: (producer.appData as ProducerAppData).peerId });
    });
    room.observe = async (producer) => {
      if (producer.kind !== 'audio') return;
      await levels.addProducer({ producerId: producer.id });
      await speaker.addProducer({ producerId: producer.id });
    };
    return room;
  }

  private observe: (producer: Producer) => Promise<void> = async () => {};

  get isClosed(): boolean {
    return this.closed || this.router.closed;
  }

  broadcast<M extends NotificationMethod>(method: M, data: Notifications[M], except?: Peer): void {
    for (const peer of this.peers.values()) if (peer !== except) peer.notify(method, data);
  }

  join(peer: Peer): PeerInfo[] {
    const others = [...this.peers.values()].map(peerInfo);
    this.peers.set(peer.id, peer);
    this.broadcast('peerJoined', peerInfo(peer), peer);
    return others;
  }

  /** Removes a peer and closes everything it owned; the others' consumers of it close with it. */
  leave(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    for (const { transport } of peer.transports.values()) transport.close();
    peer.transports.clear();
    peer.producers.clear();
    peer.consumers.clear();
    this.broadcast('peerLeft', { peer_id: peer.id });
  }

  /** A new producer: watched for speech if it is audio, and consumed by every other peer. */
  async addProducer(owner: Peer, producer: Producer): Promise<void> {
    await this.observe(producer);
    await Promise.all(
      [...this.peers.values()].filter((p) => p !== owner).map((p) => this.consume(p, owner, producer)),
    );
  }

  /** Gives a peer that just got a receiving transport consumers of everything already produced. */
  async consumeAll(peer: Peer): Promise<void> {
    const jobs = [];
    for (const other of this.peers.values()) {
      if (other === peer) continue;
      for (const producer of other.producers.values()) jobs.push(this.consume(peer, other, producer));
    }
    await Promise.all(jobs);
  }

  private async consume(peer: Peer, owner: Peer, producer: Producer): Promise<void> {
    const transport = recvTransport(peer);
    if (!transport || producer.closed || !this.router.canConsume({ producerId: producer.id, rtpCapabilities: peer.rtpCapabilities })) {
      return;
    }
    let consumed = this.consumed.get(transport);
    if (!consumed) this.consumed.set(transport, (consumed = new Set()));
    if (consumed.has(producer.id)) return;
    consumed.add(producer.id);
    let consumer: Consumer;
    try {
      consumer = await transport.consume({
        producerId: producer.id, rtpCapabilities: peer.rtpCapabilities, paused: true, appData: { peerId: owner.id },
      });
    } catch (err) {
      // The producer or the transport closed meanwhile: nothing to consume.
      this.log.debug({ err, peer_id: peer.id, producer_id: producer.id }, 'consume skipped');
      return;
    }
    if (this.peers.get(peer.id) !== peer) {
      // The receiver left while its consumer was being made.
      consumer.close();
      return;
    }
    const ids = { consumer_id: consumer.id, producer_id: producer.id, peer_id: owner.id };
    peer.consumers.set(consumer.id, consumer);
    consumer.on('transportclose', () => peer.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      peer.consumers.delete(consumer.id);
      peer.notify('consumerClosed', ids);
    });
    consumer.on('producerpause', () => peer.notify('producerPaused', ids));
    consumer.on('producerresume', () => peer.notify('producerResumed', ids));
    consumer.on('layerschange', (layers) => {
      peer.notify('consumerLayersChanged', {
        consumer_id: consumer.id, spatial_layer: layers?.spatialLayer ?? null, temporal_layer: layers?.temporalLayer ?? null,
      });
    });
    peer.notify('newConsumer', {
      id: consumer.id,
      producer_id: producer.id,
      peer_id: owner.id,
      kind: consumer.kind,
      source: (producer.appData as ProducerAppData).source,
      rtp_parameters: consumer.rtpParameters,
      type: consumer.type,
      producer_paused: consumer.producerPaused,
    });
  }

  /** Ends the call; attached connections are told why (e.g. the worker died, and they should join again). */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    const members = [...this.sessions];
    this.sessions.clear();
    this.peers.clear();
    this.router.close();
    if (reason) for (const member of members) member.roomLost(reason);
  }
}
