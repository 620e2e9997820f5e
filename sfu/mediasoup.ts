// The only module that touches mediasoup. mediasoup is pinned to 3.8.4 because that is the newest release whose
// worker can be installed here (Debian's package); a later release fixes worker crashes and makes the STUN check
// constant-time, and moving to it should be a change in this file alone (see sfu/README.md).
import type { types } from 'mediasoup';

export type Worker = types.Worker;
export type Router = types.Router;
export type WebRtcTransport = types.WebRtcTransport;
export type PlainTransport = types.PlainTransport;
export type Producer = types.Producer;
export type Consumer = types.Consumer;
export type RtpCapabilities = types.RtpCapabilities;
export type RtpParameters = types.RtpParameters;
export type RtpCodecCapability = types.RtpCodecCapability;
export type DtlsParameters = types.DtlsParameters;
export type MediaKind = types.MediaKind;
export type WorkerLogLevel = types.WorkerLogLevel;
export type AudioLevelObserverVolume = types.AudioLevelObserverVolume;

export interface WorkerOptions {
  /** Path to the worker binary (found by `findWorkerBinary`). */
  binary: string;
  rtcMinPort: number;
  rtcMaxPort: number;
  dtlsCertificateFile: string;
  dtlsPrivateKeyFile: string;
  logLevel?: WorkerLogLevel;
}

type MediasoupModule = typeof import('mediasoup');
let loaded: { binary: string; module: MediasoupModule } | undefined;

/**
 * mediasoup 3.8.4 reads MEDIASOUP_WORKER_BIN once, when it is first imported; so the variable is set here and the
 * module imported only then. One process uses one binary.
 */
async function mediasoup(binary: string): Promise<MediasoupModule> {
  if (loaded) {
    if (loaded.binary !== binary) throw new Error(`mediasoup already uses the worker ${loaded.binary}`);
    return loaded.module;
  }
  process.env.MEDIASOUP_WORKER_BIN = binary;
  const imported = (await import('mediasoup')) as MediasoupModule & { default?: MediasoupModule };
  loaded = { binary, module: imported.default ?? imported };
  return loaded.module;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const { createWorker } = await mediasoup(options.binary);
  return createWorker({
    logLevel: options.logLevel ?? 'warn',
    rtcMinPort: options.rtcMinPort,
    rtcMaxPort: options.rtcMaxPort,
    dtlsCertificateFile: options.dtlsCertificateFile,
    dtlsPrivateKeyFile: options.dtlsPrivateKeyFile,
  });
}

/** mediasoup's own check of RTP capabilities; throws a TypeError naming what is wrong. */
export async function supportedRtpCapabilities(binary: string): Promise<RtpCapabilities> {
  return (await mediasoup(binary)).getSupportedRtpCapabilities();
}
