// The reference call client for browsers: one person in one VOICE channel's call, speaking /rtc exactly as
// sfu/README.md describes, on mediasoup-client. Client authors read this as the example, so it stays plain.
import { Device } from 'mediasoup-client';
import type {
  Consumer,
  DtlsParameters,
  IceCandidate,
  IceParameters,
  Producer,
  ProducerOptions,
  RtpCapabilities,
  RtpEncodingParameters,
  RtpParameters,
  Transport,
} from 'mediasoup-client/types';
// The protocol's types alone: the web app (e2e/app) compiles this file too, without the server behind sfu/index.ts.
import type { Notifications, PeerInfo, Sources } from '../sfu/protocol.ts';
import {
  mediaDevices,
  type DisplayMediaStreamOptions,
  type MediaStreamConstraints,
  type MediaStreamTrack,
  type RTCIceServer,
  type RTCIceTransportPolicy,
} from './dom.ts';

export type Source = (typeof Sources)[number];

export interface CallOptions {
  /** The server, e.g. `https://team.example.com`; signaling goes to its `/rtc`. */
  serverUrl: string;
  /** An access token (`POST /api/auth/token`). */
  token: string;
  /** The VOICE channel whose call to join. */
  channelId: string;
  displayName?: string;
  /** STUN/TURN servers for both transports, e.g. from `turnIceServers`. */
  iceServers?: RTCIceServer[];
  /** `relay` sends all media through TURN. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** How long a request waits for its response (default 10 s). */
  requestTimeoutMs?: number;
}

/** A stream received from another participant: play `consumer.track`. */
export interface RemoteStream {
  consumer: Consumer;
  peerId: string;
  source: Source;
  /** The server-side consumer's type: `simple`, or `simulcast` / `svc` (layers can be chosen). */
  type: string;
  /** The sender had paused (muted) it when it was consumed; `producerPaused` / `producerResumed` follow. */
  producerPaused: boolean;
}

/** Simulcast layers of the camera: half resolution and full. */
const webcamLayers: RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 2, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 600_000 },
];

/** A server notification, typed by its method. */
export type Notification = { [M in keyof Notifications]: { method: M; data: Notifications[M] } }[keyof Notifications];

export interface CallEvents {
  /** Someone joined after us (those already there are in `call.peers` once `join` resolves). */
  peerJoined: PeerInfo;
  peerLeft: { peerId: string };
  /** A remote stream is consumed and resumed: media flows. */
  streamAdded: RemoteStream;
  streamClosed: RemoteStream;
  /** The server closed one of our streams (we became a viewer). */
  producerClosed: { source: Source; reason: string };
  /** Audio levels, the active speaker, remote mutes and layer changes, for the UI to show. */
  notification: Notification;
  /** A notification could not be handled (e.g. a stream could not be consumed). */
  error: Error;
  /** The signaling socket closed: this client is out of the call. */
  closed: { code: number; reason: string };
}

/** A failed request (`code` from sfu/README.md's error codes), or `closed` when the socket went away. */
export class CallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CallError';
    this.code = code;
  }
}

interface TransportData {
  id: string;
  ice_parameters: IceParameters;
  ice_candidates: IceCandidate[];
  dtls_parameters: DtlsParameters;
}

/** The requests this client makes: [data sent, data answered]. */
interface Requests {
  getRouterRtpCapabilities: [Record<string, never>, { rtp_capabilities: RtpCapabilities }];
  join: [
    { rtp_capabilities: RtpCapabilities; display_name?: string },
    { peer_id: string; role: string; can_produce: boolean; peers: PeerInfo[] },
  ];
  createWebRtcTransport: [{ direction: 'send' | 'recv' }, TransportData];
  connectWebRtcTransport: [{ transport_id: string; dtls_parameters: DtlsParameters }, object];
  produce: [
    { transport_id: string; kind: 'audio' | 'video'; rtp_parameters: RtpParameters; app_data: { source: Source } },
    { id: string },
  ];
  closeProducer: [{ producer_id: string }, object];
  pauseProducer: [{ producer_id: string }, object];
  resumeProducer: [{ producer_id: string }, object];
  resumeConsumer: [{ consumer_id: string }, object];
  leave: [Record<string, never>, object];
}

