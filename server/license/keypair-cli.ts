// `npm run license:keypair -- --out-dir <dir>`: a new Ed25519 key pair for signing licences. Writes
// license-private.pem (mode 600, never overwritten) and license-public.txt, and prints the public key.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateLicenseKeyPair } from './key.ts';

let outDir: string | undefined;
try {
  outDir = parseArgs({ options: { 'out-dir': { type: 'string' } } }).values['out-dir'];
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
}
if (!outDir) {
  process.stderr.write('usage: npm run license:keypair -- --out-dir <dir outside the repository>\n');
  process.exit(2);
}
const { privateKeyPem, publicKey } = generateLicenseKeyPair();
const privateFile = path.resolve(outDir, 'license-private.pem');
try {
  writeFileSync(privateFile, privateKeyPem, { mode: 0o600, flag: 'wx' });
} catch (err) {
  process.stderr.write(`cannot write ${privateFile}: ${(err as Error).message}\n`);
  process.exit(1);
}
writeFileSync(path.resolve(outDir, 'license-public.txt'), `${publicKey}\n`);
process.stdout.write(`${publicKey}\n`);
process.stderr.write(
  `private key: ${privateFile} (keep it secret and out of the repository)\n` +
    `public key: set LICENSE_PUBLIC_KEY=${publicKey} on servers that should accept keys it signs\n`,
);
