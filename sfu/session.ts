import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger, Role } from '../server/index.ts';
import type { WebRtcTransport } from './mediasoup.ts';
import {
  CloseCodes,
  isMethod,
  RequestMessage,
  requestData,
  SignalingError,
  type Method,
  type NotificationMethod,
  type Notifications,
  type RequestData,
} from './protocol.ts';
import type { Peer, Room, RoomMember } from './room.ts';

export interface SessionLimits {
  maxPeersPerRoom: number;
  maxProducersPerPeer: number;
  /** Sustained requests per second; bursts of twice that pass. */
  requestsPerSecond: number;
}

export interface TransportSettings {
  listenIps: { ip: string; announcedIp?: string }[];
  enableTcp: boolean;
  initialAvailableOutgoingBitrate: number;
}

export interface RoomDirectory {
  /** The room of a channel, opened on the least loaded worker if there is none; the session counts as using it. */
  attach(channelId: string, member: RoomMember): Promise<Room>;
  detach(room: Room, member: RoomMember): void;
}

export interface SessionOptions {
  channelId: string;
  user: { id: string; username: string };
  role: Role;
  rooms: RoomDirectory;
  limits: SessionLimits;
  transports: TransportSettings;
  log: Logger;
}

type Handler<M extends Method> = (data: RequestData<M>) => Promise<{ data: object; after?: () => Promise<void> }>;

const MAX_QUEUED = 32;

/**
 * One /rtc connection of an authenticated user to one VOICE channel's call. Requests are handled one at a time
 * in arrival order, so a client can never race its own join, produce or leave; each gets exactly one response.
 */
export class Session implements RoomMember {
  private room?: Room;
  private peer?: Peer;
  private role: Role;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private tokens: number;
  private refilledAt = Date.now();
  private closed = false;

  private readonly socket: WebSocket;
  private readonly options: SessionOptions;

  constructor(socket: WebSocket, options: SessionOptions) {
    this.socket = socket;
    this.options = options;
    this.role = options.role;
    this.tokens = options.limits.requestsPerSecond * 2;
  }

  get userId(): string {
    return this.options.user.id;
  }

  get channelId(): string {
    return this.options.channelId;
  }

  /** Handles one raw frame from the socket. */
  receive(raw: string): void {
    let message: RequestMessage;
    try {
      const parsed = RequestMessage.safeParse(JSON.parse(raw));
      if (!parsed.success) throw new Error('not a request');
      message = parsed.data;
    } catch {
      this.socket.close(CloseCodes.malformed, 'malformed message: expected {request: true, id, method, data}');
      return;
    }
    if (!this.take()) {
      this.respondError(message.id, new SignalingError('too_many_requests', 'too many requests: slow down'));
      return;
    }
    this.queued += 1;
    this.queue = this.queue.then(() => this.process(message)).finally(() => (this.queued -= 1));
  }

  private take(): boolean {
    const { requestsPerSecond } = this.options.limits;
    const now = Date.now();
    this.tokens = Math.min(requestsPerSecond * 2, this.tokens + ((now - this.refilledAt) / 1000) * requestsPerSecond);
    this.refilledAt = now;
    if (this.tokens < 1 || this.queued >= MAX_QUEUED) return false;
    this.tokens -= 1;
    return true;
  }

  private async process({ id, method, data }: RequestMessage): Promise<void> {
    if (this.closed) return;
    let result: Awaited<ReturnType<Handler<Method>>>;
    try {
      if (!isMethod(method)) throw new SignalingError('unknown_method', `unknown method ${method}`);
      const parsed = requestData[method].safeParse(data);
      if (!parsed.success) {
        throw new SignalingError('bad_request', `invalid data for ${method}`, parsed.error.issues.map((i) => ({
          path: i.path.join('.'), message: i.message,
        })));
      }
      const handler = this.handlers[method] as Handler<typeof method>;
      result = await handler(parsed.data as never);
    } catch (err) {
      this.respondError(id, err);
      return;
    }
    this.send({ response: true, id, ok: true, data: result.data });
    // What follows a success (consumers for others) is not part of the answer: it was already sent, once.
    await result.after?.().catch((err: unknown) => {
      this.options.log.warn({ err, channel_id: this.channelId, method }, 'work after a signaling request failed');
    });
  }

  private respondError(id: number, err: unknown): void {
    const error = this.toSignalingError(err);
    this.send({ response: true, id, ok: false, error: { code: error.code, message: error.message, details: error.details } });
  }

