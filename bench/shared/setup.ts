// What the benchmarks need to set up: their knobs, our server's environment, plain HTTP calls to its API, a user
// with a group and channels.
import { randomBytes } from 'node:crypto';

/** A positive integer from the environment (a benchmark knob), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** Our server's environment in a benchmark: production mode, fresh secrets, no limits on the load itself. */
export function serverEnv(dataDir: string, databaseUrl: string | undefined, extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AUTH_RATE_LIMIT: '1000000',
    // Tokens must outlive every round, whatever BENCH_DURATION is.
    ACCESS_TOKEN_TTL_SECONDS: '86400',
    ...extra,
  };
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return env;
}

/** One API call; throws on a non-2xx answer; returns the body text. */
export async function call(
  url: string,
  init: { method?: string; token?: string; json?: unknown; form?: Record<string, string> } = {},
): Promise<string> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text}`);
  return text;
}

/** Runs `work` over `items`, at most `concurrency` at a time, keeping the results in order. */
export async function inBatches<T, R>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += concurrency) {
    results.push(...(await Promise.all(items.slice(i, i + concurrency).map((item, j) => work(item, i + j)))));
  }
  return results;
}

const callJson = async (url: string, init: Parameters<typeof call>[1] = {}) => JSON.parse(await call(url, init));

/** Registers a user, logs in, creates a group with `channels` channels of `type`; returns the token and channel ids. */
export async function setUp(base: string, type: 'DOC' | 'VOICE' | 'TEXT', channels: number): Promise<{ token: string; channelIds: string[] }> {
  const username = `${type.toLowerCase()}bench${process.pid}`;
  const password = 'a long enough benchmark passphrase';
  await call(`${base}/api/auth/register`, { method: 'POST', json: { username, email: `${username}@example.test`, password } });
  const { access_token: token } = await callJson(`${base}/api/auth/token`, { method: 'POST', form: { username, password } });
  const group = await callJson(`${base}/api/groups`, { method: 'POST', token, json: { name: `${type} bench` } });
  const channelIds = await inBatches([...Array(channels).keys()], 8, async (i) => {
    const channel = await callJson(`${base}/api/groups/${group.id}/channels`, {
      method: 'POST', token, json: { name: `${type.toLowerCase()}-${i}`, type },
    });
    return channel.id as string;
  });
  return { token, channelIds };
}
