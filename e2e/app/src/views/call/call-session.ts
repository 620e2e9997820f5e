// One person's part in a call as the call view shows it: the reference client (e2e/call-client.ts, the /rtc
// protocol of sfu/README.md) and what its events said, kept as one snapshot that changes as a whole, so React
// re-renders on every change. The session is on `globalThis.teamspace.call` for devtools and the browser tests.
import { Call, CallError, turnIceServers, type RemoteStream, type Source } from '../../../../call-client.ts';
import { accessToken, type User } from '../../session.ts';

export interface CallPeer {
  peerId: string;
  userId: string;
  username: string;
  displayName: string;
}

export interface Sending {
  mic: boolean;
  micMuted: boolean;
  webcam: boolean;
  screen: boolean;
}

export interface CallSnapshot {
  phase: 'joining' | 'joined' | 'left';
  /** `member`, `admin`, `owner` or `viewer` (viewers only listen). */
  role: string;
  canProduce: boolean;
  peerId: string;
  /** The others, in the order they joined. */
  peers: CallPeer[];
  /** What we receive from the others. */
  streams: RemoteStream[];
  /** Consumers whose sender paused (muted) them. */
  pausedConsumers: ReadonlySet<string>;
  activeSpeaker: string | null;
  sending: Sending;
  /** TURN relays were offered to ICE (the server hands out credentials). */
  relayAvailable: boolean;
  /** Something went wrong that the person should read (a device refused, the server refused or closed). */
  problem: string | null;
}

/** Small enough for two cores to carry every participant of a call; the SFU sends it in two simulcast layers. */
const camera = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 24 } };

const deviceWords: Record<Source, string> = { mic: 'microphone', webcam: 'camera', screen: 'screen', 'screen-audio': 'screen' };