  /**
   * mediasoup's own validation errors become bad requests, and so do the worker's refusals of a request (e.g. a
   * duplicate MID or SSRC), which name the method only; anything else is logged and not described.
   */
  private toSignalingError(err: unknown): SignalingError {
    if (err instanceof SignalingError) return err;
    const { name, message } = err as Error;
    if (name === 'TypeError' || name === 'InvalidStateError') return new SignalingError('bad_request', message);
    if (name === 'UnsupportedError') return new SignalingError('unsupported', message);
    const refusedBy = /\[method:([\w.]+)\]/.exec(message ?? '');
    if (refusedBy) {
      this.options.log.warn({ err, channel_id: this.channelId, user_id: this.userId }, 'media server refused a request');
      return new SignalingError('bad_request', `the media server refused ${refusedBy[1]}: ${message.split('[')[0]!.trim() || 'invalid parameters'}`);
    }
    this.options.log.error({ err, channel_id: this.channelId, user_id: this.userId }, 'signaling request failed');
    return new SignalingError('unavailable', 'the media server could not do this; try again');
  }

  private send(message: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void {
    this.send({ notification: true, method, data });
  }

  private async attach(): Promise<Room> {
    if (this.room && !this.room.isClosed) return this.room;
    this.room = await this.options.rooms.attach(this.channelId, this);
    return this.room;
  }

  private joined(): { room: Room; peer: Peer } {
    if (!this.room || !this.peer) throw new SignalingError('not_joined', 'join the call first');
    return { room: this.room, peer: this.peer };
  }

  private transport(peer: Peer, id: string): { transport: WebRtcTransport; direction: 'send' | 'recv' } {
    const found = peer.transports.get(id);
    if (!found) throw new SignalingError('not_found', 'no such transport');
    return found;
  }

  private ownProducer(peer: Peer, id: string) {
    const producer = peer.producers.get(id);
    if (!producer) throw new SignalingError('not_found', 'no such producer');
    return producer;
  }

  private ownConsumer(peer: Peer, id: string) {
    const consumer = peer.consumers.get(id);
    if (!consumer) throw new SignalingError('not_found', 'no such consumer');
    return consumer;
  }

  private requireProducer(): void {
    if (this.role === 'viewer') throw new SignalingError('forbidden', 'viewers may listen but not send media');
  }

  private readonly handlers: { [M in Method]: Handler<M> } = {
    getRouterRtpCapabilities: async () => {
      const room = await this.attach();
      return { data: { rtp_capabilities: room.router.rtpCapabilities } };
    },

    join: async ({ rtp_capabilities, display_name }) => {
      if (this.peer) throw new SignalingError('already_joined', 'already in this call');
      const room = await this.attach();
      if (room.peers.size >= this.options.limits.maxPeersPerRoom) {
        throw new SignalingError('room_full', `this call is full (${this.options.limits.maxPeersPerRoom} people)`);
      }
      const peer: Peer = {
        id: randomUUID(),
        userId: this.userId,
        displayName: display_name ?? this.options.user.username,
        joinedAt: new Date(),
        rtpCapabilities: rtp_capabilities as Peer['rtpCapabilities'],
        transports: new Map(),
        producers: new Map(),
        consumers: new Map(),
        notify: (method, data) => this.notify(method, data),
      };
      const peers = room.join(peer);
      this.peer = peer;
      this.options.log.info({ channel_id: this.channelId, user_id: this.userId, peer_id: peer.id }, 'call joined');
      return { data: { peer_id: peer.id, role: this.role, can_produce: this.role !== 'viewer', peers } };
    },

    createWebRtcTransport: async ({ direction, force_tcp }) => {
      const { room, peer } = this.joined();
      if (direction === 'send') this.requireProducer();
      const { transports } = this.options;
      if (force_tcp && !transports.enableTcp) throw new SignalingError('unsupported', 'TCP is turned off on this server');
      // One transport per direction: a new one (e.g. over TCP after UDP failed) replaces the old, and what ran
      // on the old one closes with it.
      for (const [id, old] of peer.transports) {
        if (old.direction !== direction) continue;
        if (direction === 'recv') {
          for (const consumer of peer.consumers.values()) {
            const { peerId } = consumer.appData as { peerId: string };
            this.notify('consumerClosed', { consumer_id: consumer.id, producer_id: consumer.producerId, peer_id: peerId });
          }
        }
        old.transport.close();
        peer.transports.delete(id);
      }
      const transport = await room.router.createWebRtcTransport({
        listenIps: transports.listenIps,
        enableUdp: !force_tcp,
        enableTcp: transports.enableTcp,
        preferUdp: true,
        initialAvailableOutgoingBitrate: transports.initialAvailableOutgoingBitrate,
        appData: { peerId: peer.id, direction },
      });
      peer.transports.set(transport.id, { transport, direction });
      transport.on('routerclose', () => peer.transports.delete(transport.id));
      return {
        data: {
          id: transport.id,
          ice_parameters: transport.iceParameters,
          ice_candidates: transport.iceCandidates,
          dtls_parameters: transport.dtlsParameters,
        },
        after: direction === 'recv' ? () => room.consumeAll(peer) : undefined,
      };
    },

    connectWebRtcTransport: async ({ transport_id, dtls_parameters }) => {
      const { peer } = this.joined();
      await this.transport(peer, transport_id).transport.connect({ dtlsParameters: dtls_parameters as never });
      return { data: {} };
    },

    restartIce: async ({ transport_id }) => {
      const { peer } = this.joined();
      const iceParameters = await this.transport(peer, transport_id).transport.restartIce();
      return { data: { ice_parameters: iceParameters } };
    },

    produce: async ({ transport_id, kind, rtp_parameters, app_data }) => {
      const { room, peer } = this.joined();
      this.requireProducer();
      const { transport, direction } = this.transport(peer, transport_id);
      if (direction !== 'send') throw new SignalingError('bad_request', 'produce on the sending transport');
      if (peer.producers.size >= this.options.limits.maxProducersPerPeer) {
        throw new SignalingError('limit_reached', `at most ${this.options.limits.maxProducersPerPeer} producers per peer`);
      }
      for (const existing of peer.producers.values()) {
        if ((existing.appData as { source?: string }).source === app_data.source) {
          throw new SignalingError('bad_request', `already sending ${app_data.source}: close that producer first`);
        }
      }
      const producer = await transport.produce({
        kind, rtpParameters: rtp_parameters as never, appData: { peerId: peer.id, source: app_data.source },
      });
      peer.producers.set(producer.id, producer);
      producer.on('transportclose', () => peer.producers.delete(producer.id));
      return { data: { id: producer.id }, after: () => room.addProducer(peer, producer) };
    },

    closeProducer: async ({ producer_id }) => {
      const { peer } = this.joined();
      this.ownProducer(peer, producer_id).close();
      peer.producers.delete(producer_id);
      return { data: {} };
    },

    pauseProducer: async ({ producer_id }) => {
      await this.ownProducer(this.joined().peer, producer_id).pause();
      return { data: {} };
    },

    resumeProducer: async ({ producer_id }) => {
      await this.ownProducer(this.joined().peer, producer_id).resume();
      return { data: {} };
    },

    pauseConsumer: async ({ consumer_id }) => {
      await this.ownConsumer(this.joined().peer, consumer_id).pause();
      return { data: {} };
    },

    resumeConsumer: async ({ consumer_id }) => {
      await this.ownConsumer(this.joined().peer, consumer_id).resume();
      return { data: {} };
    },

    setConsumerPreferredLayers: async ({ consumer_id, spatial_layer, temporal_layer }) => {
      const consumer = this.ownConsumer(this.joined().peer, consumer_id);
      if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
        throw new SignalingError('bad_request', 'this consumer has no layers (its producer is not simulcast or SVC)');
      }
      await consumer.setPreferredLayers({ spatialLayer: spatial_layer, temporalLayer: temporal_layer });
      return { data: {} };
    },

    leave: async () => {
      this.leave();
      return { data: {} };
    },
  };

