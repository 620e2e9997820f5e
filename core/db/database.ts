import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { lockForProcess } from './process-lock.ts';
import { migrate } from '../../schema/index.ts';
import type { Logger } from '../logger.ts';
import { shareSession } from './embedded-session.ts';
import { pgliteSubscribe, postgresSubscribe, type Subscribe } from './notifications.ts';

export interface Database {
  /** For requests, access checks and jobs. */
  pool: pg.Pool;
  /**
   * For document storage (appends, loads, compaction), kept apart so a busy document never makes requests wait:
   * on PGlite a lower-priority lane of the one session, on PostgreSQL connections of its own.
   */
  storage: pg.Pool;
  kind: 'postgres' | 'pglite';
  subscribe: Subscribe;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize: number;
}

type Opened = Pick<Database, 'pool' | 'storage' | 'subscribe'> & { stop(): Promise<void> };

/**
 * Embedded PostgreSQL: PGlite stored under DATA_DIR, reached by `pg` through in-process streams so the same code
 * serves both setups. PGlite runs one session, so each pool holds one connection and the session runs one
 * exchange at a time, requests before storage (see embedded-session.ts).
 */
async function openEmbedded(dataDir: string, log: Logger): Promise<Opened> {
  const storage = path.join(dataDir, 'pglite');
  await mkdir(storage, { recursive: true });
  // PGlite is a single process's database: a second process on the same files would corrupt them.
  const unlock = lockForProcess(path.join(dataDir, 'pglite.pid'), `the embedded database in ${storage}`);
  let db: PGlite;
  try {
    db = await PGlite.create(storage);
  } catch (err) {
    unlock();
    throw err;
  }
  log.info({ storage }, 'embedded database (PGlite) started');
  const session = shareSession(db);
  const lane = (name: 'interactive' | 'storage') => new pg.Pool({
    stream: session.stream(name), user: 'postgres', database: 'postgres', max: 1, connectionTimeoutMillis,
  });
  const pools = { pool: lane('interactive'), storage: lane('storage') };
  return {
    ...pools,
    subscribe: pgliteSubscribe([pools.pool, pools.storage]),
    async stop() {
      await Promise.all([pools.pool.end(), pools.storage.end()]);
      await db.close();
      unlock();
    },
  };
}

/** PostgreSQL: storage gets half as many connections again as requests, so it can never take all of theirs. */
function openPostgres(url: string, poolSize: number, log: Logger): Opened {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, min: Math.min(KEPT_OPEN, poolSize), connectionTimeoutMillis });
  const storageSize = Math.max(2, Math.ceil(poolSize / 2));
  const storage = new pg.Pool({ connectionString: url, max: storageSize, min: KEPT_OPEN, connectionTimeoutMillis });
  return {
    pool,
    storage,
    subscribe: postgresSubscribe(url, log),
    stop: async () => {
      await Promise.all([pool.end(), storage.end()]);
    },
  };
}

/** Connects (PostgreSQL when a URL is given, else embedded PGlite) and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions, log: Logger): Promise<Database> {
  const { pool, storage, subscribe, stop } = options.url
    ? openPostgres(options.url, options.poolSize, log)
    : await openEmbedded(options.dataDir, log);
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  for (const p of [pool, storage]) p.on('error', (err) => log.error({ err }, 'database connection error'));
  try {
    const migrated = pool.connect().then(async (client) => {
      try {
        await migrate(client, log);
      } finally {
        client.release();
      }
    });
    // The request pool's after the migration, whose connection is one of its kept ones.
    await Promise.all([migrated.then(() => openAhead(pool)), openAhead(storage)]);
  } catch (err) {
    await stop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return { pool, storage, kind: options.url ? 'postgres' : 'pglite', subscribe, close: () => (closing ??= stop()) };
}

// Connections each PostgreSQL pool opens at start and keeps through quiet spells (the others close after 10 s
// idle): a new one costs a TCP and authentication handshake (several ms on loopback) that the first request or
// document load after a start would otherwise wait for. Two: one for a request or load, one for what runs beside it.
const KEPT_OPEN = 2;

/** Opens the pool's kept connections now, in parallel (none on PGlite, whose lanes cost no handshake). */
async function openAhead(pool: pg.Pool): Promise<void> {
  const clients = await Promise.all(Array.from({ length: pool.options.min ?? 0 }, () => pool.connect()));
  for (const client of clients) client.release();
}

// A request waits at most this long for a connection; on PGlite, also what turns a query that was wrongly sent
// to the pool from inside a transaction (which would wait forever for the one connection) into an error.
const connectionTimeoutMillis = 10_000;

export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Runs `work` in one transaction on one connection, rolling back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