/** A person's words for why a device or the server said no. */
export function explain(error: unknown, source?: Source): string {
  const name = (error as { name?: string }).name;
  const device = source ? deviceWords[source] : 'device';
  if (name === 'NotAllowedError') return `Your browser or device refused the ${device} (permission denied).`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${device} was found on this device.`;
  if (name === 'NotReadableError') return `The ${device} is in use by another application or cannot be read.`;
  if (error instanceof CallError) {
    const codes: Record<string, string> = {
      room_full: 'This call is full.',
      limit_reached: `Your account has reached a call limit: ${error.message}.`,
      too_many_requests: 'Too many requests: wait a moment and try again.',
      unavailable: 'The server has no room for more media right now: try again later.',
      forbidden: 'Viewers can listen and watch, but not send.',
    };
    return codes[error.code] ?? `The call failed: ${error.message}`;
  }
  return `Something went wrong: ${(error as Error).message ?? String(error)}`;
}

/** Why the server ended our connection, by /rtc close code (sfu/README.md). */
function closedBecause(code: number, reason: string): string | null {
  const codes: Record<number, string> = {
    4401: 'Your sign-in expired: join again.',
    4403: 'You no longer have access to this call.',
    4404: 'This call does not exist or you cannot see it.',
    4409: 'This channel is archived: its call has ended, and no one can join until an owner or admin unarchives it.',
    4429: 'Your account has too many call connections open: leave a call elsewhere first.',
    4503: 'Calls are off on this server.',
    1001: 'The server is restarting: join again in a moment.',
  };
  if (code === 1000) return null;
  if (code === 4403 && reason === 'channel deleted') return 'This channel was deleted: its call has ended.';
  return codes[code] ?? `The call connection closed (${code}${reason ? `: ${reason}` : ''}).`;
}

export class CallSession {
  private call: Call | null = null;
  private listeners = new Set<() => void>();
  /** What the problem shown is about, when a change of what we send caused it. */
  private problemSource: Source | null = null;
  /** Left (or the view closed): nothing joins again by itself. */
  private leaving = false;
  snapshot: CallSnapshot = {
    phase: 'joining',
    role: '',
    canProduce: false,
    peerId: '',
    peers: [],
    streams: [],
    pausedConsumers: new Set(),
    activeSpeaker: null,
    sending: { mic: false, micMuted: false, webcam: false, screen: false },
    relayAvailable: false,
    problem: null,
  };

  constructor(
    readonly channelId: string,
    readonly me: User,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What we send from `source`, for our own preview. */
  localTrack(source: Source): MediaStreamTrack | undefined {
    return this.call?.sending(source) as MediaStreamTrack | undefined;
  }

  private update(patch: Partial<CallSnapshot>): void {
    const call = this.call;
    const sending = call
      ? { mic: !!call.sending('mic'), micMuted: call.paused('mic'), webcam: !!call.sending('webcam'), screen: !!call.sending('screen') }
      : this.snapshot.sending;
    const fromCall = call
      ? {
          peers: [...call.peers.values()].map((p) => ({ peerId: p.id, userId: p.user_id, username: p.username, displayName: p.display_name })),
          streams: [...call.streams.values()],
        }
      : {};
    this.snapshot = { ...this.snapshot, sending, ...fromCall, ...patch };
    this.listeners.forEach((l) => l());
  }

  /**
   * Joins, with TURN relays when the server offers them, then sends the microphone unless a viewer. Joining again
   * (`restore`: what was sent before) brings back the mute and the camera; a screen share needs the person's own
   * gesture to start again, so they are asked to.
   */
  async join(restore?: Sending): Promise<void> {
    const token = await accessToken();
    // Without TURN configured the server answers 503: direct connections still work on open networks.
    const iceServers = await turnIceServers(location.origin, token).catch(() => undefined);
    // Left (the view closed) while this waited: joining now would leave a call that nothing shows or ends.
    if (this.leaving) return;
    const call = new Call({
      serverUrl: location.origin,
      token,
      channelId: this.channelId,
      displayName: this.me.display_name ?? this.me.username,
      iceServers,
    });
    this.call = call;
    (globalThis as { teamspace?: Record<string, unknown> }).teamspace = { ...(globalThis as { teamspace?: object }).teamspace, call };
    call.on('peerJoined', () => this.update({}));
    call.on('peerLeft', ({ peerId }) => this.update(this.snapshot.activeSpeaker === peerId ? { activeSpeaker: null } : {}));
    call.on('streamAdded', (stream) => {
      const paused = new Set(this.snapshot.pausedConsumers);
      if (stream.producerPaused) paused.add(stream.consumer.id);
      this.update({ pausedConsumers: paused });
    });
    call.on('streamClosed', () => this.update({}));
    call.on('producerClosed', ({ source, reason }) => this.update({ canProduce: false, problem: `The server stopped your ${deviceWords[source]}: ${reason}.` }));
    call.on('notification', (n) => {
      if (n.method === 'producerPaused' || n.method === 'producerResumed') {
        const paused = new Set(this.snapshot.pausedConsumers);
        if (n.method === 'producerPaused') paused.add(n.data.consumer_id);
        else paused.delete(n.data.consumer_id);
        this.update({ pausedConsumers: paused });
      } else if (n.method === 'activeSpeaker') {
        this.update({ activeSpeaker: n.data.peer_id });
      }
    });
    call.on('error', (error) => console.warn('call:', error));
    call.on('closed', ({ code, reason }) => {
      this.problemSource = null;
      // The account's sessions were ended (a password change, here or elsewhere) while in the call: join again with a
      // refreshed token, once (a refusal while joining is shown). An ended session's refresh fails and signs it out.
      if (code === 4401 && reason === 'session_revoked' && this.snapshot.phase === 'joined' && !this.leaving) {
        const sent = this.snapshot.sending;
        this.update({ phase: 'joining' });
        accessToken({ refused: token, revoked: true }).then(
          () => (this.leaving ? undefined : this.join(sent)),
          () => this.update({ phase: 'left', problem: closedBecause(code, reason) }),
        );
        return;
      }
      this.update({ phase: 'left', problem: closedBecause(code, reason) ?? this.snapshot.problem });
    });
    try {
      await call.join();
      if (this.leaving) {
        await call.leave();
        return;
      }
    } catch (error) {
      call.leave().catch(() => undefined);
      this.problemSource = null;
      this.update({ phase: 'left', problem: explain(error) });
      return;
    }
    this.update({ phase: 'joined', role: call.role, canProduce: call.canProduce, peerId: call.peerId, relayAvailable: !!iceServers });
    if (!call.canProduce) return;
    await this.attempt('mic', () => call.sendMicAndWebcam({ audio: true }));
    if (restore?.micMuted) await this.setMuted(true);
    if (restore?.webcam) await this.setCamera(true);
    if (restore?.screen) this.update({ problem: 'The call reconnected and your screen share stopped: share it again.' });
  }

  /**
   * Runs a change of what we send; a refusal (device or server) becomes the problem shown, not an exception. A
   * success clears only a problem of the same source: the microphone coming up must not hide the camera's refusal.
   */
  private async attempt(source: Source, change: () => Promise<unknown>): Promise<void> {
    try {
      await change();
      // Updated either way: what we send is read from the call afresh.
      this.update(this.problemSource === source ? { problem: null } : {});
    } catch (error) {
      // The connection ended meanwhile (archived, revoked): its reason says more than the change it broke.
      if (this.snapshot.phase === 'left') return;
      this.problemSource = source;
      this.update({ problem: explain(error, source) });
    }
  }

  setMuted(muted: boolean): Promise<void> {
    return this.attempt('mic', () => this.call!.setPaused('mic', muted));
  }

  setCamera(on: boolean): Promise<void> {
    const call = this.call!;
    return this.attempt('webcam', () => (on ? call.sendMicAndWebcam({ video: camera }) : call.stopSending('webcam')));
  }

  setScreen(on: boolean): Promise<void> {
    const call = this.call!;
    return this.attempt('screen', async () => {
      if (on) {
        const track = (await call.shareScreen({ video: true })) as unknown as MediaStreamTrack;
        // The browser's own "stop sharing" ends the track: the client stops sending it, and the view follows.
        track.addEventListener('ended', () => this.update({}));
      } else {
        await call.stopSending('screen');
        await call.stopSending('screen-audio');
      }
    });
  }

  async leave(): Promise<void> {
    this.leaving = true;
    await this.call?.leave();
  }
}
