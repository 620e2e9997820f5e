import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger, Role } from '../core/index.ts';
import { cleanDisplayName } from './display-name.ts';
import { hangUp } from './hang-up.ts';
import type { WebRtcTransport } from './mediasoup.ts';
import {
  CloseCodes,
  isMethod,
  RequestMessage,
  requestData,
  SignalingError,
  sourceKinds,
  type ErrorCode,
  type Method,
  type NotificationMethod,
  type Notifications,
  type RequestData,
} from './protocol.ts';
import type { QuotaMember, UserQuota } from './quotas.ts';
import type { Peer, Room, RoomMember } from './room.ts';
import { TokenBucket } from './token-bucket.ts';

export interface SessionLimits {
  maxPeersPerRoom: number;
  maxProducersPerPeer: number;
  /** Sustained requests per second on one connection; bursts of twice that pass. */
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
  /** The verified account; `displayName` is its own (cleaned), else the username. */
  user: { id: string; username: string; displayName: string };
  role: Role;
  /** The token epoch of the access token the connection opened with (a later one ends it). */
  tokenEpoch: number;
  rooms: RoomDirectory;
  limits: SessionLimits;
  quota: UserQuota;
  transports: TransportSettings;
  log: Logger;
}

/** Why a connection that had access ends: its close code and reason. */
export interface Ending {
  code: number;
  reason: string;
}
export const revoked: Ending = { code: CloseCodes.accessRevoked, reason: 'access revoked' };

type Handler<M extends Method> = (data: RequestData<M>) => Promise<{ data: object; after?: () => Promise<void> }>;

const MAX_QUEUED = 32;
/** A connection over its rate is logged at most this often: a flood must not become a flood of log lines. */
const RATE_LOG_INTERVAL_MS = 10_000;

// Refusals that say something about load or abuse rather than a client's mistake.
const NOTABLE: ReadonlySet<ErrorCode> = new Set(['room_full', 'limit_reached', 'too_many_requests', 'unavailable']);

/**
 * One /rtc connection of an authenticated user to one VOICE channel's call. Requests are handled one at a time
 * in arrival order, so a client can never race its own join, produce or leave; each gets at most one response
 * (none once the connection is ended, e.g. by revoked access).
 */
export class Session implements RoomMember, QuotaMember {
  private room?: Room;
  private peer?: Peer;
  private role: Role;
  private queue: Promise<void> = Promise.resolve();
  /** Access rechecks under way: requests wait for them, so none is handled for someone who has just lost access. */
  private gate: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly requests: TokenBucket;
  private rateLoggedAt = -Infinity;
  private closed = false;

  private readonly socket: WebSocket;
  private readonly options: SessionOptions;

  constructor(socket: WebSocket, options: SessionOptions) {
    this.socket = socket;
    this.options = options;
    this.role = options.role;
    this.requests = new TokenBucket(options.limits.requestsPerSecond);
  }

  get userId(): string {
    return this.options.user.id;
  }

  get channelId(): string {
    return this.options.channelId;
  }

  get tokenEpoch(): number {
    return this.options.tokenEpoch;
  }

  /** The channel whose call this connection has a peer in, if any. */
  get joinedChannel(): string | undefined {
    return this.peer ? this.channelId : undefined;
  }

  /** Handles one frame from the socket; nothing at all once the session has ended. */
  receive(raw: string, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return this.disconnect(CloseCodes.malformed, 'send JSON text frames');
    let message: RequestMessage;
    try {
      const parsed = RequestMessage.safeParse(JSON.parse(raw));
      if (!parsed.success) throw new Error('not a request');
      message = parsed.data;
    } catch {
      return this.disconnect(CloseCodes.malformed, 'malformed message: expected {request: true, id, method, data}');
    }
    const limited = this.rateLimit();
    if (limited) {
      const log = Date.now() - this.rateLoggedAt >= RATE_LOG_INTERVAL_MS;
      if (log) this.rateLoggedAt = Date.now();
      this.refuse(message.id, message.method, new SignalingError('too_many_requests', limited), log);
      return;
    }
    this.queued += 1;
    this.queue = this.queue.then(() => this.process(message)).finally(() => (this.queued -= 1));
  }

  /** Takes a request from this connection's allowance and the user's; says why when either is spent. */
  private rateLimit(): string | undefined {
    const user = this.options.quota.requests;
    if (this.queued >= MAX_QUEUED || !this.requests.ready) return 'too many requests on this connection: slow down';
    if (!user.ready) return 'too many requests from your account (all its connections): slow down';
    this.requests.take();
    user.take();
    return undefined;
  }

