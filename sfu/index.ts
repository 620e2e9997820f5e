export { startCalls, type Calls, type CallsOptions, type RtcSettings } from './calls.ts';
export { turnCredentials, type TurnCredentials, type TurnSettings } from './turn-credentials.ts';
export { findWorkerBinary } from './worker-binary.ts';
export type { PeerInfo, ProducerInfo, Notifications, Method, ErrorCode } from './protocol.ts';
export { CloseCodes, Sources } from './protocol.ts';
