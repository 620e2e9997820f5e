// A VOICE channel's call: who is in it before joining, then join, mute, camera, screen share and leave, a tile
// per participant (names as the server verified them) with the active speaker marked, received audio played.
// Loaded on demand: mediasoup-client stays out of the shell's JavaScript.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { RemoteStream } from '../../../call-client.ts';
import { useResource } from '../api.ts';
import type { CallInfo, ChannelInfo } from '../api-types.ts';
import { currentUser } from '../session.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { CallSession, type CallPeer, type CallSnapshot } from './call/call-session.ts';
import './CallView.css';

/** How often the list of who is in the call is asked again while not in it. */
const PARTICIPANTS_REFRESH_MS = 5_000;

function Media({ track, kind, label }: { track: MediaStreamTrack; kind: 'audio' | 'video'; label: string }) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    element.srcObject = new MediaStream([track]);
    element.play().catch(() => undefined);
    return () => void (element.srcObject = null);
  }, [track]);
  return kind === 'video'
    ? <video ref={ref} autoPlay playsInline muted aria-label={label} />
    : <audio ref={ref} autoPlay aria-label={label} />;
}

const nameWithAccount = (p: { displayName: string; username: string }) =>
  p.displayName === p.username ? p.displayName : `${p.displayName} (@${p.username})`;

const nameOfPeer = (snapshot: CallSnapshot, peerId: string) => {
  const peer = snapshot.peers.find((p) => p.peerId === peerId);
  return peer ? nameWithAccount(peer) : 'someone who left';
};

function Tile({ peer, streams, snapshot, self }: { peer: CallPeer; streams: RemoteStream[]; snapshot: CallSnapshot; self?: CallSession }) {
  const name = nameWithAccount(peer);
  const remote = (source: string) => streams.find((s) => s.source === source);
  const mic = remote('mic');
  const webcamTrack = self ? self.localTrack('webcam') : remote('webcam')?.consumer.track;
  const screenTrack = self ? self.localTrack('screen') : remote('screen')?.consumer.track;
  const muted = self ? snapshot.sending.micMuted : !!mic && snapshot.pausedConsumers.has(mic.consumer.id);
  const listening = self ? !snapshot.sending.mic : !mic;
  const speaking = snapshot.activeSpeaker === peer.peerId;
  const state = [muted && 'muted', listening && !muted && 'no microphone', speaking && 'speaking'].filter(Boolean).join(', ');
  return (
    <li className={`call-tile${speaking ? ' speaking' : ''}`} aria-label={`${name}${self ? ' (you)' : ''}${state ? `: ${state}` : ''}`} data-peer={peer.peerId}>
      {webcamTrack ? <Media track={webcamTrack} kind="video" label={`Camera of ${name}`} /> : <div className="call-avatar" aria-hidden="true">{peer.displayName.slice(0, 1).toUpperCase()}</div>}
      {screenTrack && <Media track={screenTrack} kind="video" label={`Screen shared by ${name}`} />}
      <p className="call-name">
        {name}{self && ' (you)'}
        {muted && <span className="call-badge">Muted</span>}
        {listening && !muted && <span className="call-badge">No microphone</span>}
        {speaking && <span className="call-badge speaking">Speaking</span>}
      </p>
    </li>
  );
}