  /** Leaves the call (if joined) and stops using the room. */
  private leave(): void {
    const { room, peer } = this;
    this.peer = undefined;
    this.room = undefined;
    if (!room) return;
    if (peer) {
      room.leave(peer);
      this.options.log.info({ channel_id: this.channelId, user_id: this.userId, peer_id: peer.id }, 'call left');
    }
    this.options.rooms.detach(room, this);
  }

  roomLost(reason: string): void {
    this.peer = undefined;
    this.room = undefined;
    this.notify('rejoin', { reason });
  }

  /** Applies a changed role (or lost access, `undefined`) to this connection at once. */
  changeRole(role: Role | undefined): void {
    if (!role) {
      this.socket.close(CloseCodes.accessRevoked, 'access revoked');
      return;
    }
    this.role = role;
    if (role !== 'viewer' || !this.peer) return;
    for (const producer of this.peer.producers.values()) {
      producer.close();
      this.notify('producerClosed', { producer_id: producer.id, reason: 'you are a viewer now' });
    }
    this.peer.producers.clear();
    for (const [id, { transport, direction }] of this.peer.transports) {
      if (direction === 'send') {
        transport.close();
        this.peer.transports.delete(id);
      }
    }
  }

  /** The socket closed: everything this connection owned goes. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.leave();
  }
}

