// The few browser APIs the call client and the test page use. The repository type-checks everything against
// Node's globals (tsconfig has no "dom" lib: adding it makes Node's fetch and WebSocket types clash with the
// server's code), so they are declared here, as a module that adds no globals. A client compiled with the DOM
// lib drops this file and uses the real ones: the names and shapes are the DOM's.

export type RTCIceTransportPolicy = 'all' | 'relay';

export interface RTCIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

type ConstrainNumber = number | { ideal?: number; min?: number; max?: number; exact?: number };

export interface MediaTrackConstraints {
  deviceId?: string;
  width?: ConstrainNumber;
  height?: ConstrainNumber;
  frameRate?: ConstrainNumber;
}

export interface MediaStreamConstraints {
  audio?: boolean | MediaTrackConstraints;
  video?: boolean | MediaTrackConstraints;
}

export interface DisplayMediaStreamOptions extends MediaStreamConstraints {
  /** Offer this tab first in the browser's picker. */
  preferCurrentTab?: boolean;
}

export interface MediaTrackSettings {
  deviceId?: string;
  width?: number;
  height?: number;
  frameRate?: number;
  /** For screen capture: `monitor`, `window` or `browser`. */
  displaySurface?: string;
}

export interface MediaStreamTrack {
  readonly id: string;
  readonly kind: string;
  readonly label: string;
  readonly readyState: 'live' | 'ended';
  getSettings(): MediaTrackSettings;
  stop(): void;
}

export interface MediaStream {
  getAudioTracks(): MediaStreamTrack[];
  getVideoTracks(): MediaStreamTrack[];
}

export interface MediaDevices {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia(options?: DisplayMediaStreamOptions): Promise<MediaStream>;
}

/** `RTCPeerConnection.getStats()`: the statistics by id, each with its `type` (`inbound-rtp`, `transport`, …). */
export type RTCStatsReport = ReadonlyMap<string, { id: string; type: string; [field: string]: any }>;

export interface HTMLAudioElement {
  srcObject: MediaStream | null;
  play(): Promise<void>;
}

/** `new MediaStream(tracks)`. */
export function mediaStream(tracks: MediaStreamTrack[]): MediaStream {
  return new (globalThis as unknown as { MediaStream: new (tracks: MediaStreamTrack[]) => MediaStream }).MediaStream(tracks);
}

/** `new Audio()`: an audio element outside the document. */
export function audioElement(): HTMLAudioElement {
  return new (globalThis as unknown as { Audio: new () => HTMLAudioElement }).Audio();
}

/** `navigator.mediaDevices` (secure contexts only: https, or http on localhost and 127.0.0.1). */
export function mediaDevices(): MediaDevices {
  return (navigator as unknown as { mediaDevices: MediaDevices }).mediaDevices;
}