interface Pending {
  resolve(data: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One participant of a call. `new Call(options)`, subscribe with `on`, then `join()`; `sendMicAndWebcam()` and
 * `shareScreen()` send media, `leave()` ends it.
 */
export class Call {
  peerId = '';
  role = '';
  canProduce = false;
  /** The others in the call, by peer id. */
  readonly peers = new Map<string, PeerInfo>();
  /** What we receive, by consumer id. */
  readonly streams = new Map<string, RemoteStream>();
  sendTransport?: Transport;
  recvTransport?: Transport;

  private readonly options: CallOptions;
  private socket?: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private device?: Device;
  private readonly producers = new Map<Source, Producer>();
  /** What we send, kept apart from the producers so that a rejoin can send the same tracks again. */
  private readonly tracks = new Map<Source, MediaStreamTrack>();
  /** Notifications are handled one at a time, in order, and only once `join` has set everything up. */
  private queue: Promise<void> = Promise.resolve();
  private readonly listeners = new Map<keyof CallEvents, Set<(data: never) => void>>();

  constructor(options: CallOptions) {
    this.options = options;
  }

  on<E extends keyof CallEvents>(event: E, listener: (data: CallEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private emit<E extends keyof CallEvents>(event: E, data: CallEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (data: CallEvents[E]) => void)(data);
  }

  /** Connects and joins; resolves once both transports exist (media starts with `sendMicAndWebcam`). */
  async join(): Promise<void> {
    const url = new URL('/rtc', this.options.serverUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', this.options.token);
    url.searchParams.set('channel_id', this.options.channelId);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => this.closed(event.code, event.reason);
    // A refused connection opens and is closed at once with a code (4401, 4404, …): the first request then fails.
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new CallError('closed', `could not connect to ${url.origin}/rtc`));
    });
    const ready = this.setUp();
    this.queue = ready.catch(() => {});
    await ready;
  }

  private async setUp(): Promise<void> {
    const { rtp_capabilities } = await this.request('getRouterRtpCapabilities', {});
    // A new device each time: after `rejoin` the call runs on a new router.
    this.device = new Device();
    await this.device.load({ routerRtpCapabilities: rtp_capabilities });
    const { displayName } = this.options;
    const joined = await this.request('join', {
      rtp_capabilities: this.device.rtpCapabilities,
      ...(displayName ? { display_name: displayName } : {}),
    });
    this.peerId = joined.peer_id;
    this.role = joined.role;
    this.canProduce = joined.can_produce;
    this.peers.clear();
    for (const peer of joined.peers) this.peers.set(peer.id, peer);
    if (this.canProduce) this.sendTransport = await this.createTransport('send');
    // The server answers, then sends `newConsumer` for everything already produced; those wait in the queue.
    this.recvTransport = await this.createTransport('recv');
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<Transport> {
    const data = await this.request('createWebRtcTransport', { direction });
    const device = this.device!;
    const options = {
      id: data.id,
      iceParameters: data.ice_parameters,
      iceCandidates: data.ice_candidates,
      dtlsParameters: data.dtls_parameters,
      iceServers: this.options.iceServers,
      iceTransportPolicy: this.options.iceTransportPolicy,
    };
    const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
    // mediasoup-client asks for these when the first producer or consumer needs the connection.
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('connectWebRtcTransport', { transport_id: transport.id, dtls_parameters: dtlsParameters })
        .then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source as Source;
      this.request('produce', { transport_id: transport.id, kind, rtp_parameters: rtpParameters, app_data: { source } })
        .then(({ id }) => callback({ id }), errback);
    });
    return transport;
  }

