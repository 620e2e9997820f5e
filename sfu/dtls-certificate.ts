import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface CertificateFiles {
  certificateFile: string;
  privateKeyFile: string;
}

const VALID_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
const DAY = 86_400_000;

async function expiresSoon(certificateFile: string): Promise<boolean> {
  try {
    const cert = new X509Certificate(await readFile(certificateFile));
    return new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_DAYS * DAY;
  } catch {
    return true;
  }
}

/**
 * The workers' DTLS certificate: ECDSA P-256 signed with SHA-256 (mediasoup 3.8.4 would make a SHA-1 one itself),
 * kept in `dir` and made again a month before it expires. Node can read certificates but not make them; the
 * `openssl` command (from the same OpenSSL the worker links) does. Browsers learn the fingerprint per call, so
 * a new certificate affects only calls set up after it.
 */
export async function dtlsCertificate(dir: string): Promise<CertificateFiles> {
  const files = { certificateFile: path.join(dir, 'dtls-cert.pem'), privateKeyFile: path.join(dir, 'dtls-key.pem') };
  if (!(await expiresSoon(files.certificateFile))) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Written beside and renamed, so a crash never leaves a key without its certificate.
  const tmp = { cert: `${files.certificateFile}.tmp`, key: `${files.privateKeyFile}.tmp` };
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-sha256', '-nodes',
    '-days', String(VALID_DAYS), '-subj', '/CN=teamspace-sfu', '-keyout', tmp.key, '-out', tmp.cert,
  ]);
  await rename(tmp.key, files.privateKeyFile);
  await rename(tmp.cert, files.certificateFile);
  return files;
}
