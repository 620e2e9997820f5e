// The streams of bench/sfu, known to both sides: the parent's generator sends them, a target child's producers
// receive them. Per sender one Opus stream and one VP8 stream, as a browser in a call sends.
import type { MediaKind, RtpParameters } from '../../sfu/mediasoup.ts';

export const AUDIO_LEVEL_EXTENSION_ID = 1;

export interface Stream {
  sender: number;
  kind: MediaKind;
  ssrc: number;
  payloadType: number;
  rtpParameters: RtpParameters;
}

/** Audio then video of each sender, in an order both processes index by. */
export function streams(senders: number): Stream[] {
  return Array.from({ length: senders }, (_, sender): Stream[] => {
    const audioSsrc = 0x10000 + sender;
    const videoSsrc = 0x20000 + sender;
    const rtcp = { cname: `sender-${sender}`, reducedSize: true };
    return [
      {
        sender, kind: 'audio', ssrc: audioSsrc, payloadType: 111,
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
          // Browsers send their audio level; the room's observers read it (without it they have nothing to do).
          headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: AUDIO_LEVEL_EXTENSION_ID }],
          encodings: [{ ssrc: audioSsrc }],
          rtcp,
        },
      },
      {
        sender, kind: 'video', ssrc: videoSsrc, payloadType: 96,
        rtpParameters: {
          codecs: [{
            mimeType: 'video/VP8', payloadType: 96, clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          }],
          encodings: [{ ssrc: videoSsrc }],
          rtcp,
        },
      },
    ];
  }).flat();
}