  /** Sends the microphone and the camera (either may be left out in `constraints`). */
  async sendMicAndWebcam(constraints: MediaStreamConstraints = { audio: true, video: true }): Promise<void> {
    const media = await mediaDevices().getUserMedia(constraints);
    // Audio before video: Chrome 148+ may refuse the reverse order (sfu/README.md).
    for (const track of media.getAudioTracks()) await this.send('mic', track);
    // The camera goes out in two simulcast layers, so the SFU can give each receiver what its link carries.
    for (const track of media.getVideoTracks()) await this.send('webcam', track, webcamLayers);
  }

  /** Shares a screen, window or tab the user picks; the browser's "stop sharing" ends it. Returns the video track. */
  async shareScreen(options: DisplayMediaStreamOptions = { video: true }): Promise<MediaStreamTrack> {
    const media = await mediaDevices().getDisplayMedia(options);
    for (const track of media.getAudioTracks()) await this.send('screen-audio', track);
    const [video] = media.getVideoTracks();
    if (!video) throw new CallError('bad_request', 'the screen capture has no video');
    await this.send('screen', video);
    return video;
  }

  private async send(source: Source, track: MediaStreamTrack, encodings?: RtpEncodingParameters[]): Promise<void> {
    if (!this.sendTransport) throw new CallError('forbidden', 'viewers may listen but not send media');
    let producer: Producer;
    try {
      // We stop tracks ourselves: a rejoin closes the producers but sends the same tracks again.
      // dom.ts's track is a subset of the DOM's, which mediasoup-client names when compiled with the DOM lib (the app).
      const domTrack = track as ProducerOptions['track'];
      producer = await this.sendTransport.produce({ track: domTrack, encodings, stopTracks: false, appData: { source } });
    } catch (err) {
      track.stop();
      throw err;
    }
    this.tracks.set(source, track);
    this.producers.set(source, producer);
    producer.on('trackended', () => {
      this.stopSending(source).catch((err) => this.emit('error', err));
    });
  }

  /** Stops sending one source (the others stop receiving it). */
  async stopSending(source: Source): Promise<void> {
    const producer = this.producers.get(source);
    this.producers.delete(source);
    this.tracks.get(source)?.stop();
    this.tracks.delete(source);
    if (!producer || producer.closed) return;
    producer.close();
    await this.request('closeProducer', { producer_id: producer.id });
  }

  /** What we send from `source` (e.g. for a preview of our own camera), if anything. */
  sending(source: Source): MediaStreamTrack | undefined {
    return this.tracks.get(source);
  }

  /** Whether our stream from `source` is paused (muted). */
  paused(source: Source): boolean {
    return this.producers.get(source)?.paused ?? false;
  }

