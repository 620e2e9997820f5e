import { createHmac } from 'node:crypto';

export interface TurnSettings {
  secret: string;
  uris: string[];
  ttlSeconds: number;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  ttl: number;
  uris: string[];
}

/**
 * Time-limited TURN credentials in coturn's REST-API scheme (`use-auth-secret`): the username is
 * `<expiry unix seconds>:<user id>` and the credential base64(HMAC-SHA1(secret, username)). coturn checks the
 * expiry but sets no upper bound, so the TTL is ours to keep short.
 */
export function turnCredentials(settings: TurnSettings, userId: string, now = Date.now()): TurnCredentials {
  const username = `${Math.floor(now / 1000) + settings.ttlSeconds}:${userId}`;
  const credential = createHmac('sha1', settings.secret).update(username).digest('base64');
  return { username, credential, ttl: settings.ttlSeconds, uris: settings.uris };
}
