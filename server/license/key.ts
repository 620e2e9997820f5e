// The licence key format: base64url(JSON payload) "." base64url(Ed25519 signature over the first part's ASCII),
// like a JWS without its header: one algorithm, nothing to negotiate.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** A feature name a licence may grant, e.g. `sso`: lowercase words joined by underscores. */
export const FeatureName = z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'lowercase letters, digits and _ (e.g. sso)');

/** A calendar date, YYYY-MM-DD, that is a real day. */
const Day = z.iso.date();

/** What a licence says. Fields a newer issuer adds are ignored (they are signed, so they cannot be forged). */
export const LicensePayload = z.object({
  licensee: z.string().trim().min(1).max(200),
  /** The last day the licence is valid (UTC). */
  expires: Day,
  /** Active people (not bots) the installation may have. */
  seats: z.number().int().positive().max(10_000_000),
  features: z.array(FeatureName).max(100),
});
export type LicensePayload = z.infer<typeof LicensePayload>;

/** The built-in key, a public key override and `license:keypair` output: the raw 32-byte Ed25519 key, base64url. */
export const PublicKeyText = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key: 32 bytes in base64url (npm run license:keypair prints one)');

export function publicKeyFromText(text: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: PublicKeyText.parse(text) }, format: 'jwk' });
}

export function publicKeyText(key: KeyObject): string {
  const { x } = key.export({ format: 'jwk' });
  if (!x) throw new Error('not an Ed25519 public key');
  return x;
}

/** A private key from its PEM (PKCS#8) text; anything but an Ed25519 key is refused. */
export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 private key (${key.asymmetricKeyType})`);
  return key;
}

export function generateLicenseKeyPair(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: publicKeyText(publicKey),
  };
}

export function signLicense(payload: LicensePayload, privateKey: KeyObject): string {
  const body = Buffer.from(JSON.stringify(LicensePayload.parse(payload))).toString('base64url');
  return `${body}.${sign(null, Buffer.from(body), privateKey).toString('base64url')}`;
}

export type Verified = { ok: true; payload: LicensePayload } | { ok: false; reason: string };

const base64url = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a key's shape, then its signature, and only then reads what it says. Whitespace is ignored (keys get
 * wrapped when pasted). The reason is for the operator: it never includes the key itself.
 */
export function verifyLicense(key: string, publicKey: KeyObject): Verified {
  const parts = key.replace(/\s+/g, '').split('.');
  const [body, signature] = parts;
  if (parts.length !== 2 || !body || !signature || !base64url.test(body) || !base64url.test(signature)) {
    return { ok: false, reason: 'malformed: expected two base64url parts joined by "."' };
  }
  const signatureBytes = Buffer.from(signature, 'base64url');
  if (signatureBytes.length !== 64) return { ok: false, reason: 'malformed: the signature is not 64 bytes' };
  if (!verify(null, Buffer.from(body), publicKey, signatureBytes)) {
    return { ok: false, reason: 'bad signature: the key was altered or signed by another key' };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed: the signed payload is not JSON' };
  }
  const payload = LicensePayload.safeParse(json);
  if (!payload.success) {
    const problems = payload.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`);
    return { ok: false, reason: `invalid payload: ${problems.join('; ')}` };
  }
  return { ok: true, payload: payload.data };
}
