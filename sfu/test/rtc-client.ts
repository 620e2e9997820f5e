// A signaling client for tests: speaks /rtc's JSON protocol over a real WebSocket, without media.
import { WebSocket } from 'ws';
import type { TestServer } from '../../server/test/harness.ts';

export interface RtcResponse {
  ok: boolean;
  data?: any;
  error?: { code: string; message: string; details?: unknown };
}

export interface Notification {
  method: string;
  data: any;
}

export interface RtcClient {
  socket: WebSocket;
  request(method: string, data?: object): Promise<RtcResponse>;
  /** Like request, but throws unless the response is ok; returns its data. */
  ok(method: string, data?: object): Promise<any>;
  notifications: Notification[];
  /** Resolves with the first notification (already received or coming) that matches. */
  next(method: string, match?: (data: any) => boolean, ms?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** What a client needs of the server it connects to: its http:// URL. */
export type RtcServer = Pick<TestServer, 'url'>;

export function rtcUrl(server: RtcServer, token: string | undefined, channelId: string): string {
  const url = new URL('/rtc', server.url.replace(/^http/, 'ws'));
  if (token) url.searchParams.set('token', token);
  url.searchParams.set('channel_id', channelId);
  return url.toString();
}

export async function rtcConnect(server: RtcServer, token: string | undefined, channelId: string): Promise<RtcClient> {
  const socket = new WebSocket(rtcUrl(server, token, channelId));
  const pending = new Map<number, (response: RtcResponse) => void>();
  const notifications: Notification[] = [];
  const waiters = new Set<() => void>();
  let nextId = 1;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString());
    if (message.response) pending.get(message.id)?.(message);
    else if (message.notification) {
      notifications.push({ method: message.method, data: message.data });
      for (const wake of waiters) wake();
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });

  const client: RtcClient = {
    socket,
    notifications,
    closed,
    request(method, data = {}) {
      const id = nextId++;
      socket.send(JSON.stringify({ request: true, id, method, data }));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no response to ${method}`)), 5000);
        pending.set(id, (response) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(response);
        });
      });
    },
    async ok(method, data) {
      const response = await client.request(method, data);
      if (!response.ok) throw new Error(`${method} failed: ${JSON.stringify(response.error)}`);
      return response.data;
    },
    next(method, match = () => true, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = notifications.find((n) => n.method === method && match(n.data));
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found.data);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${method} notification within ${ms} ms`));
        }, ms);
        if (!check()) waiters.add(check);
      });
    },
    close: () => socket.close(),
  };
  return client;
}

/** DTLS parameters a client would send (the server only records them until ICE and DTLS start). */
export const clientDtls = {
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }],
};

/** RTP parameters of an Opus sender, as mediasoup-client would produce them. */
export function opusParameters(ssrc: number) {
  return {
    mid: String(ssrc),
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `test-${ssrc}`, reducedSize: true },
  };
}

/** Joins with the router's own capabilities (a device that supports everything the router offers). */
export async function joinCall(client: RtcClient, displayName?: string) {
  const { rtp_capabilities } = await client.ok('getRouterRtpCapabilities');
  const joined = await client.ok('join', { rtp_capabilities, ...(displayName ? { display_name: displayName } : {}) });
  return { ...joined, rtp_capabilities };
}

/** RTP parameters of a VP8 camera sent in simulcast layers (one SSRC each), as Chrome sends them. */
export function vp8SimulcastParameters(firstSsrc: number, layers = 2) {
  return {
    mid: String(firstSsrc),
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }] }],
    headerExtensions: [],
    encodings: Array.from({ length: layers }, (_, i) => ({ ssrc: firstSsrc + i, scaleResolutionDownBy: 2 ** (layers - 1 - i) })),
    rtcp: { cname: `test-${firstSsrc}`, reducedSize: true },
  };
}
