// The /rtc signaling protocol (documented in sfu/README.md): requests with ids and their responses, plus server
// notifications, shaped like mediasoup-demo's protoo messages. Our own fields are snake_case; mediasoup's
// structures (RTP capabilities and parameters, ICE and DTLS parameters) pass through in mediasoup's own shape.
import { z } from 'zod';

export const MAX_MESSAGE_BYTES = 64 * 1024;

export const RequestMessage = z.strictObject({
  request: z.literal(true),
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  method: z.string().max(64),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type RequestMessage = z.infer<typeof RequestMessage>;

export const Sources = ['mic', 'webcam', 'screen', 'screen-audio'] as const;
export type Source = (typeof Sources)[number];

/** The kind of media each source is: a producer's kind must match its source. */
export const sourceKinds: Record<Source, 'audio' | 'video'> = {
  mic: 'audio', webcam: 'video', screen: 'video', 'screen-audio': 'audio',
};

const Id = z.string().min(1).max(64);
const Codec = z.looseObject({
  kind: z.enum(['audio', 'video']),
  mimeType: z.string().regex(/^(audio|video)\/[\w.-]+$/),
  clockRate: z.number().int().positive(),
});
const RtpCapabilities = z.looseObject({
  codecs: z.array(Codec).max(100),
  headerExtensions: z.array(z.looseObject({ uri: z.string() })).max(100).optional(),
});
const DtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.looseObject({ algorithm: z.string(), value: z.string() })).min(1).max(10),
});
const RtpParameters = z.looseObject({
  codecs: z.array(z.looseObject({ mimeType: z.string(), payloadType: z.number().int(), clockRate: z.number() })).min(1).max(20),
  encodings: z.array(z.looseObject({})).max(10).optional(),
});

/** What each method takes. */
export const requestData = {
  getRouterRtpCapabilities: z.strictObject({}),
  join: z.strictObject({
    rtp_capabilities: RtpCapabilities,
    // Cleaned and cut to 64 characters by the server (display-name.ts); longer input is refused outright.
    display_name: z.string().max(256).optional(),
  }),
  createWebRtcTransport: z.strictObject({
    direction: z.enum(['send', 'recv']),
    force_tcp: z.boolean().optional(),
  }),
  connectWebRtcTransport: z.strictObject({ transport_id: Id, dtls_parameters: DtlsParameters }),
  restartIce: z.strictObject({ transport_id: Id }),
  produce: z.strictObject({
    transport_id: Id,
    kind: z.enum(['audio', 'video']),
    rtp_parameters: RtpParameters,
    app_data: z.strictObject({ source: z.enum(Sources) }),
  }),
  closeProducer: z.strictObject({ producer_id: Id }),
  pauseProducer: z.strictObject({ producer_id: Id }),
  resumeProducer: z.strictObject({ producer_id: Id }),
  pauseConsumer: z.strictObject({ consumer_id: Id }),
  resumeConsumer: z.strictObject({ consumer_id: Id }),
  setConsumerPreferredLayers: z.strictObject({
    consumer_id: Id,
    spatial_layer: z.number().int().min(0).max(3),
    temporal_layer: z.number().int().min(0).max(3).optional(),
  }),
  leave: z.strictObject({}),
};
export type Method = keyof typeof requestData;
export type RequestData<M extends Method> = z.infer<(typeof requestData)[M]>;

export function isMethod(method: string): method is Method {
  return Object.hasOwn(requestData, method);
}

/** Error codes of failed responses. */
export type ErrorCode =
  | 'bad_request'
  | 'unknown_method'
  | 'not_joined'
  | 'already_joined'
  | 'forbidden'
  | 'not_found'
  | 'room_full'
  | 'limit_reached'
  | 'source_mismatch'
  | 'too_many_requests'
  | 'unsupported'
  | 'unavailable';

/** A failed request, as answered. With a `cause`, the server failed (logged as an error) rather than refused. */
export class SignalingError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

export interface ProducerInfo {
  id: string;
  kind: 'audio' | 'video';
  source: Source;
  paused: boolean;
}

export interface PeerInfo {
  id: string;
  user_id: string;
  /** The account's username: shown with the display name, which the user chooses. */
  username: string;
  display_name: string;
  joined_at: string;
  producers: ProducerInfo[];
}

/** Server notifications and their data. */
export interface Notifications {
  peerJoined: PeerInfo;
  peerLeft: { peer_id: string };
  newConsumer: {
    id: string;
    producer_id: string;
    peer_id: string;
    kind: 'audio' | 'video';
    source: Source;
    rtp_parameters: unknown;
    type: string;
    producer_paused: boolean;
  };
  consumerClosed: { consumer_id: string; producer_id: string; peer_id: string };
  producerPaused: { peer_id: string; producer_id: string; consumer_id: string };
  producerResumed: { peer_id: string; producer_id: string; consumer_id: string };
  producerClosed: { producer_id: string; reason: string };
  consumerLayersChanged: { consumer_id: string; spatial_layer: number | null; temporal_layer: number | null };
  activeSpeaker: { peer_id: string | null };
  audioLevels: { levels: { peer_id: string; volume: number }[] };
  rejoin: { reason: string };
}
export type NotificationMethod = keyof Notifications;

/** WebSocket close codes of /rtc, in the private range, each with a reason text. */
export const CloseCodes = {
  unauthorized: 4401,
  accessRevoked: 4403,
  notFound: 4404,
  /** The channel is archived: read-only, so no call, until it is unarchived. */
  archived: 4409,
  malformed: 4400,
  tooManyConnections: 4429,
  unavailable: 4503,
  serverClosing: 1001,
} as const;
