import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockForProcess } from './process-lock.ts';
import { migrate } from '../../schema/index.ts';
import type { Logger } from '../logger.ts';
import { pgliteSubscribe, postgresSubscribe, type Subscribe } from './notifications.ts';

export interface Database {
  pool: pg.Pool;
  kind: 'postgres' | 'pglite';
  subscribe: Subscribe;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize: number;
}

/**
 * Embedded PostgreSQL: PGlite stored under DATA_DIR, served over the wire protocol on a private unix socket so
 * the same `pg` code serves both setups. PGlite runs one session, so the pool holds one connection: a second
 * connection would share the first one's transaction.
 */
async function openEmbedded(
  dataDir: string,
  log: Logger,
): Promise<{ pool: pg.Pool; subscribe: Subscribe; stop(): Promise<void> }> {
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
  const socketDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-pg-'));
  const server = new PGLiteSocketServer({ db, path: path.join(socketDir, '.s.PGSQL.5432') });
  await server.start();
  log.info({ storage }, 'embedded database (PGlite) started');
  const pool = new pg.Pool({
    host: socketDir, port: 5432, user: 'postgres', database: 'postgres', max: 1, connectionTimeoutMillis,
  });
  return {
    pool,
    subscribe: pgliteSubscribe(pool),
    async stop() {
      await pool.end();
      await server.stop();
      await db.close();
      await rm(socketDir, { recursive: true, force: true });
      unlock();
    },
  };
}

/** Connects (PostgreSQL when a URL is given, else embedded PGlite) and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions, log: Logger): Promise<Database> {
  let pool: pg.Pool;
  let stop: () => Promise<void>;
  let subscribe: Subscribe;
  let kind: Database['kind'];
  if (options.url) {
    pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis });
    stop = () => pool.end();
    subscribe = postgresSubscribe(options.url, log);
    kind = 'postgres';
  } else {
    ({ pool, stop, subscribe } = await openEmbedded(options.dataDir, log));
    kind = 'pglite';
  }
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  pool.on('error', (err) => log.error({ err }, 'database connection error'));
  try {
    const client = await pool.connect();
    try {
      await migrate(client, log);
    } finally {
      client.release();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return { pool, kind, subscribe, close: () => (closing ??= stop()) };
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
