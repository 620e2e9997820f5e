// The baseline for bench/sfu/index.ts: a mediasoup worker (the same binary, through sfu/mediasoup.ts, with a
// certificate of the same kind) and one router with the same codecs, made directly: no server, no signaling,
// no observers.
import path from 'node:path';
import { mediaCodecs } from '../../sfu/codecs.ts';
import { dtlsCertificate } from '../../sfu/dtls-certificate.ts';
import { createWorker } from '../../sfu/mediasoup.ts';
import { findWorkerBinary } from '../../sfu/worker-binary.ts';
import { serveUntilTold } from '../shared/child.ts';
import { mediaCommands } from './media.ts';

const { binary, looked } = findWorkerBinary(process.env.MEDIASOUP_WORKER_BIN);
if (!binary) throw new Error(`no mediasoup worker at ${looked.join(' or ')} (run scripts/install-mediasoup-worker.sh)`);
const certificate = await dtlsCertificate(path.join(process.env.DATA_DIR!, 'bare-sfu'));
const worker = await createWorker({
  binary,
  rtcMinPort: 40000,
  rtcMaxPort: 49999,
  dtlsCertificateFile: certificate.certificateFile,
  dtlsPrivateKeyFile: certificate.privateKeyFile,
});
const router = await worker.createRouter({ mediaCodecs });
// No HTTP here: the url of the ready line (which startChild waits for) is empty.
serveUntilTold({ url: '', pid: process.pid, worker_pid: worker.pid }, async () => worker.close(),
  mediaCommands(() => ({ router, announce: async () => {} })));