function InCall({ session, onLeft }: { session: CallSession; onLeft: () => void }) {
  const snapshot = useSyncExternalStore((l) => session.subscribe(l), () => session.snapshot);
  const [busy, setBusy] = useState(false);
  const run = (change: () => Promise<void>) => () => {
    setBusy(true);
    change().finally(() => setBusy(false));
  };
  const me: CallPeer = { peerId: snapshot.peerId, userId: session.me.id, username: session.me.username, displayName: session.me.display_name ?? session.me.username };
  const { sending } = snapshot;
  if (snapshot.phase === 'joining') return <p aria-busy="true">Joining the call…</p>;
  return (
    <>
      {snapshot.problem && <p className="error" role="alert">{snapshot.problem}</p>}
      {snapshot.phase === 'left' ? (
        <button type="button" onClick={onLeft}>Back to the call's lobby</button>
      ) : (
        <>
          {!snapshot.canProduce && <p className="muted">You are a viewer: you can listen and watch, but not send.</p>}
          <div className="call-controls" role="toolbar" aria-label="Call controls">
            {snapshot.canProduce && sending.mic && (
              <button type="button" aria-pressed={sending.micMuted} disabled={busy} onClick={run(() => session.setMuted(!sending.micMuted))}>
                {sending.micMuted ? 'Unmute' : 'Mute'}
              </button>
            )}
            {snapshot.canProduce && (
              <button type="button" aria-pressed={sending.webcam} disabled={busy} onClick={run(() => session.setCamera(!sending.webcam))}>
                {sending.webcam ? 'Turn camera off' : 'Turn camera on'}
              </button>
            )}
            {snapshot.canProduce && (
              <button type="button" aria-pressed={sending.screen} disabled={busy} onClick={run(() => session.setScreen(!sending.screen))}>
                {sending.screen ? 'Stop sharing' : 'Share screen'}
              </button>
            )}
            <button type="button" className="call-leave" disabled={busy} onClick={run(async () => { await session.leave(); onLeft(); })}>Leave call</button>
          </div>
        </>
      )}
      {snapshot.phase === 'joined' && (
        <ul className="call-tiles" aria-label="Participants">
          <Tile peer={me} streams={[]} snapshot={snapshot} self={session} />
          {snapshot.peers.map((peer) => (
            <Tile key={peer.peerId} peer={peer} streams={snapshot.streams.filter((s) => s.peerId === peer.peerId)} snapshot={snapshot} />
          ))}
        </ul>
      )}
      {/* Chrome decodes received audio only while something plays it. */}
      <div hidden>
        {snapshot.streams.filter((s) => s.consumer.kind === 'audio').map((s) => (
          <Media key={s.consumer.id} track={s.consumer.track} kind="audio" label={`Voice of ${nameOfPeer(snapshot, s.peerId)}`} />
        ))}
      </div>
    </>
  );
}

function Lobby({ channelId, archived, onJoin }: { channelId: string; archived: boolean; onJoin: () => void }) {
  const call = useResource<CallInfo>(`/api/channels/${channelId}/call`);
  const { reload } = call;
  useEffect(() => {
    const timer = setInterval(reload, PARTICIPANTS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  if (call.error?.status === 503) return <p role="alert" className="error">Calls are off on this server: an administrator has to install the media server (sfu/README.md).</p>;
  if (archived) return <p className="archived-note" role="status">This channel is archived: no calls until an owner or admin unarchives it.</p>;
  const participants = call.data?.participants ?? [];
  return (
    <section aria-label="Before joining">
      <ErrorLine error={call.error?.status === 503 ? null : call.error} />
      <h2>{participants.length ? `In the call now (${participants.length})` : 'Nobody is in the call yet.'}</h2>
      {participants.length > 0 && (
        <ul aria-label="In the call now">
          {participants.map((p) => <li key={p.id}>{nameWithAccount({ displayName: p.display_name, username: p.username })}</li>)}
        </ul>
      )}
      <button type="button" className="call-join" onClick={onJoin} disabled={!call.data}>Join call</button>
    </section>
  );
}

export default function CallView({ channel }: { channel: ChannelInfo }) {
  const [session, setSession] = useState<CallSession | null>(null);
  useEffect(() => () => void session?.leave(), [session]);
  const join = () => {
    const me = currentUser();
    if (!me) return;
    const next = new CallSession(channel.id, me);
    setSession(next);
    void next.join();
  };
  return (
    <section aria-label="Call" className="call">
      {session ? <InCall session={session} onLeft={() => setSession(null)} /> : <Lobby channelId={channel.id} archived={channel.archived_at !== null} onJoin={join} />}
    </section>
  );
}
