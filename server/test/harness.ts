// Starts real servers for integration tests: on embedded PGlite, or with TEST_DB=postgres on a fresh database
// created inside DATABASE_URL's server and dropped afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger, createScratchDatabase, loadConfig, startServer, type RunningServer } from '../index.ts';

export const testDb = process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite';

export interface Response<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  /** A raw body, sent as is with `contentType`. */
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  /** The PostgreSQL URL in use; undefined on PGlite. */
  databaseUrl: string | undefined;
  jwtSecret: string;
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<Response<T>>;
  /** Registers a fresh user and logs in. */
  signUp(prefix?: string): Promise<TestUser>;
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

let counter = 0;

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-test-'));
  // A second instance on the same database passes that database's URL in `env`.
  const adminUrl = process.env.DATABASE_URL;
  if (testDb === 'postgres' && !adminUrl) throw new Error('TEST_DB=postgres needs DATABASE_URL');
  const scratch =
    testDb === 'postgres' && !env.DATABASE_URL ? await createScratchDatabase(adminUrl!, 'teamspace_test') : undefined;
  const jwtSecret = randomBytes(32).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    JWT_SECRET: jwtSecret,
    AUTH_RATE_LIMIT: '100000',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...env,
  });
  const server = await startServer(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));

  async function call(method: string, urlPath: string, options: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.raw !== undefined) {
      if (options.contentType) headers['content-type'] = options.contentType;
      body = options.raw;
    }
    const res = await fetch(server.url + urlPath, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (res.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
    return { status: res.status, body: parsed, headers: res.headers };
  }

  async function signUp(prefix = 'user'): Promise<TestUser> {
    const username = `${prefix}${process.pid}x${++counter}`;
    const email = `${username}@example.test`;
    const password = 'a long enough passphrase';
    const reg = await call('POST', '/api/auth/register', { json: { username, email, password } });
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
    const tok = await call('POST', '/api/auth/token', { form: { username, password } });
    if (tok.status !== 200) throw new Error(`login failed: ${tok.status} ${JSON.stringify(tok.body)}`);
    return {
      id: reg.body.id, username, email, password, token: tok.body.access_token, refreshToken: tok.body.refresh_token,
    };
  }

  return {
    ...server,
    dataDir,
    databaseUrl: config.DATABASE_URL,
    jwtSecret,
    call,
    signUp,
    async close() {
      await server.close();
      await scratch?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts the DESIGN.md error shape and returns the error's code. */
export function errorCode(res: Response): string {
  const err = res.body?.error;
  if (!err || typeof err.code !== 'string' || typeof err.message !== 'string') {
    throw new Error(`not an error body: ${res.status} ${JSON.stringify(res.body)}`);
  }
  if (/\n\s+at /.test(err.message)) throw new Error(`stack trace leaked: ${err.message}`);
  return err.code;
}

/**
 * Retries `check` until it stops throwing, for effects that cross a connection (a NOTIFY reaching another
 * connection lands a few milliseconds after the commit). Gives up, rethrowing, after `ms`.
 */
export async function eventually<T>(check: () => Promise<T>, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
