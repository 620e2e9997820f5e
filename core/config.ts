import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const duration = z.coerce.number().int().positive();
const base64Key = z
  .string()
  .trim()
  .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)');

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const port = z.coerce.number().int().min(1).max(65535);
const list = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((item) => item.trim()).filter(Boolean));

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  WEB_CLIENT_DIR: z.string().min(1).default(fileURLToPath(new URL('../e2e/app/dist', import.meta.url))),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  JWT_SECRET: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: duration.default(900),
  REFRESH_TOKEN_TTL_DAYS: duration.default(30),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean)),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 512kb or 1mb').default('1mb'),
  AUTH_RATE_LIMIT: z.coerce.number().int().positive().default(20),
  AUTH_RATE_WINDOW_SECONDS: duration.default(60),
  CHANNELS_PER_HOUR_PER_USER: z.coerce.number().int().positive().default(30),
  CHANNELS_PER_HOUR_PER_GROUP: z.coerce.number().int().positive().default(100),
  DMS_PER_HOUR_PER_USER: z.coerce.number().int().positive().default(30),
  TRUST_PROXY: z.string().default('loopback'),
  METRICS_TOKEN: z.string().min(16).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ENCRYPTION_KEY: base64Key.optional(),
  ENCRYPTION_OLD_KEYS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(base64Key)),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  COLLAB_MAX_UPDATE_BYTES: z.coerce.number().int().positive().default(2 * 1024 * 1024),
  COLLAB_MAX_DOCUMENT_BYTES: z.coerce.number().int().positive().default(16 * 1024 * 1024),
  COLLAB_USER_BYTES_PER_MINUTE: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  COLLAB_GROUP_BYTES_PER_MINUTE: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  COLLAB_MESSAGES_PER_SECOND: z.coerce.number().int().positive().default(300),
  COLLAB_PRESENCE_MAX_BYTES: z.coerce.number().int().min(256).default(4096),
  COLLAB_PRESENCE_PER_SECOND: z.coerce.number().int().positive().default(10),
  COLLAB_CHAT_LIVE_MESSAGES: z.coerce.number().int().min(2).default(1000),
  COLLAB_CHAT_LIVE_CHARACTERS: z.coerce.number().int().positive().default(500_000),
  COLLAB_CHAT_SEGMENT_MESSAGES: z.coerce.number().int().positive().default(500),
  COLLAB_CHAT_GENERATION_KEEP_DAYS: z.coerce.number().int().positive().default(30),
  COLLAB_COMPACT_AFTER: z.coerce.number().int().positive().default(500),
  COLLAB_COMPACT_AFTER_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  DATA_RETENTION_DAYS: z.coerce.number().positive().optional(),
  RETENTION_INTERVAL_SECONDS: duration.default(3600),
  RETENTION_BATCH: z.coerce.number().int().positive().default(500),
  MEDIASOUP_WORKER_BIN: z.string().optional(),
  SFU_WORKERS: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
  RTC_LISTEN_IP: z.union([z.ipv4(), z.ipv6()]).default('0.0.0.0'),
  RTC_ANNOUNCED_IP: z.string().min(1).optional(),
  RTC_MIN_PORT: port.default(40000),
  RTC_MAX_PORT: port.default(49999),
  RTC_ENABLE_TCP: flag.default(true),
  SFU_MAX_PEERS_PER_ROOM: z.coerce.number().int().positive().default(50),
  SFU_MAX_PRODUCERS_PER_PEER: z.coerce.number().int().min(1).max(16).default(4),
  SFU_REQUESTS_PER_SECOND: z.coerce.number().int().positive().default(30),
  SFU_USER_REQUESTS_PER_SECOND: z.coerce.number().int().positive().default(50),
  SFU_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().positive().default(4),
  SFU_MAX_PEERS_PER_USER_PER_ROOM: z.coerce.number().int().positive().default(2),
  SFU_MAX_ROOMS_PER_USER: z.coerce.number().int().positive().default(2),
  SFU_MAX_TRANSPORTS_PER_USER: z.coerce.number().int().positive().default(8),
  TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TURN_URIS: list.pipe(z.array(z.string().regex(/^turns?:[^\s]+$/, 'must be turn: or turns: URIs'))),
  TURN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400, 'at most a day: coturn sets no upper bound').default(3600),
  // An upload is held in memory while it is checked, and PostgreSQL keeps a value under 1 GB.
  FILE_MAX_BYTES: z.coerce.number().int().positive().max(512 * 1024 * 1024).default(20 * 1024 * 1024),
  FILE_MAX_PAGES: z.coerce.number().int().positive().default(200),
  AI_ENABLED: flag.default(true),
  CHROMA_URL: z.url({ protocol: /^https?$/ }).optional(),
  MODELS_DIR: z.string().min(1).optional(),
  EMBEDDING_MODEL: z.string().regex(/^[\w.-]+(\/[\w.-]+)?$/, 'a model id such as Xenova/all-MiniLM-L6-v2').default('Xenova/all-MiniLM-L6-v2'),
  EMBEDDING_DTYPE: z.enum(['q8', 'fp32']).default('q8'),
  EMBEDDING_BATCH: z.coerce.number().int().min(1).max(256).default(16),
  OLLAMA_HOST: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:11434'),
  OLLAMA_MODEL: z.string().min(1).default('llama3.2'),
  OLLAMA_NUM_CTX: z.coerce.number().int().min(512).max(131_072).default(4096),
  AI_WORKER: z.enum(['in-process', 'none']).default('in-process'),
  // Where `npm run ai:worker` serves its /health and /metrics (0: any free port, logged); unset: it serves none.
  AI_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  AI_INDEX_DEBOUNCE_MS: z.coerce.number().int().min(0).default(2000),
  AI_SWEEP_INTERVAL_SECONDS: duration.default(21_600),
  ADMIN_SESSION_IDLE_SECONDS: duration.default(1800),
  ADMIN_SESSION_MAX_SECONDS: duration.default(43_200),
  // The first superuser, made at start when there is none (all three, or none).
  ADMIN_USERNAME: z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/, '3-32 letters, digits, _ . -').optional(),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(10).max(256).optional(),
  // A licence key is checked at start, not here: a bad one runs the server in open-source mode, never stops it.
  LICENSE_KEY: z.string().optional(),
  LICENSE_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key: 32 bytes in base64url (npm run license:keypair prints one)')
    .optional(),
  LICENSE_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(14),
}).refine((env) => env.RTC_MIN_PORT <= env.RTC_MAX_PORT, {
  path: ['RTC_MAX_PORT'], message: 'must not be below RTC_MIN_PORT',
}).refine((env) => new Set([env.ADMIN_USERNAME, env.ADMIN_EMAIL, env.ADMIN_PASSWORD].map((v) => v === undefined)).size === 1, {
  path: ['ADMIN_USERNAME'], message: 'ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD go together: set all three or none',
});

