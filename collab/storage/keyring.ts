import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  keyId: string;
  payload: Buffer;
}

/**
 * AES-256-GCM under a current key, with older keys kept for reading. A key's id is derived from the key, so
 * records name their key without anyone assigning ids. The associated data binds a record to its document:
 * a row copied under another document's name fails to decrypt instead of leaking into it.
 */
export interface Keyring {
  currentKeyId: string;
  seal(plaintext: Uint8Array, associatedData: string): Sealed;
  open(sealed: Sealed, associatedData: string): Uint8Array;
}

export class UnknownKeyError extends Error {}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** A keyring from base64 keys, as ENCRYPTION_KEY and ENCRYPTION_OLD_KEYS hold them. */
export function keyringFromBase64(current: string, older: string[] = []): Keyring {
  return createKeyring(Buffer.from(current, 'base64'), older.map((k) => Buffer.from(k, 'base64')));
}

export function createKeyring(current: Buffer, older: Buffer[] = []): Keyring {
  for (const key of [current, ...older]) {
    if (key.length !== 32) throw new Error('encryption keys must be 32 bytes (base64 of 32 random bytes)');
  }
  // Key objects made once: given raw bytes, every cipher would import its key again.
  const keys = new Map([current, ...older].map((k) => [keyIdOf(k), createSecretKey(k)]));
  const currentKeyId = keyIdOf(current);
  const currentKey = keys.get(currentKeyId)!;
  return {
    currentKeyId,
    seal(plaintext, associatedData) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { keyId: currentKeyId, payload: Buffer.concat([iv, body, cipher.getAuthTag()]) };
    },
    open({ keyId, payload }, associatedData) {
      const key = keys.get(keyId);
      if (!key) throw new UnknownKeyError(`no encryption key with id ${keyId} is configured`);
      const iv = payload.subarray(0, IV_BYTES);
      const tag = payload.subarray(payload.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(payload.subarray(IV_BYTES, payload.length - TAG_BYTES)), decipher.final()]);
    },
  };
}