  private async process({ id, method, data }: RequestMessage): Promise<void> {
    await this.gate;
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
      if (!this.closed) this.refuse(id, method, this.toSignalingError(err));
      return;
    }
    // Ended while it ran: what it made was closed with the peer, and no answer claims otherwise.
    if (this.closed) return;
    this.send({ response: true, id, ok: true, data: result.data });
    // What follows a success (consumers for others) is not part of the answer: it was already sent, once.
    await result.after?.().catch((err: unknown) => {
      this.options.log.warn({ err, channel_id: this.channelId, method }, 'work after a signaling request failed');
    });
  }

  /** Answers a request with an error, and logs it once: a refusal in one line, a failure of ours with its cause. */
  private refuse(id: number, method: string, error: SignalingError, log = true): void {
    this.send({ response: true, id, ok: false, error: { code: error.code, message: error.message, details: error.details } });
    if (!log) return;
    const fields = { channel_id: this.channelId, user_id: this.userId, method, code: error.code };
    if (error.cause) this.options.log.error({ ...fields, err: error.cause }, 'signaling request failed');
    else this.options.log[NOTABLE.has(error.code) ? 'warn' : 'info']({ ...fields, reason: error.message }, 'call request refused');
  }

  /**
   * mediasoup's own validation errors become bad requests, and so do the worker's refusals of a request (e.g. a
   * duplicate MID or SSRC), which name the method only; a worker out of ports means the server is full; anything
   * else is a failure of ours, not described to the client.
   */
  private toSignalingError(err: unknown): SignalingError {
    if (err instanceof SignalingError) return err;
    const { name, message } = err as Error;
    if (name === 'TypeError' || name === 'InvalidStateError') return new SignalingError('bad_request', message);
    if (name === 'UnsupportedError') return new SignalingError('unsupported', message);
    if (/no more available ports/.test(message ?? '')) {
      return new SignalingError('unavailable', 'no media ports are free on this server: try again later');
    }
    const refusedBy = /\[method:([\w.]+)\]/.exec(message ?? '');
    if (refusedBy) {
      return new SignalingError('bad_request', `the media server refused ${refusedBy[1]}: ${message.split('[')[0]!.trim() || 'invalid parameters'}`);
    }
    return new SignalingError('unavailable', 'the media server could not do this; try again', undefined, err);
  }

  private send(message: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private notify<M extends NotificationMethod>(method: M, data: Notifications[M]): void {
    this.send({ notification: true, method, data });
  }

  private async attach(): Promise<Room> {
    if (this.room && !this.room.isClosed) return this.room;
    const room = await this.options.rooms.attach(this.channelId, this);
    if (this.closed) {
      // Ended while the room was opening: it must not count this connection as using it.
      this.options.rooms.detach(room, this);
      throw new SignalingError('not_joined', 'the connection has ended');
    }
    this.room = room;
    return room;
  }

  /**
   * After an await: throws, closing what was just made, unless `peer` is still this connection's, in its call,
   * and may still send if what was made is for sending (the role may have changed meanwhile).
   */
  private stillJoined(peer: Peer, made: { close(): void }, sending: boolean): void {
    let refusal: SignalingError | undefined;
    if (this.closed || this.peer !== peer) refusal = new SignalingError('not_joined', 'the call was left meanwhile');
    else if (sending && this.role === 'viewer') refusal = new SignalingError('forbidden', 'you are a viewer now');
    if (!refusal) return;
    made.close();
    throw refusal;
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
      // From here to room.join nothing awaits: the counts checked are the counts joined into.
      this.options.quota.admitPeer(this.channelId);
      if (room.peers.size >= this.options.limits.maxPeersPerRoom) {
        throw new SignalingError('room_full', `this call is full (${this.options.limits.maxPeersPerRoom} people)`);
      }
      const { user } = this.options;
      const peer: Peer = {
        id: randomUUID(),
        userId: user.id,
        username: user.username,
        displayName: cleanDisplayName(display_name) ?? user.displayName,
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
      return {
        data: { peer_id: peer.id, display_name: peer.displayName, role: this.role, can_produce: this.role !== 'viewer', peers },
      };
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
      // Its ports are counted from now until it closes, however it closes (left, replaced, router gone).
      const release = this.options.quota.reserveTransport();
      let transport: WebRtcTransport;
      try {
        transport = await room.router.createWebRtcTransport({
          listenIps: transports.listenIps,
          enableUdp: !force_tcp,
          enableTcp: transports.enableTcp,
          preferUdp: true,
          initialAvailableOutgoingBitrate: transports.initialAvailableOutgoingBitrate,
          appData: { peerId: peer.id, direction },
        });
      } catch (err) {
        release();
        throw err;
      }
      transport.observer.once('close', release);
      this.stillJoined(peer, transport, direction === 'send');
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
      if (sourceKinds[app_data.source] !== kind) {
        throw new SignalingError('source_mismatch', `${app_data.source} is ${sourceKinds[app_data.source]}, not ${kind}`);
      }
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
      this.stillJoined(peer, producer, true);
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

  /**
   * Checks this user's access again after a change: a role, or why the connection ends (no access, the channel
   * archived or deleted). Requests wait until the answer is applied, so none that arrives after a removal is
   * handled for the removed user.
   */
  recheck(check: () => Promise<Role | Ending>): void {
    if (this.closed) return;
    const applied = check().then(
      (role) => this.changeRole(role),
      (err: unknown) => {
        this.options.log.error({ err, channel_id: this.channelId, user_id: this.userId }, 'call access recheck failed');
        this.changeRole(revoked);
      },
    );
    this.gate = Promise.all([this.gate, applied]).then(() => {});
  }

  /** Applies a changed role (or the end of this connection) at once. */
  private changeRole(role: Role | Ending): void {
    if (this.closed) return;
    if (typeof role === 'object') {
      this.disconnect(role.code, role.reason);
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

  /**
   * Ends the session first (the peer leaves: its transports, producers and consumers close, the others hear
   * peerLeft, and no further frame is handled), then closes the socket.
   */
  private disconnect(code: number, reason: string): void {
    this.end();
    this.options.log.info({ channel_id: this.channelId, user_id: this.userId, code, reason }, 'rtc connection closed');
    hangUp(this.socket, code, reason);
  }

  /** The socket closed, or the session is being ended: everything this connection owned goes. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.leave();
  }
}