export type Env = z.infer<typeof EnvSchema>;
export type Config = Omit<Env, 'JWT_SECRET' | 'ENCRYPTION_KEY' | 'MODELS_DIR'> & {
  JWT_SECRET: string;
  ENCRYPTION_KEY: string;
  MODELS_DIR: string;
};

export class ConfigError extends Error {}

/** A secret strong enough to sign tokens: long, and not an obvious placeholder. */
function weakSecretReason(secret: string): string | undefined {
  if (secret.length < 32) return 'JWT_SECRET must be at least 32 characters';
  if (new Set(secret).size < 10) return 'JWT_SECRET is too repetitive';
  if (/change.?me|secret|example|password/i.test(secret)) return 'JWT_SECRET looks like a placeholder';
  return undefined;
}

/** Outside production, a random secret made once and kept under DATA_DIR, so it survives restarts. */
function developmentSecret(dataDir: string, name: string, make: () => string): string {
  const file = path.join(dataDir, name);
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    secret = make();
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  }
  if (!secret) throw new ConfigError(`invalid configuration:\n  ${file} is empty: delete it to make a new one`);
  return secret;
}

/** An empty variable (e.g. `JWT_SECRET=` from an unset compose variable) means unset, never an empty value. */
function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
}

/** Reads and validates the configuration; throws a ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  let secret = cfg.JWT_SECRET;
  if (secret !== undefined) {
    const weak = weakSecretReason(secret);
    if (weak) throw new ConfigError(`invalid configuration:\n  ${weak}`);
  } else if (cfg.NODE_ENV === 'production') {
    throw new ConfigError('invalid configuration:\n  JWT_SECRET is required when NODE_ENV=production');
  } else {
    secret = developmentSecret(cfg.DATA_DIR, 'jwt-secret', () => randomBytes(48).toString('base64url'));
  }
  if (!cfg.ENCRYPTION_KEY && cfg.NODE_ENV === 'production') {
    throw new ConfigError('invalid configuration:\n  ENCRYPTION_KEY is required when NODE_ENV=production');
  }
  const encryptionKey =
    cfg.ENCRYPTION_KEY ?? developmentSecret(cfg.DATA_DIR, 'encryption-key', () => randomBytes(32).toString('base64'));
  const dataDir = path.resolve(cfg.DATA_DIR);
  return {
    ...cfg, DATA_DIR: dataDir, MODELS_DIR: path.resolve(cfg.MODELS_DIR ?? path.join(dataDir, 'models')),
    JWT_SECRET: secret, ENCRYPTION_KEY: encryptionKey,
  };
}