  /** Pauses (mutes) or resumes one source: the others get `producerPaused` / `producerResumed`. */
  async setPaused(source: Source, paused: boolean): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer || producer.closed || producer.paused === paused) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.request(paused ? 'pauseProducer' : 'resumeProducer', { producer_id: producer.id });
  }

  /** Leaves the call and closes the socket. */
  async leave(): Promise<void> {
    // Closing the socket leaves too; asking first lets the others hear of it before the socket's close.
    await this.request('leave', {}).catch(() => {});
    this.socket?.close(1000, 'left');
    this.closed(1000, 'left');
  }

  private receive(raw: string): void {
    const message = JSON.parse(raw);
    if (message.response) {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.ok) pending.resolve(message.data);
      else pending.reject(new CallError(message.error.code, message.error.message));
    } else if (message.notification) {
      const notification = { method: message.method, data: message.data } as Notification;
      this.queue = this.queue.then(() => this.handle(notification)).catch((err) => this.emit('error', err));
    }
  }

  private request<M extends keyof Requests>(method: M, data: Requests[M][0]): Promise<Requests[M][1]> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new CallError('closed', `cannot ${method}: not connected`));
    }
    const id = this.nextId++;
    const ms = this.options.requestTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CallError('timeout', `no answer to ${method} within ${ms} ms`));
      }, ms);
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
      socket.send(JSON.stringify({ request: true, id, method, data }));
    });
  }

  private async handle(notification: Notification): Promise<void> {
    switch (notification.method) {
      case 'newConsumer':
        return this.consume(notification.data);
      case 'consumerClosed': {
        const stream = this.streams.get(notification.data.consumer_id);
        if (stream) this.dropStream(stream);
        return;
      }
      case 'peerJoined':
        this.peers.set(notification.data.id, notification.data);
        this.emit('peerJoined', notification.data);
        return;
      case 'peerLeft':
        this.peers.delete(notification.data.peer_id);
        this.emit('peerLeft', { peerId: notification.data.peer_id });
        return;
      case 'producerClosed': {
        const { producer_id, reason } = notification.data;
        for (const [source, producer] of this.producers) {
          if (producer.id !== producer_id) continue;
          producer.close();
          this.producers.delete(source);
          this.tracks.get(source)?.stop();
          this.tracks.delete(source);
          this.emit('producerClosed', { source, reason });
        }
        return;
      }
      case 'rejoin':
        return this.rejoin();
      default:
        this.emit('notification', notification);
    }
  }

  private async consume(data: Notifications['newConsumer']): Promise<void> {
    if (!this.recvTransport) throw new CallError('not_joined', 'newConsumer without a receiving transport');
    const consumer = await this.recvTransport.consume({
      id: data.id, producerId: data.producer_id, kind: data.kind, rtpParameters: data.rtp_parameters as RtpParameters,
    });
    const stream: RemoteStream = {
      consumer, peerId: data.peer_id, source: data.source, type: data.type, producerPaused: data.producer_paused,
    };
    this.streams.set(consumer.id, stream);
    // Consumers start paused on the server so that nothing is sent before the browser is ready for it.
    await this.request('resumeConsumer', { consumer_id: consumer.id });
    this.emit('streamAdded', stream);
  }

  private dropStream(stream: RemoteStream): void {
    stream.consumer.close();
    this.streams.delete(stream.consumer.id);
    this.emit('streamClosed', stream);
  }

  /** Closes everything local; the tracks we send survive unless `stopTracks`. */
  private closeMedia(stopTracks: boolean): void {
    for (const stream of this.streams.values()) this.dropStream(stream);
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = undefined;
    this.recvTransport = undefined;
    this.producers.clear();
    if (stopTracks) {
      for (const track of this.tracks.values()) track.stop();
      this.tracks.clear();
    }
  }

  /** The call's media worker died and took our side of the call with it: join again and resend the same tracks. */
  private async rejoin(): Promise<void> {
    const muted = [...this.producers].filter(([, producer]) => producer.paused).map(([source]) => source);
    this.closeMedia(false);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.setUp();
        break;
      } catch (err) {
        // With no other worker the server answers `unavailable` until the replacement runs (up to 15 s after
        // repeated deaths).
        if (!(err instanceof CallError) || err.code !== 'unavailable' || attempt === 10) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
    const tracks = [...this.tracks].filter(([, track]) => track.readyState === 'live');
    this.tracks.clear();
    for (const [source, track] of tracks) await this.send(source, track);
    for (const source of muted) await this.setPaused(source, true);
  }

  private closed(code: number, reason: string): void {
    if (!this.socket) return;
    this.socket = undefined;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new CallError('closed', `the connection closed: ${code} ${reason}`));
    }
    this.pending.clear();
    this.closeMedia(true);
    this.emit('closed', { code, reason });
  }
}

/** TURN servers with fresh credentials (`GET /api/webrtc/turn-credentials`), for `CallOptions.iceServers`. */
export async function turnIceServers(serverUrl: string, token: string): Promise<RTCIceServer[]> {
  const res = await fetch(new URL('/api/webrtc/turn-credentials', serverUrl), {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new CallError('unavailable', `TURN credentials: HTTP ${res.status}`);
  const { username, credential, uris } = (await res.json()) as { username: string; credential: string; uris: string[] };
  return [{ urls: uris, username, credential }];
}
