// `npm run license:generate -- --private-key <file> --licensee <name> --expires <YYYY-MM-DD> --seats <n>
// [--features a,b]`: prints a signed licence key on stdout (what it grants on stderr).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LicensePayload, privateKeyFromPem, signLicense } from './key.ts';

const usage =
  'usage: npm run license:generate -- --private-key <file> --licensee <name> --expires <YYYY-MM-DD> --seats <n> [--features a,b]';

const Args = z.object({
  'private-key': z.string().min(1),
  licensee: z.string(),
  expires: z.string(),
  seats: z.coerce.number(),
  features: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((f) => f.trim()).filter(Boolean)),
});

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      'private-key': { type: 'string' }, licensee: { type: 'string' }, expires: { type: 'string' },
      seats: { type: 'string' }, features: { type: 'string' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
const args = Args.safeParse(values);
if (!args.success) fail(args.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
const { 'private-key': keyFile, ...fields } = args.data;
const payload = LicensePayload.safeParse(fields);
if (!payload.success) fail(payload.error.issues.map((i) => `--${i.path[0]?.toString()}: ${i.message}`).join('\n'));

let privateKey;
try {
  privateKey = privateKeyFromPem(readFileSync(keyFile, 'utf8'));
} catch (err) {
  fail(`cannot read the private key ${keyFile}: ${(err as Error).message}`);
}
process.stdout.write(`${signLicense(payload.data, privateKey)}\n`);
process.stderr.write(`signed: ${JSON.stringify(payload.data)}\n`);
