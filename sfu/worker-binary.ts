import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where `scripts/install-mediasoup-worker.sh` unpacks the worker, then where Debian's package installs it. */
export const workerBinaryCandidates = [
  path.join(projectRoot, '.cache/mediasoup-worker/root/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker'),
  '/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker',
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The mediasoup worker binary: the configured one (which must exist), else the first installed candidate, else
 * undefined (calls are then off).
 */
export function findWorkerBinary(configured?: string): { binary?: string; looked: string[] } {
  const looked = configured ? [configured] : workerBinaryCandidates;
  return { binary: looked.find(executable), looked };
}
