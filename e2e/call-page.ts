// The page the browser tests drive: one participant on the reference client, with what the tests read exposed
// on `window.e2e`: the streams received, their RTP statistics, the ICE candidates in use, and what happened.
import { Call, turnIceServers, type RemoteStream } from './call-client.ts';
import { audioElement, mediaStream, type HTMLAudioElement, type RTCStatsReport } from './dom.ts';

export interface JoinOptions {
  serverUrl: string;
  token: string;
  channelId: string;
  displayName: string;
  /** Send microphone and camera (the browser's fake devices) after joining. */
  send: boolean;
  /** Fetch TURN credentials and send everything through the relay. */
  relay?: boolean;
}

export interface StreamInfo {
  consumerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: string;
  type: string;
}

/** One received stream's `inbound-rtp` counters (zero until the stream has stats). */
export interface StreamSample extends StreamInfo {
  bytesReceived: number;
  framesDecoded: number;
  totalAudioEnergy: number;
}

export interface SelectedCandidates {
  local: string;
  remote: string;
  state: string;
}

export type PageEvent =
  | { event: 'peerLeft'; peerId: string }
  | ({ event: 'streamClosed' } & StreamInfo)
  | { event: 'closed'; code: number; reason: string };

const events: PageEvent[] = [];
let call: Call | undefined;
/** Chrome decodes received audio only while something plays it, as a real client's page does. */
const playing = new Map<string, HTMLAudioElement>();

function current(): Call {
  if (!call) throw new Error('not in a call: join first');
  return call;
}

function info({ consumer, peerId, source, type }: RemoteStream): StreamInfo {
  return { consumerId: consumer.id, peerId, kind: consumer.kind, source, type };
}

/** The candidate pair ICE selected on one transport, from its peer connection's stats. */
function selected(report: RTCStatsReport): SelectedCandidates | undefined {
  for (const stat of report.values()) {
    if (stat.type !== 'transport' || !stat.selectedCandidatePairId) continue;
    const pair = report.get(stat.selectedCandidatePairId);
    return {
      local: report.get(pair?.localCandidateId)?.candidateType,
      remote: report.get(pair?.remoteCandidateId)?.candidateType,
      state: pair?.state,
    };
  }
  return undefined;
}

const api = {
  async join(options: JoinOptions): Promise<{ peerId: string; role: string; turnUsername?: string }> {
    const iceServers = options.relay ? await turnIceServers(options.serverUrl, options.token) : undefined;
    call = new Call({
      serverUrl: options.serverUrl,
      token: options.token,
      channelId: options.channelId,
      displayName: options.displayName,
      iceServers,
      iceTransportPolicy: options.relay ? 'relay' : 'all',
    });
    call.on('peerLeft', ({ peerId }) => events.push({ event: 'peerLeft', peerId }));
    call.on('streamAdded', ({ consumer }) => {
      if (consumer.kind !== 'audio') return;
      const audio = audioElement();
      audio.srcObject = mediaStream([consumer.track]);
      playing.set(consumer.id, audio);
      audio.play().catch((err) => console.error('playing audio:', err));
    });
    call.on('streamClosed', (stream) => {
      const audio = playing.get(stream.consumer.id);
      if (audio) audio.srcObject = null;
      playing.delete(stream.consumer.id);
      events.push({ event: 'streamClosed', ...info(stream) });
    });
    call.on('closed', ({ code, reason }) => events.push({ event: 'closed', code, reason }));
    // Console errors reach the tests' failure messages.
    call.on('error', (err) => console.error('call:', err));
    await call.join();
    // Small video: two cores run every participant's encoders and decoders.
    if (options.send) await call.sendMicAndWebcam({ audio: true, video: { width: 320, height: 240, frameRate: 15 } });
    return { peerId: call.peerId, role: call.role, turnUsername: iceServers?.[0]?.username };
  },

  async shareScreen(): Promise<{ label: string; displaySurface?: string }> {
    const track = await current().shareScreen({ video: { width: 320, height: 240, frameRate: 15 } });
    return { label: track.label, displaySurface: track.getSettings().displaySurface };
  },

  leave: () => current().leave(),

  peerId: () => current().peerId,

  events: () => events,

  streams: (): StreamInfo[] => [...current().streams.values()].map(info),

  /** Counters of every received stream, from the receiving transport's `RTCPeerConnection.getStats()`. */
  async inbound(): Promise<StreamSample[]> {
    const { recvTransport, streams } = current();
    if (!recvTransport) return [];
    const byMid = new Map<string, Record<string, number>>();
    for (const stat of (await recvTransport.getStats()).values()) {
      if (stat.type === 'inbound-rtp') byMid.set(stat.mid, stat);
    }
    return [...streams.values()].map((stream) => {
      // mediasoup-client's localId of a consumer is its transceiver's MID.
      const stat = byMid.get(stream.consumer.localId);
      return {
        ...info(stream),
        bytesReceived: stat?.bytesReceived ?? 0,
        framesDecoded: stat?.framesDecoded ?? 0,
        totalAudioEnergy: stat?.totalAudioEnergy ?? 0,
      };
    });
  },

  async candidates(): Promise<{ send?: SelectedCandidates; recv?: SelectedCandidates }> {
    const { sendTransport, recvTransport } = current();
    return {
      send: sendTransport && selected(await sendTransport.getStats()),
      recv: recvTransport && selected(await recvTransport.getStats()),
    };
  },
};

export type PageApi = typeof api;

Object.assign(globalThis, { e2e: api });
