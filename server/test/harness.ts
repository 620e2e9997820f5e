// Starts real servers for integration tests: on embedded PGlite, or with TEST_DB=postgres on a fresh database
// created inside DATABASE_URL's server and dropped afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { endpoints } from '../../schema/index.ts';
import { createLogger, createScratchDatabase, loadConfig, type Logger } from '../../core/index.ts';
import { startServer, type RunningServer } from '../index.ts';

export const testDb = process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite';

const routes = Object.values(endpoints).map((e) => ({
  endpoint: e,
  pattern: new RegExp(`^${e.path.replace(/:\w+/g, '[^/]+')}$`),
}));

/** Every successful answer of a documented endpoint must match its response schema in DESIGN's contract. */
function checkContract(method: string, urlPath: string, status: number, body: unknown): void {
  const pathname = urlPath.split('?')[0]!;
  const route = routes.find((r) => r.endpoint.method === method.toLowerCase() && r.pattern.test(pathname));
  if (!route?.endpoint.response) return;
  const result = route.endpoint.response.safeParse(body);
  if (!result.success) {
    throw new Error(`${method} ${urlPath} (${status}) broke its response schema: ${result.error.message}`);
  }
}

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
  /** A multipart/form-data body (fetch sets its content type with the boundary). */
  multipart?: FormData;
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
  /** Stops this server and starts another on the same storage (with `env` changed), as after an upgrade. */
  restart(env?: Record<string, string>): Promise<TestServer>;
  /** Stops the server and deletes its storage. */
  close(): Promise<void>;
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

interface Storage {
  dataDir: string;
  jwtSecret: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

let counter = 0;

async function newStorage(env: Record<string, string>): Promise<Storage> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-test-'));
  const adminUrl = process.env.DATABASE_URL;
  if (testDb === 'postgres' && !adminUrl) throw new Error('TEST_DB=postgres needs DATABASE_URL');
  // A second instance on the same database passes that database's URL in `env`.
  const scratch =
    testDb === 'postgres' && !env.DATABASE_URL ? await createScratchDatabase(adminUrl!, 'teamspace_test') : undefined;
  return {
    dataDir,
    jwtSecret: randomBytes(32).toString('hex'),
    databaseUrl: scratch?.url,
    async drop() {
      await scratch?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `log`: where the server logs (e.g. a logger writing to a stream the test reads); by default TEST_LOG_LEVEL or none. */
export async function startTestServer(
  env: Record<string, string> = {},
  reuse?: Storage,
  log: Logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
): Promise<TestServer> {
  const storage = reuse ?? (await newStorage(env));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: storage.dataDir,
    JWT_SECRET: storage.jwtSecret,
    AUTH_RATE_LIMIT: '100000',
    // Calls need mediasoup workers: only the tests of calls start them.
    SFU_WORKERS: '0',
    // Likewise the AI part (embedder, Chroma): only its tests turn it on.
    AI_ENABLED: 'false',
    RTC_LISTEN_IP: '127.0.0.1',
    ...(storage.databaseUrl ? { DATABASE_URL: storage.databaseUrl } : {}),
    ...env,
  });
  const server = await startServer(config, log);

  async function call(method: string, urlPath: string, options: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | FormData | undefined;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.multipart) {
      body = options.multipart;
    } else if (options.raw !== undefined) {
      if (options.contentType) headers['content-type'] = options.contentType;
      body = options.raw;
    }
    const res = await fetch(server.url + urlPath, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (res.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
    if (res.ok) checkContract(method, urlPath, res.status, parsed);
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
    dataDir: storage.dataDir,
    databaseUrl: config.DATABASE_URL,
    jwtSecret: storage.jwtSecret,
    call,
    signUp,
    async restart(changed = {}) {
      await server.close();
      return startTestServer({ ...env, ...changed }, storage, log);
    },
    async close() {
      await server.close();
      await storage.drop();
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

export interface Team {
  groupId: string;
  owner: TestUser;
  member: TestUser;
  viewer: TestUser;
  /** Registered, but in no group with the others. */
  outsider: TestUser;
  /** One channel of each type asked for, by type. */
  channels: Record<string, string>;
}

/** A group with an owner, a member and a viewer, an outsider, and one channel of each given type. */
export async function setUpTeam(server: TestServer, channelTypes: string[] = []): Promise<Team> {
  const [owner, member, viewer, outsider] = await Promise.all(
    ['owner', 'member', 'viewer', 'outsider'].map((p) => server.signUp(p)),
  );
  const group = await server.call('POST', '/api/groups', { token: owner!.token, json: { name: 'Team' } });
  if (group.status !== 201) throw new Error(`group: ${group.status}`);
  for (const [user, role] of [[member!, 'member'], [viewer!, 'viewer']] as const) {
    const res = await server.call('POST', `/api/groups/${group.body.id}/members`, {
      token: owner!.token, json: { user_id: user.id, role },
    });
    if (res.status !== 201) throw new Error(`member: ${res.status}`);
  }
  const channels: Record<string, string> = {};
  for (const type of channelTypes) {
    const res = await server.call('POST', `/api/groups/${group.body.id}/channels`, {
      token: owner!.token, json: { name: `${type.toLowerCase()}-${++counter}`, type },
    });
    if (res.status !== 201) throw new Error(`channel: ${res.status}`);
    channels[type] = res.body.id;
  }
  return { groupId: group.body.id, owner: owner!, member: member!, viewer: viewer!, outsider: outsider!, channels };
}
